/**
 * R12: update one block of ≤ 50 phones of one type to one version. The block approves the firmware for exactly
 * these phones (R7/R11: provisioning offers it only while the approval stands, and never past its expiry),
 * NOTIFYs each registered phone, waits until each reports the target version or the time is up, and records an
 * outcome per phone the moment it is known (domain/rollout.ts names them).
 *
 * Safe to retry, from the database rather than from heartbeats: rollout_results holds which phones were notified
 * (written before the NOTIFY goes out) and which are decided, so a retry never notifies a phone twice, never
 * re-judges a decided phone, and a phone this rollout updated stays `updated`. A phone that does not answer is
 * that phone's `unreachable`, never the block's failure: the block heartbeats on a timer, not per NOTIFY.
 */
import { stat } from 'node:fs/promises';
import { ApplicationFailure, Context } from '@temporalio/activity';
import { CancelledFailure } from '@temporalio/common';
import type { Db } from '../db/client.ts';
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
import {
  type NotifyState,
  openBlock,
  type PhoneVerdict,
  type RolloutPhoneRow,
  recordNotifies,
  recordOutcomes,
} from '../db/queries/rollout-phones.ts';
import { getTypeHold } from '../db/queries/type-holds.ts';
import { BLOCK_TIMEOUT_MS } from '../domain/blocks.ts';
import { type Reason, reason } from '../domain/reasons.ts';
import type { PhoneOutcome } from '../domain/rollout.ts';
import { compareVersions } from '../domain/versions.ts';
import { Batcher } from '../lib/batch.ts';
import { localFirmwarePath } from '../lib/store-paths.ts';
import type { PhoneEdge } from '../phones/edge.ts';
import { checkSyncEventOf } from '../phones/provisioning/vendors/index.ts';
import type { BlockInput, BlockResult, PhoneResult } from './contracts.ts';
import type { ActivityDeps } from './deps.ts';

export const MAX_BLOCK_SIZE = 50;
export const DEFAULT_BLOCK_TIMEOUT_MS = BLOCK_TIMEOUT_MS;
/** An approval outlives the block's deadline by this much at most, in case its block is killed (R7/R11). */
export const APPROVAL_GRACE_MS = 2 * 60_000;
const NOTIFY_PARALLELISM = 16;
const POLL_MS = 1_000;
/**
 * After the edge reports a change of a waiting phone, the block waits this long for more before it reads the
 * changed phones (a phone update is a burst of contacts: NOTIFY answer, provisioning, download, REGISTER).
 */
const WAKE_COALESCE_MS = 50;
/** NOTIFYs a phone gets at most in one block (the first and two more, see mayNotifyAgain). */
export const MAX_NOTIFIES = 3;
/** Well inside the 30 s heartbeat timeout, whatever a NOTIFY lane is waiting for. */
const HEARTBEAT_EVERY_MS = 5_000;
/**
 * Workers that run blocks send heartbeats to the server at least this often (WorkerOptions
 * maxHeartbeatThrottleInterval; the SDK would otherwise wait 0.8 × the 30 s timeout): a cancelled rollout
 * (issue 13) reaches its running block within seconds, not half a minute.
 */
export const BLOCK_HEARTBEAT_THROTTLE = '5 seconds';

/** The activity was cancelled because the server was asked to (its workflow cancelled it), not for another reason. */
function cancelRequested(signal: AbortSignal): boolean {
  return signal.aborted && signal.reason instanceof CancelledFailure && signal.reason.message === 'CANCELLED';
}

/** Progress a block reports as heartbeat details (for the Temporal UI; retries resume from the database). */
export interface BlockProgress {
  since: string;
  notified: number[];
  updated: number;
  pending: number;
}

export interface BlockRun {
  heartbeat(progress: BlockProgress): void;
  signal: AbortSignal;
  /** How often the block heartbeats whatever it waits for (default 5 s). */
  heartbeatEveryMs?: number;
  /** When a phone's NOTIFY or download counts as left behind (default STALE_FETCH_MS). */
  staleAfterMs?: number;
}

export type BlockEdge = Pick<PhoneEdge, 'sip' | 'changes'>;

/**
 * The block cannot run as asked; retrying will not change that. `AutoUpdateOff` is R7 switched off meanwhile,
 * `TypeHeld` a hold (issue 13) set below the target meanwhile.
 */
function invalid(
  message: string,
  type: 'InvalidBlock' | 'AutoUpdateOff' | 'TypeHeld' = 'InvalidBlock',
): ApplicationFailure {
  return ApplicationFailure.create({ type, message, nonRetryable: true });
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
): { outcome: PhoneOutcome; reason?: Reason } | null {
  if (sameVersion(p.installedVersion, target)) return { outcome: 'updated' };
  const version = p.installedVersion ?? 'an unknown version';
  const started =
    p.firmwareFetchStartedAt && p.firmwareFetchStartedAt >= since ? p.firmwareFetchStartedAt : null;
  const completed =
    started && p.firmwareFetchCompletedAt && p.firmwareFetchCompletedAt >= started
      ? p.firmwareFetchCompletedAt
      : null;
  const back = latest(p.lastBootAt, p.lastProvisionedAt);
  if (completed && back && back > completed) {
    return { outcome: 'wrong-version', reason: reason('came-back-old-version', { version }) };
  }
  if (!deadlinePassed) return null;
  if (started && !completed) {
    const aborted = p.firmwareFetchAbortedAt && p.firmwareFetchAbortedAt >= started;
    const file = p.firmwareFetchFile ?? '?';
    return {
      outcome: 'failed-download',
      reason: aborted
        ? reason('download-aborted', { file, bytes: p.firmwareFetchBytes ?? 0 })
        : reason('download-unfinished', { file }),
    };
  }
  if (completed) return { outcome: 'no-answer', reason: reason('no-return-after-download') };
  if (back && back >= since) {
    return { outcome: 'wrong-version', reason: reason('reprovisioned-without-firmware', { version }) };
  }
  return { outcome: 'no-answer', reason: reason('no-provisioning-after-notify') };
}

/**
 * A download without an outcome for this long when a retry starts is taken as interrupted: a retry comes after the
 * heartbeat timeout (30 s), so a download cut off by the killed worker's edge is older than this; one still
 * running on another edge gets a NOTIFY it ignores (a phone busy updating does not start over).
 */
export const STALE_FETCH_MS = 20_000;

/**
 * May this phone, notified and not decided yet, be notified again (by a retry, or while the block waits)? Never
 * while it has its firmware (it is flashing or booting: a NOTIFY would go unanswered and wrongly make it
 * unreachable); yes when it never came for its files after the NOTIFY, or its download was aborted or stopped
 * reporting — the edge or the database failed it, the phone is back on its old firmware and waits for a NOTIFY
 * that will not come otherwise. At most MAX_NOTIFIES per phone and block.
 */
export function mayNotifyAgain(
  p: Pick<
    EdgePhone,
    | 'firmwareFetchStartedAt'
    | 'firmwareFetchCompletedAt'
    | 'firmwareFetchAbortedAt'
    | 'lastProvisionedAt'
    | 'lastBootAt'
  >,
  since: Date,
  notifiedAt: Date,
  now: Date,
  staleAfterMs = STALE_FETCH_MS,
): boolean {
  const started =
    p.firmwareFetchStartedAt && p.firmwareFetchStartedAt >= since ? p.firmwareFetchStartedAt : null;
  if (!started) {
    // No download since the NOTIFY: its requests failed (the edge or the database was down for them) or it chose
    // not to fetch. Either way, once it has been silent for a while after the NOTIFY and after its last request,
    // another NOTIFY can only help (and MAX_NOTIFIES bounds it); a NOTIFY sent just now is waited for.
    const heard = latest(notifiedAt, p.lastProvisionedAt, p.lastBootAt) as Date;
    return now.getTime() - heard.getTime() > staleAfterMs;
  }
  if (p.firmwareFetchCompletedAt && p.firmwareFetchCompletedAt >= started) return false;
  if (p.firmwareFetchAbortedAt && p.firmwareFetchAbortedAt >= started) return true;
  return now.getTime() - started.getTime() > staleAfterMs;
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
  if (typeof input.rolloutId !== 'string' || input.rolloutId === '') throw invalid('rolloutId is required');
  if (!Number.isInteger(input.block) || input.block < 0) throw invalid('block must be a block index ≥ 0');
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
    throw invalid(`Auto-Update is off for ${input.modelId} on PBX ${input.pbxId} (R7)`, 'AutoUpdateOff');
  }
  const hold = await getTypeHold(deps.db, input.pbxId, input.modelId);
  if (hold && input.direction !== 'downgrade' && compareVersions(input.targetVersion, hold.version) > 0) {
    throw invalid(`${input.modelId} is held at ${hold.version} on PBX ${input.pbxId}`, 'TypeHeld');
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

type NotifyWrite = { rolloutId: string; phoneId: number; state: NotifyState; at: Date };
const notifyWriters = new WeakMap<Db, Batcher<NotifyWrite, void>>();

/**
 * The notify state of phones, written by group commit (lib/batch.ts): the lanes of every block in this worker
 * share statements, and each lane still waits for its own row before its NOTIFY leaves.
 */
function recordNotify(db: Db, rolloutId: string, phoneId: number, state: NotifyState): Promise<void> {
  let writer = notifyWriters.get(db);
  if (!writer) {
    writer = new Batcher<NotifyWrite, void>({
      key: (w) => `${w.rolloutId}\0${w.phoneId}`,
      run: async (writes) => {
        await recordNotifies(db, writes);
        return writes.map(() => undefined);
      },
    });
    notifyWriters.set(db, writer);
  }
  return writer.add({ rolloutId, phoneId, state, at: new Date() });
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
  const { rolloutId, pbxId } = input;
  const target = input.targetVersion;
  const ids = phones.map((p) => p.id);
  const rows = await openBlock(deps.db, {
    rolloutId,
    block: input.block,
    phones: phones.map((p) => ({
      id: p.id,
      mac: p.mac,
      extension: p.extension,
      fromVersion: p.installedVersion,
    })),
    at: new Date(),
  });
  const record = new Map<number, RolloutPhoneRow>(rows.map((r) => [r.phoneAccountId, r]));
  const firstAttempt = rows.every((r) => r.notify === null && r.outcome === null);
  // The block's clock starts with its first attempt: firmware activity since then counts for it.
  const since = rows.reduce<Date>(
    (min, r) => (r.blockStartedAt && r.blockStartedAt < min ? r.blockStartedAt : min),
    new Date(),
  );
  const deadline = since.getTime() + (input.timeoutMs ?? DEFAULT_BLOCK_TIMEOUT_MS);
  const decided = new Map<
    number,
    { outcome: PhoneOutcome; reason?: Reason; reportedVersion: string | null }
  >();
  for (const r of rows) {
    if (r.outcome)
      decided.set(r.phoneAccountId, {
        outcome: r.outcome,
        reportedVersion: r.reportedVersion,
        ...(r.reason ? { reason: r.reason } : {}),
      });
  }
  const notified = new Set(rows.filter((r) => r.notify !== null).map((r) => r.phoneAccountId));
  const notifiedAt = new Map(rows.filter((r) => r.notify !== null).map((r) => [r.phoneAccountId, r.at]));
  const notifies = new Map(rows.map((r) => [r.phoneAccountId, r.notifies]));
  /** Notified, undecided, not on the target, and left behind (see mayNotifyAgain). */
  const leftBehind = (p: EdgePhone, now: Date) =>
    notified.has(p.id) &&
    !decided.has(p.id) &&
    !sameVersion(p.installedVersion, target) &&
    (notifies.get(p.id) ?? 0) < MAX_NOTIFIES &&
    mayNotifyAgain(p, since, notifiedAt.get(p.id) ?? since, now, run.staleAfterMs);
  // A retry notifies again only phones an edge crash left behind.
  const interrupted = firstAttempt ? [] : phones.filter((p) => leftBehind(p, new Date()));
  for (const p of interrupted) notified.delete(p.id);
  const autoprov = deps.logs.autoprov(pbxId);
  const journal = (action: string, details: Record<string, unknown>) =>
    appendJournal(deps.db, deps.logs, {
      pbxId,
      action,
      why: input.why,
      who: input.who,
      modelId: input.modelId,
      details: { targetVersion: target, rolloutId, block: input.block + 1, ...details },
    });
  const decide = async (verdicts: PhoneVerdict[]) => {
    if (verdicts.length === 0) return;
    await recordOutcomes(deps.db, rolloutId, verdicts);
    for (const v of verdicts) {
      decided.set(v.phoneId, {
        outcome: v.outcome,
        reportedVersion: v.reportedVersion,
        ...(v.reason ? { reason: v.reason } : {}),
      });
    }
  };
  const progress = (): BlockProgress => ({
    since: since.toISOString(),
    notified: [...notified],
    updated: [...decided.values()].filter((r) => r.outcome === 'updated').length,
    pending: phones.length - decided.size,
  });
  const beat = () => run.heartbeat(progress());
  const heartbeats = setInterval(beat, run.heartbeatEveryMs ?? HEARTBEAT_EVERY_MS);

  try {
    // A phone on the target already is left alone, unless this rollout notified it (then this rollout updated it).
    await decide(
      phones
        .filter((p) => !decided.has(p.id) && sameVersion(p.installedVersion, target))
        .map((p) => ({
          phoneId: p.id,
          outcome: notified.has(p.id) ? ('updated' as const) : ('already-current' as const),
          reportedVersion: p.installedVersion,
        })),
    );
    const toUpdate = phones.filter((p) => !decided.has(p.id));
    if (firstAttempt) await journal('phones.block-started', { phones: ids, toUpdate: toUpdate.length });
    if (interrupted.length > 0) {
      await journal('phones.notified-again', {
        phones: interrupted.map((p) => p.mac),
        reason:
          'their firmware download was interrupted (the edge serving it went away); they run the old version',
      });
    }
    await setFirmwareTargets(
      deps.db,
      pbxId,
      toUpdate.map((p) => p.id),
      { version: target, at: since, rolloutId, expiresAt: new Date(deadline + APPROVAL_GRACE_MS) },
    );
    beat();

    /** One NOTIFY: recorded before the datagram leaves, so a retry after a kill right here waits instead. */
    const notifyPhone = async (p: EdgePhone, registeredCheckAt: number) => {
      if (run.signal.aborted) return;
      if (!p.sipContact || !p.sipRegisteredUntil || p.sipRegisteredUntil.getTime() < registeredCheckAt) {
        await decide([
          {
            phoneId: p.id,
            outcome: 'unreachable',
            reportedVersion: p.installedVersion,
            reason: reason(p.sipContact ? 'registration-expired' : 'no-registration'),
          },
        ]);
        await clearFirmwareTargets(deps.db, pbxId, [p.id], target);
        return;
      }
      await recordNotify(deps.db, rolloutId, p.id, 'sending');
      notified.add(p.id);
      notifiedAt.set(p.id, new Date());
      notifies.set(p.id, (notifies.get(p.id) ?? 0) + 1);
      const sent = await edge.sip.notify({
        phoneId: p.id,
        extension: p.extension,
        sipDomain,
        contact: p.sipContact,
        event: checkSyncEventOf(p.vendor),
        ha1: p.sipHa1,
      });
      if (sent.answered) {
        await recordNotify(deps.db, rolloutId, p.id, 'answered');
        notifiedAt.set(p.id, new Date());
      } else {
        await decide([
          {
            phoneId: p.id,
            outcome: 'unreachable',
            reportedVersion: p.installedVersion,
            reason:
              sent.outcome === 'timeout'
                ? reason('notify-unanswered', { transmissions: sent.transmissions })
                : reason('notify-refused', { status: String(sent.status ?? sent.outcome) }),
          },
        ]);
        await clearFirmwareTargets(deps.db, pbxId, [p.id], target);
      }
    };

    // NOTIFY every registered phone not notified by an earlier attempt of this block.
    const now = Date.now();
    await mapLimit(
      toUpdate.filter((p) => !notified.has(p.id)),
      NOTIFY_PARALLELISM,
      (p) => notifyPhone(p, now),
    );

    // Wait for the notified phones to come back, woken by the edge or by polling (another worker's edge). A wake
    // reads only the phones the edge reported; the poll (and the deadline) reads every phone still waiting.
    const waiting = new Set([...notified].filter((id) => !decided.has(id)));
    const changed = new Set<number>();
    let readAll = true;
    const renotifying = new Set<number>();
    let wake: (() => void) | null = null;
    const onChange = (id: number) => {
      if (!waiting.has(id)) return;
      changed.add(id);
      wake?.();
    };
    edge.changes.on('phone', onChange);
    try {
      for (;;) {
        if (run.signal.aborted) throw run.signal.reason ?? new Error('block cancelled');
        const deadlinePassed = Date.now() >= deadline;
        const toRead =
          readAll || deadlinePassed ? [...waiting] : [...changed].filter((id) => waiting.has(id));
        changed.clear();
        readAll = false;
        const verdicts: PhoneVerdict[] = [];
        const rows = await listPhonesByIds(deps.db, pbxId, toRead);
        for (const row of rows) {
          if (renotifying.has(row.id)) continue;
          const verdict = judgeNotifiedPhone(row, since, target, deadlinePassed);
          if (!verdict) continue;
          const unknownNotify = record.get(row.id)?.notify === 'sending' && verdict.outcome === 'no-answer';
          verdicts.push({
            phoneId: row.id,
            outcome: verdict.outcome,
            reportedVersion: row.installedVersion,
            ...(unknownNotify
              ? { reason: reason('notify-unknown') }
              : verdict.reason
                ? { reason: verdict.reason }
                : {}),
          });
          waiting.delete(row.id);
        }
        await decide(verdicts);
        // A phone that is done, one way or the other, is offered nothing further.
        await clearFirmwareTargets(
          deps.db,
          pbxId,
          verdicts.filter((v) => v.outcome !== 'updated').map((v) => v.phoneId),
          target,
        );
        // A phone the edge or the database failed after its NOTIFY gets another one (not while it flashes).
        const again = rows
          .filter((row) => waiting.has(row.id) && !renotifying.has(row.id) && leftBehind(row, new Date()))
          .slice(0, NOTIFY_PARALLELISM - renotifying.size);
        if (again.length > 0) {
          await journal('phones.notified-again', {
            phones: again.map((p) => p.mac),
            reason: 'they never came for their files after the NOTIFY, or their download broke off',
          });
        }
        for (const p of again) {
          renotifying.add(p.id);
          void notifyPhone(p, Date.now())
            .catch((err: unknown) => deps.logger.warn({ err, phoneId: p.id }, 'NOTIFY again failed'))
            .finally(() => {
              renotifying.delete(p.id);
              if (decided.has(p.id)) waiting.delete(p.id);
              else changed.add(p.id); // skipped while its NOTIFY was out: read it on the next wake
              wake?.();
            });
        }
        beat();
        if (waiting.size === 0 && renotifying.size === 0) break;
        if (changed.size > 0) continue; // reported while we read: read those now
        const left = deadline - Date.now();
        readAll = await new Promise<boolean>((resolve) => {
          const timer = setTimeout(() => finish(true), Math.max(0, Math.min(POLL_MS, left)));
          let coalesce: NodeJS.Timeout | undefined;
          function finish(all: boolean) {
            clearTimeout(timer);
            clearTimeout(coalesce);
            run.signal.removeEventListener('abort', aborted);
            wake = null;
            resolve(all);
          }
          const aborted = () => finish(false);
          wake = () => {
            wake = null;
            coalesce = setTimeout(() => finish(false), Math.max(0, Math.min(WAKE_COALESCE_MS, left)));
          };
          run.signal.addEventListener('abort', aborted);
        });
      }
    } finally {
      edge.changes.off('phone', onChange);
    }
    // The approval ends with the block (R7/R11). A killed worker never gets here: the expiry ends it then, and
    // the rollout's end withdraws whatever is left.
    await clearFirmwareTargets(deps.db, pbxId, ids, target);
  } catch (err) {
    // Cancelled because its rollout was (an admin's cancel, issue 13): no phone of the block keeps its approval.
    // A worker shutting down or a timeout is no such decision: the phones notified may still flash, the expiry
    // ends the approvals, and the rollout's end withdraws what is left.
    if (cancelRequested(run.signal)) await clearFirmwareTargets(deps.db, pbxId, ids, target);
    throw err;
  } finally {
    clearInterval(heartbeats);
  }

  const out: PhoneResult[] = phones.map((p) => {
    const r = decided.get(p.id) as { outcome: PhoneOutcome; reason?: Reason; reportedVersion: string | null };
    const fromVersion = record.get(p.id)?.fromVersion ?? p.installedVersion;
    return {
      phoneId: p.id,
      mac: p.mac,
      extension: p.extension,
      fromVersion,
      outcome: r.outcome,
      reportedVersion: r.reportedVersion,
      ...(r.reason ? { reason: r.reason, detail: r.reason.text } : {}),
    };
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
      rolloutId,
      block: input.block + 1,
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
        heartbeat: (p) => ctx.heartbeat(p),
        signal: ctx.cancellationSignal,
      });
    },
  };
}
