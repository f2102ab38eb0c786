/**
 * R12: update one block of ≤ 50 phones of one type to one version. The block approves the firmware for exactly
 * these phones (R7/R11: provisioning offers it only while the target is set), NOTIFYs each registered phone,
 * waits until each reports the target version or the time is up, and returns an outcome per phone:
 *   updated          reported the target version
 *   already-current  ran the target already; not notified (a retried block leaves it alone)
 *   failed-download  started fetching the firmware and did not finish
 *   no-answer        answered the NOTIFY, then never came back (or downloaded and never came back)
 *   wrong-version    came back (new registration or provisioning after its download) on another version
 *   unreachable      no live SIP registration, or the NOTIFY was never answered / refused
 * Safe to retry: heartbeat details carry who was notified; a retry waits for them without notifying again.
 */
import { stat } from 'node:fs/promises';
import { ApplicationFailure, Context } from '@temporalio/activity';
import { appendJournal } from '../db/queries/journal.ts';
import {
  clearFirmwareTargets,
  type EdgePhone,
  findEdgePbx,
  findLocalFirmware,
  isAutoUpdateOn,
  listPhonesByIds,
  setFirmwareTargets,
} from '../db/queries/phones.ts';
import { compareVersions } from '../domain/versions.ts';
import { localFirmwarePath } from '../lib/store-paths.ts';
import type { PhoneEdge } from '../phones/edge.ts';
import { checkSyncEventOf } from '../phones/provisioning/vendors/index.ts';
import type { BlockInput, BlockResult, PhoneOutcome, PhoneResult } from './contracts.ts';
import type { ActivityDeps } from './deps.ts';

export const MAX_BLOCK_SIZE = 50;
export const DEFAULT_BLOCK_TIMEOUT_MS = 10 * 60_000;
const NOTIFY_PARALLELISM = 16;
const POLL_MS = 1_000;

/** Progress a block reports (Temporal heartbeat details); a retry resumes from it. */
export interface BlockProgress {
  /** When the first attempt started: firmware activity after it counts for this block. */
  since: string;
  /** Phones that answered a NOTIFY of this block. */
  notified: number[];
  updated: number;
  pending: number;
}

export interface BlockRun {
  previous: BlockProgress | undefined;
  heartbeat(progress: BlockProgress): void;
  signal: AbortSignal;
}

export type BlockEdge = Pick<PhoneEdge, 'sip' | 'changes'>;

function invalid(message: string): ApplicationFailure {
  return ApplicationFailure.create({ type: 'InvalidBlock', message, nonRetryable: true });
}

function sameVersion(a: string | null, b: string): boolean {
  return a !== null && compareVersions(a, b) === 0;
}

function latest(...dates: Array<Date | null>): Date | null {
  let best: Date | null = null;
  for (const d of dates) if (d && (!best || d > best)) best = d;
  return best;
}

/**
 * What became of a notified phone, judged from what the edge recorded since the block began; null while it may
 * still come back (before the deadline).
 */
export function judgeNotifiedPhone(
  p: Pick<
    EdgePhone,
    | 'installedVersion'
    | 'lastBootAt'
    | 'lastProvisionedAt'
    | 'firmwareFetchFile'
    | 'firmwareFetchStartedAt'
    | 'firmwareFetchCompletedAt'
    | 'firmwareFetchAbortedAt'
    | 'firmwareFetchBytes'
  >,
  since: Date,
  target: string,
  deadlinePassed: boolean,
): { outcome: PhoneOutcome; detail?: string } | null {
  if (sameVersion(p.installedVersion, target)) return { outcome: 'updated' };
  const started =
    p.firmwareFetchStartedAt && p.firmwareFetchStartedAt >= since ? p.firmwareFetchStartedAt : null;
  const completed =
    started && p.firmwareFetchCompletedAt && p.firmwareFetchCompletedAt >= started
      ? p.firmwareFetchCompletedAt
      : null;
  const back = latest(p.lastBootAt, p.lastProvisionedAt);
  if (completed && back && back > completed) {
    return {
      outcome: 'wrong-version',
      detail: `came back after the download on ${p.installedVersion ?? 'an unknown version'}`,
    };
  }
  if (!deadlinePassed) return null;
  if (started && !completed) {
    const aborted = p.firmwareFetchAbortedAt && p.firmwareFetchAbortedAt >= started;
    return {
      outcome: 'failed-download',
      detail: aborted
        ? `download of ${p.firmwareFetchFile} aborted after ${p.firmwareFetchBytes ?? 0} bytes`
        : `download of ${p.firmwareFetchFile} did not finish`,
    };
  }
  if (completed) return { outcome: 'no-answer', detail: 'downloaded the firmware and did not come back' };
  if (back && back >= since) {
    return {
      outcome: 'wrong-version',
      detail: `re-provisioned without fetching the firmware; still on ${p.installedVersion ?? 'an unknown version'}`,
    };
  }
  return { outcome: 'no-answer', detail: 'answered the NOTIFY but never fetched its provisioning' };
}

async function validate(
  deps: ActivityDeps,
  input: BlockInput,
): Promise<{ phones: EdgePhone[]; sipDomain: string }> {
  const ids = input.phoneIds;
  if (!Array.isArray(ids) || ids.length === 0) throw invalid('a block needs at least one phone');
  if (ids.length > MAX_BLOCK_SIZE)
    throw invalid(`a block has at most ${MAX_BLOCK_SIZE} phones (R12), got ${ids.length}`);
  if (!ids.every((id) => Number.isSafeInteger(id) && id > 0))
    throw invalid('phone ids must be positive integers');
  if (new Set(ids).size !== ids.length) throw invalid('phone ids must not repeat');
  if (typeof input.targetVersion !== 'string' || input.targetVersion.trim() === '') {
    throw invalid('targetVersion is required');
  }
  if (input.timeoutMs !== undefined && !(Number.isFinite(input.timeoutMs) && input.timeoutMs > 0)) {
    throw invalid('timeoutMs must be a positive number of milliseconds');
  }
  const pbx = await findEdgePbx(deps.db, input.pbxId);
  if (!pbx) throw invalid(`no PBX ${JSON.stringify(input.pbxId)}`);
  const phones = await listPhonesByIds(deps.db, input.pbxId, ids);
  const found = new Set(phones.map((p) => p.id));
  const missing = ids.filter((id) => !found.has(id));
  if (missing.length) throw invalid(`phones not on PBX ${input.pbxId}: ${missing.join(', ')}`);
  const other = phones.filter((p) => p.modelId !== input.modelId);
  if (other.length) {
    throw invalid(
      `phones not of type ${input.modelId}: ${other.map((p) => `${p.id} (${p.modelId})`).join(', ')}`,
    );
  }
  if (!(await isAutoUpdateOn(deps.db, input.pbxId, input.modelId))) {
    throw invalid(`Auto-Update is off for ${input.modelId} on PBX ${input.pbxId} (R7)`);
  }
  const local = await findLocalFirmware(deps.db, input.pbxId, input.modelId, input.targetVersion);
  if (!local)
    throw invalid(`PBX ${input.pbxId} holds no firmware ${input.targetVersion} for ${input.modelId}`);
  try {
    await stat(localFirmwarePath(deps.config, local));
  } catch {
    throw invalid(
      `the file of firmware ${input.targetVersion} for ${input.modelId} is missing from the store`,
    );
  }
  const byId = new Map(phones.map((p) => [p.id, p]));
  return { phones: ids.map((id) => byId.get(id) as EdgePhone), sipDomain: pbx.sipDomain };
}

async function mapLimit<T>(items: T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await fn(items[next++] as T);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}

export async function runBlockUpdate(
  deps: ActivityDeps,
  edge: BlockEdge,
  input: BlockInput,
  run: BlockRun,
): Promise<BlockResult> {
  const { phones, sipDomain } = await validate(deps, input);
  const target = input.targetVersion;
  const since = run.previous?.since ? new Date(run.previous.since) : new Date();
  const deadline = since.getTime() + (input.timeoutMs ?? DEFAULT_BLOCK_TIMEOUT_MS);
  const notifiedBefore = new Set(run.previous?.notified ?? []);
  const notified = new Set<number>(notifiedBefore);
  const results = new Map<number, Omit<PhoneResult, 'phoneId' | 'mac' | 'fromVersion'>>();
  const autoprov = deps.logs.autoprov(input.pbxId);
  const ids = phones.map((p) => p.id);
  const journal = (action: string, details: Record<string, unknown>) =>
    appendJournal(deps.db, deps.logs, {
      pbxId: input.pbxId,
      action,
      why: input.why ?? 'system',
      who: input.who ?? 'system',
      modelId: input.modelId,
      details: { targetVersion: target, rolloutId: input.rolloutId, ...details },
    });
  const progress = (): BlockProgress => ({
    since: since.toISOString(),
    notified: [...notified],
    updated: [...results.values()].filter((r) => r.outcome === 'updated').length,
    pending: phones.length - results.size,
  });

  // A phone on the target already is left alone, unless this block notified it before (then it was updated).
  for (const p of phones) {
    if (sameVersion(p.installedVersion, target)) {
      results.set(p.id, {
        outcome: notifiedBefore.has(p.id) ? 'updated' : 'already-current',
        reportedVersion: p.installedVersion,
      });
    }
  }
  const toUpdate = phones.filter((p) => !results.has(p.id));
  if (!run.previous) {
    await journal('phones.block-started', { phones: ids, toUpdate: toUpdate.length });
  }
  await setFirmwareTargets(
    deps.db,
    input.pbxId,
    toUpdate.map((p) => p.id),
    target,
    since,
  );
  run.heartbeat(progress());

  try {
    // NOTIFY every registered phone not notified by an earlier attempt of this block.
    const now = Date.now();
    await mapLimit(
      toUpdate.filter((p) => !notified.has(p.id)),
      NOTIFY_PARALLELISM,
      async (p) => {
        if (run.signal.aborted) return;
        if (!p.sipContact || !p.sipRegisteredUntil || p.sipRegisteredUntil.getTime() < now) {
          results.set(p.id, {
            outcome: 'unreachable',
            reportedVersion: p.installedVersion,
            detail: p.sipContact ? 'SIP registration expired' : 'no SIP registration',
          });
          return;
        }
        const sent = await edge.sip.notify({
          phoneId: p.id,
          extension: p.extension,
          sipDomain,
          contact: p.sipContact,
          event: checkSyncEventOf(p.vendor),
          ha1: p.sipHa1,
        });
        if (sent.answered) {
          notified.add(p.id);
        } else {
          results.set(p.id, {
            outcome: 'unreachable',
            reportedVersion: p.installedVersion,
            detail:
              sent.outcome === 'timeout'
                ? `NOTIFY unanswered after ${sent.transmissions} transmissions`
                : `NOTIFY refused with ${sent.status ?? sent.outcome}`,
          });
        }
        run.heartbeat(progress());
      },
    );

    // Wait for the notified phones to come back, woken by the edge or by polling (another worker's edge).
    const waiting = new Set([...notified].filter((id) => !results.has(id)));
    let wake: (() => void) | null = null;
    const onChange = (id: number) => {
      if (waiting.has(id)) wake?.();
    };
    edge.changes.on('phone', onChange);
    try {
      for (;;) {
        if (run.signal.aborted) throw run.signal.reason ?? new Error('block cancelled');
        const deadlinePassed = Date.now() >= deadline;
        const rows = await listPhonesByIds(deps.db, input.pbxId, [...waiting]);
        const settled: number[] = [];
        for (const row of rows) {
          const verdict = judgeNotifiedPhone(row, since, target, deadlinePassed);
          if (!verdict) continue;
          results.set(row.id, { ...verdict, reportedVersion: row.installedVersion });
          waiting.delete(row.id);
          if (verdict.outcome !== 'updated') settled.push(row.id);
        }
        // A phone that is done, one way or the other, is offered nothing further.
        await clearFirmwareTargets(deps.db, input.pbxId, settled, target);
        run.heartbeat(progress());
        if (waiting.size === 0) break;
        const left = deadline - Date.now();
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, Math.max(0, Math.min(POLL_MS, left)));
          const done = () => {
            clearTimeout(timer);
            run.signal.removeEventListener('abort', done);
            wake = null;
            resolve();
          };
          wake = done;
          run.signal.addEventListener('abort', done);
        });
      }
    } finally {
      edge.changes.off('phone', onChange);
    }
  } finally {
    // Whatever happened, the approval ends with the block (R7/R11).
    await clearFirmwareTargets(deps.db, input.pbxId, ids, target);
  }

  const out: PhoneResult[] = phones.map((p) => {
    const r = results.get(p.id) as Omit<PhoneResult, 'phoneId' | 'mac' | 'fromVersion'>;
    return { phoneId: p.id, mac: p.mac, fromVersion: p.installedVersion, ...r };
  });
  for (const r of out) {
    autoprov[r.outcome === 'updated' || r.outcome === 'already-current' ? 'info' : 'warn']({
      event: 'block-outcome',
      phoneId: r.phoneId,
      mac: r.mac,
      model: input.modelId,
      outcome: r.outcome,
      from: r.fromVersion,
      target,
      reported: r.reportedVersion,
      detail: r.detail,
      rolloutId: input.rolloutId,
    });
  }
  const counts: Record<string, number> = {};
  for (const r of out) counts[r.outcome] = (counts[r.outcome] ?? 0) + 1;
  await journal('phones.block-finished', { outcomes: counts });
  return { results: out };
}

/** The block activity, for the `phones` task queue; needs the phone edge running in the same worker. */
export function createBlockUpdateActivities(deps: ActivityDeps, edge: BlockEdge) {
  return {
    async updatePhoneBlock(input: BlockInput): Promise<BlockResult> {
      const ctx = Context.current();
      return runBlockUpdate(deps, edge, input, {
        previous: ctx.info.heartbeatDetails as BlockProgress | undefined,
        heartbeat: (p) => ctx.heartbeat(p),
        signal: ctx.cancellationSignal,
      });
    },
  };
}
