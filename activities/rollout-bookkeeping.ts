/**
 * The rollout's record in Postgres, from its start to its end (R7, R12): the row the API and page read, the
 * per-phone outcomes, the approvals a rollout gave, and the journal lines. Every end of a rollout goes through
 * `endRollout` here, whichever way it ended, so the database, the journal and the workflow's result say the same.
 */
import { eq } from 'drizzle-orm';
import { appendJournal } from '../db/queries/journal.ts';
import { clearRolloutApprovals } from '../db/queries/phones.ts';
import {
  admitToRollout,
  type BlockPhone,
  phonesForRollout,
  phonesInRollout,
  planBlocks,
  recordUnblocked,
  requeueOrPark,
  rolloutCounts,
  rolloutRows,
  skipUndecided,
  storeCounts,
  unparkPhones,
} from '../db/queries/rollout-phones.ts';
import { loadTypePlan } from '../db/queries/rollout-plan.ts';
import { getRolloutSettings } from '../db/queries/rollout-settings.ts';
import {
  addToRolloutTotal,
  endRolloutRow,
  getRolloutRow,
  insertRollout,
  type RolloutRow,
  rolloutCandidates,
  runningRolloutOfType,
  setRolloutState,
  setRolloutWaiting,
  typeAutoUpdate,
} from '../db/queries/rollouts.ts';
import { rolloutResults } from '../db/schema.ts';
import { type Reason, reason } from '../domain/reasons.ts';
import {
  countOutcomes,
  describeCounts,
  endOfCompletedRun,
  isRetryable,
  type PhoneOutcome,
  type RolloutEnd,
  reasonOfRun,
} from '../domain/rollout.ts';
import { admitJoiners } from '../domain/rollout-plan.ts';
import { afterFailedAttempt, type RolloutPolicy } from '../domain/rollout-policy.ts';
import { compareVersions } from '../domain/versions.ts';
import type {
  BeforeBlockInput,
  BeforeBlockResult,
  FinishRolloutInput,
  FinishRolloutResult,
  LifecycleActivityFns,
  RecordBlockInput,
  RecordBlockResult,
  RolloutStateInput,
  RunningRolloutInfo,
  SettleRolloutInput,
  StartRolloutInput,
  StartRolloutResult,
} from './contracts.ts';
import type { ActivityDeps } from './deps.ts';

export function createRolloutBookkeeping(deps: ActivityDeps) {
  const { db, logs } = deps;

  /** The phones that did not reach the target, named for the journal (capped so one line stays readable). */
  async function missedPhones(rolloutId: string) {
    const rows = await db.select().from(rolloutResults).where(eq(rolloutResults.rolloutId, rolloutId));
    return rows
      .filter((r) => r.outcome !== 'updated' && r.outcome !== 'already-current')
      .slice(0, 200)
      .map((r) => ({
        mac: r.mac,
        extension: r.extension,
        outcome: r.outcome,
        reason: r.detail,
        ...(r.outcome === 'parked' ? { lastOutcome: r.lastOutcome, attempts: r.attempts } : {}),
      }));
  }

  /** Skips the undecided phones, withdraws the approvals, counts, and writes the end once. */
  async function endRollout(
    row: RolloutRow,
    stopped: FinishRolloutInput['stopped'] | undefined,
    actor: { why: string; who: string },
  ): Promise<FinishRolloutResult> {
    await skipUndecided(db, row.id, stopped?.reason ?? reason('block-not-run'));
    const withdrawn = await clearRolloutApprovals(db, row.pbxId, row.id);
    const counts = await rolloutCounts(db, row.id, row.total);
    const status = stopped?.status ?? endOfCompletedRun(counts);
    const why = stopped?.reason ?? reasonOfRun(status, counts, row.targetVersion);
    await storeCounts(db, row.id, counts);
    const ended = await endRolloutRow(db, row.id, { status, reason: why });
    if (!ended) {
      // Ended before (a retried activity, or the parent settling what the child had already recorded).
      const stored = (await getRolloutRow(db, row.id)) as RolloutRow;
      return { status: stored.status as RolloutEnd, reason: stored.reason, counts };
    }
    await appendJournal(db, logs, {
      pbxId: row.pbxId,
      action: `rollout.${status}`,
      why: actor.why as never,
      who: actor.who,
      modelId: row.modelId,
      details: {
        rolloutId: row.id,
        workflowId: row.workflowId,
        targetVersion: row.targetVersion,
        ...counts,
        summary: describeCounts(counts),
        ...(why ? { reason: why.text, reasonCode: why.code } : {}),
        ...(withdrawn > 0 ? { approvalsWithdrawn: withdrawn } : {}),
        ...(status === 'completed' ? {} : { phones: await missedPhones(row.id) }),
      },
    });
    return { status, reason: why, counts };
  }

  /** Issue 13: the failed phones of a block get another attempt after their backoff, or are parked. */
  async function retryOrPark(input: RecordBlockInput, policy: RolloutPolicy, phoneIds: number[], at: number) {
    const rows = await rolloutRows(db, input.rolloutId, phoneIds);
    const tally = rows.flatMap((r) => (r.outcome ? [{ phoneId: r.phoneAccountId, outcome: r.outcome }] : []));
    const failed = rows.filter((r) => r.outcome && isRetryable(r.outcome));
    const failures = failed.map((r) => ({
      phoneId: r.phoneAccountId,
      mac: r.mac,
      outcome: r.outcome as PhoneOutcome,
      reason: r.reason,
      attempt: r.attempts,
    }));
    const retries: Array<{ phoneId: number; dueAt: number }> = [];
    const parked: number[] = [];
    const decisions = failed.map((r) => {
      const next = afterFailedAttempt(policy, r.attempts, at);
      if ('park' in next) {
        parked.push(r.phoneAccountId);
        return { phoneId: r.phoneAccountId, park: true as const };
      }
      retries.push({ phoneId: r.phoneAccountId, dueAt: next.retryAt });
      return { phoneId: r.phoneAccountId, retryAt: new Date(next.retryAt) };
    });
    await requeueOrPark(db, input.rolloutId, decisions);
    const named = (ids: number[]) =>
      failures
        .filter((f) => ids.includes(f.phoneId))
        .map((f) => {
          const due = retries.find((r) => r.phoneId === f.phoneId)?.dueAt;
          return {
            mac: f.mac,
            outcome: f.outcome,
            attempt: f.attempt,
            ...(f.reason ? { reason: f.reason.text, reasonCode: f.reason.code } : {}),
            ...(due !== undefined ? { retryAt: new Date(due).toISOString() } : {}),
          };
        });
    const journal = (action: string, ids: number[]) =>
      ids.length === 0
        ? undefined
        : appendJournal(db, logs, {
            pbxId: input.pbxId,
            action,
            why: 'system',
            who: 'system',
            modelId: input.modelId,
            details: { rolloutId: input.rolloutId, block: input.block + 1, phones: named(ids) },
          });
    await journal(
      'rollout.phones-retrying',
      retries.map((r) => r.phoneId),
    );
    await journal('rollout.phones-parked', parked);
    return { tally, failures, retries, parked };
  }

  return {
    /**
     * Opens a rollout: re-checks R7 and the type's hold at the last moment and fixes its phones — the ones to update
     * go in the planned blocks (the canary first, domain/rollout-plan.ts), the ones never contacted are named at
     * once. A refusal is a rollout too (status `refused`), and so is one whose firmware is gone (`failed`).
     */
    async startRollout(input: StartRolloutInput): Promise<StartRolloutResult> {
      const direction = input.direction ?? 'upgrade';
      const t = await loadTypePlan(db, {
        pbxId: input.pbxId,
        modelId: input.modelId,
        targetVersion: input.targetVersion,
        direction,
        ...(input.canarySize !== undefined ? { canarySize: input.canarySize } : {}),
        ...(input.phoneIds ? { phoneIds: input.phoneIds } : {}),
      });
      const actor = { why: input.why, who: input.who };
      const base = {
        id: input.rolloutId,
        workflowId: input.workflowId,
        pbxId: input.pbxId,
        modelId: input.modelId,
        targetVersion: input.targetVersion,
        direction,
        policy: t.policy,
        ...(input.fleet ? { fleetRolloutId: input.fleet.fleetRolloutId, wave: input.fleet.wave } : {}),
        ...actor,
      };
      const refused = !t.autoUpdate
        ? reason('auto-update-off', { model: t.model })
        : direction === 'upgrade' && t.heldAt && compareVersions(input.targetVersion, t.heldAt) > 0
          ? reason('type-held', { model: t.model, version: t.heldAt })
          : null;
      if (refused) {
        await insertRollout(db, { ...base, total: 0, blocks: 0, status: 'refused', reason: refused });
        await appendJournal(db, logs, {
          pbxId: input.pbxId,
          action: 'rollout.refused',
          ...actor,
          modelId: input.modelId,
          details: {
            rolloutId: input.rolloutId,
            targetVersion: input.targetVersion,
            reason: refused.text,
            reasonCode: refused.code,
          },
        });
        return { ended: 'refused', reason: refused };
      }
      // R12: the workflow id (one open execution per type) guarantees no other rollout of the type runs; a row
      // still open is one whose workflow ended without recording it. It ends now, saying so.
      const stale = await runningRolloutOfType(db, input.pbxId, input.modelId);
      if (stale && stale.id !== input.rolloutId) {
        await endRollout(
          stale,
          { status: 'failed', reason: reason('workflow-closed', { closeStatus: 'unknown' }) },
          { why: 'system', who: 'system' },
        );
      }
      if (!t.targetAvailable) {
        // Its firmware went (R5 clean-up) before the rollout could start: it ends failed, recorded like any other.
        const missing = reason('firmware-not-stored', { version: input.targetVersion, model: input.modelId });
        await insertRollout(db, { ...base, total: 0, blocks: 0, status: 'running' });
        const row = (await getRolloutRow(db, input.rolloutId)) as RolloutRow;
        const ended = await endRollout(row, { status: 'failed', reason: missing }, actor);
        return { ended: 'failed', reason: ended.reason ?? missing };
      }
      const total = t.phones.length + t.unknown.length;
      await insertRollout(db, { ...base, total, blocks: t.plan.length, status: 'running' });
      const byId = new Map((await phonesForRollout(db, input.pbxId, t.phoneIds)).map((p) => [p.id, p]));
      const inBlocks = t.plan.map((b) =>
        b.phoneIds.flatMap((id) => (byId.has(id) ? [byId.get(id) as BlockPhone] : [])),
      );
      await planBlocks(db, input.rolloutId, inBlocks, 0, { runBlockKnown: false });
      const unknown = await phonesForRollout(db, input.pbxId, t.unknownIds);
      await recordUnblocked(
        db,
        input.rolloutId,
        unknown.map((p) => ({ ...p, outcome: 'not-contacted' as const, reason: reason('never-contacted') })),
      );
      await storeCounts(db, input.rolloutId, await rolloutCounts(db, input.rolloutId, total));
      await appendJournal(db, logs, {
        pbxId: input.pbxId,
        action: 'rollout.started',
        ...actor,
        modelId: input.modelId,
        details: {
          rolloutId: input.rolloutId,
          workflowId: input.workflowId,
          targetVersion: input.targetVersion,
          ...(direction === 'downgrade' ? { direction } : {}),
          phones: t.phoneIds.length,
          blocks: t.plan.length,
          canary: (t.plan[0]?.phoneIds ?? []).map((id) => byId.get(id)?.mac ?? id),
          policy: t.policy,
          ...(t.window ? { window: t.window } : {}),
          ...(input.fleet ? { fleetRolloutId: input.fleet.fleetRolloutId, wave: input.fleet.wave + 1 } : {}),
          ...(unknown.length > 0
            ? { notContacted: unknown.map((p) => ({ mac: p.mac, extension: p.extension })) }
            : {}),
        },
      });
      return {
        phoneIds: t.plan.flatMap((b) => b.phoneIds),
        notContacted: unknown.length,
        total,
        plan: t.plan,
        policy: t.policy,
        timeZone: t.timeZone,
        window: t.window,
      };
    },

    /**
     * After a block: the counts from the per-phone record, stored on the row; whether R7 still allows more; and
     * (issue 13) each failed phone of the block retried after its backoff or, after its last attempt, parked.
     */
    async recordBlock(input: RecordBlockInput): Promise<RecordBlockResult> {
      let retry: Pick<RecordBlockResult, 'tally' | 'failures' | 'retries' | 'parked'> = {};
      if (input.policy && input.phoneIds && input.at !== undefined) {
        retry = await retryOrPark(input, input.policy, input.phoneIds, input.at);
      }
      const counts = await rolloutCounts(db, input.rolloutId, input.total);
      await storeCounts(db, input.rolloutId, counts, input.block + 1, input.blocks);
      logs
        .autoprov(input.pbxId)
        .info(
          { rollout: input.rolloutId, model: input.modelId, block: input.block + 1, counts },
          'block done',
        );
      return { counts, autoUpdate: await typeAutoUpdate(db, input.pbxId, input.modelId), ...retry };
    },

    /** Before each block (issue 13): late joiners admitted, and R7, the hold and the window read afresh. */
    async beforeBlock(input: BeforeBlockInput): Promise<BeforeBlockResult> {
      const settings = await getRolloutSettings(db, input.pbxId);
      const c = await rolloutCandidates(db, input.pbxId, input.modelId, input.targetVersion, {
        direction: input.direction,
      });
      const known = input.admitJoiners ? await phonesInRollout(db, input.rolloutId) : null;
      const fresh = known ? c.phones.filter((p) => !known.has(p.id)).map((p) => p.id) : [];
      const { placed } = admitJoiners(
        { planned: input.lastPlanned ? [input.lastPlanned] : [], retries: [] },
        fresh,
        input.nextIndex,
      );
      const joined = [...placed].map(([phoneId, plannedBlock]) => ({ phoneId, plannedBlock }));
      let total = (await getRolloutRow(db, input.rolloutId))?.total ?? 0;
      if (joined.length > 0) {
        const phones = await phonesForRollout(db, input.pbxId, fresh);
        const added = await admitToRollout(
          db,
          input.rolloutId,
          phones.map((p) => ({ ...p, plannedBlock: placed.get(p.id) as number })),
        );
        if (added > 0) total = await addToRolloutTotal(db, input.rolloutId, added);
        await appendJournal(db, logs, {
          pbxId: input.pbxId,
          action: 'rollout.phones-joined',
          why: input.why,
          who: input.who,
          modelId: input.modelId,
          details: {
            rolloutId: input.rolloutId,
            targetVersion: input.targetVersion,
            phones: phones.map((p) => ({
              mac: p.mac,
              extension: p.extension,
              version: p.fromVersion,
              block: (placed.get(p.id) as number) + 1,
            })),
          },
        });
      }
      const counts = await rolloutCounts(db, input.rolloutId, total);
      if (joined.length > 0) await storeCounts(db, input.rolloutId, counts);
      return {
        joined,
        total,
        counts,
        autoUpdate: c.autoUpdate,
        heldAt: c.heldAt,
        timeZone: settings?.timeZone ?? 'UTC',
        window: settings?.window ?? null,
      };
    },

    /** An open rollout paused, halted, resumed, or waiting for its window: the row and the journal say so. */
    async noteRolloutState(input: RolloutStateInput): Promise<void> {
      const row = await setRolloutState(db, input.rolloutId, { status: input.status, reason: input.reason });
      if (!row) return;
      await appendJournal(db, logs, {
        pbxId: input.pbxId,
        action: input.action,
        why: input.why,
        who: input.who,
        modelId: input.modelId,
        details: {
          rolloutId: input.rolloutId,
          workflowId: row.workflowId,
          targetVersion: row.targetVersion,
          status: input.status,
          ...(input.reason ? { reason: input.reason.text, reasonCode: input.reason.code } : {}),
          ...input.details,
        },
      });
    },

    /** An admin retries parked phones of an open rollout: they get their attempts afresh. */
    async unparkPhones(input: { rolloutId: string; phoneIds?: number[]; who: string }): Promise<number[]> {
      const row = await getRolloutRow(db, input.rolloutId);
      if (!row) return [];
      const ids = await unparkPhones(db, input.rolloutId, input.phoneIds, new Date());
      if (ids.length === 0) return ids;
      await storeCounts(db, row.id, await rolloutCounts(db, row.id, row.total));
      await appendJournal(db, logs, {
        pbxId: row.pbxId,
        action: 'rollout.phones-unparked',
        why: 'manual',
        who: input.who,
        modelId: row.modelId,
        details: {
          rolloutId: row.id,
          targetVersion: row.targetVersion,
          phones: (await rolloutRows(db, row.id, ids)).map((r) => r.mac),
        },
      });
      return ids;
    },

    async finishRollout(input: FinishRolloutInput): Promise<FinishRolloutResult> {
      const row = await getRolloutRow(db, input.rolloutId);
      if (!row) {
        // The rollout never opened (its start failed): nothing was offered; its end is the workflow's to report.
        const counts = countOutcomes(input.total, []);
        return { status: input.stopped?.status ?? 'failed', reason: input.stopped?.reason ?? null, counts };
      }
      return endRollout(row, input.stopped, { why: input.why, who: input.who });
    },

    async settleRollout(input: SettleRolloutInput): Promise<FinishRolloutResult | null> {
      const row = await getRolloutRow(db, input.rolloutId);
      if (!row || row.pbxId !== input.pbxId) return null;
      const status =
        input.closeStatus === 'terminated' || input.closeStatus === 'cancelled' ? 'cancelled' : 'failed';
      return endRollout(
        row,
        { status, reason: reason('workflow-closed', { closeStatus: input.closeStatus }) },
        { why: row.why, who: row.who },
      );
    },

    /** What a running rollout waits for (a phone edge down), where the API and page read it; null clears it. */
    async noteRolloutWaiting(input: { rolloutId: string; reason: Reason | null }): Promise<void> {
      await setRolloutWaiting(db, input.rolloutId, input.reason);
    },

    async runningRollout(input: { pbxId: string; modelId: string }): Promise<RunningRolloutInfo | null> {
      const row = await runningRolloutOfType(db, input.pbxId, input.modelId);
      return row
        ? {
            rolloutId: row.id,
            workflowId: row.workflowId,
            targetVersion: row.targetVersion,
            why: row.why,
            who: row.who,
            status: row.status,
          }
        : null;
    },
  } satisfies Partial<LifecycleActivityFns>;
}
