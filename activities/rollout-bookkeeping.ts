/**
 * The rollout's record in Postgres, from its start to its end (R7, R12): the row the API and page read, the
 * per-phone outcomes, the approvals a rollout gave, and the journal lines. Every end of a rollout goes through
 * `endRollout` here, whichever way it ended, so the database, the journal and the workflow's result say the same.
 */
import { eq } from 'drizzle-orm';
import { appendJournal } from '../db/queries/journal.ts';
import { clearRolloutApprovals } from '../db/queries/phones.ts';
import {
  phonesForRollout,
  planBlocks,
  recordUnblocked,
  rolloutCounts,
  skipUndecided,
  storeCounts,
} from '../db/queries/rollout-phones.ts';
import {
  endRolloutRow,
  getRolloutRow,
  insertRollout,
  type RolloutRow,
  rolloutCandidates,
  runningRolloutOfType,
  setRolloutWaiting,
  typeAutoUpdate,
} from '../db/queries/rollouts.ts';
import { rolloutResults } from '../db/schema.ts';
import { rolloutBlocks } from '../domain/blocks.ts';
import { type Reason, reason } from '../domain/reasons.ts';
import {
  countOutcomes,
  describeCounts,
  endOfCompletedRun,
  type RolloutEnd,
  reasonOfRun,
} from '../domain/rollout.ts';
import type {
  FinishRolloutInput,
  FinishRolloutResult,
  LifecycleActivityFns,
  RecordBlockInput,
  RecordBlockResult,
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
      .map((r) => ({ mac: r.mac, extension: r.extension, outcome: r.outcome, reason: r.detail }));
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

  return {
    /**
     * Opens a rollout: re-checks R7 at the last moment and fixes its phones — the ones below the target go in
     * blocks, the ones never contacted are named at once. A refusal is a rollout too (status `refused`), and so is
     * one whose firmware is gone (`failed`).
     */
    async startRollout(input: StartRolloutInput): Promise<StartRolloutResult> {
      const c = await rolloutCandidates(db, input.pbxId, input.modelId, input.targetVersion);
      const actor = { why: input.why, who: input.who };
      const base = {
        id: input.rolloutId,
        workflowId: input.workflowId,
        pbxId: input.pbxId,
        modelId: input.modelId,
        targetVersion: input.targetVersion,
        ...actor,
      };
      if (!c.autoUpdate) {
        const refused = reason('auto-update-off', { model: input.modelId });
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
      // still "running" is one whose workflow ended without recording it. It ends now, saying so.
      const stale = await runningRolloutOfType(db, input.pbxId, input.modelId);
      if (stale && stale.id !== input.rolloutId) {
        await endRollout(
          stale,
          { status: 'failed', reason: reason('workflow-closed', { closeStatus: 'unknown' }) },
          { why: 'system', who: 'system' },
        );
      }
      if (!c.targetAvailable) {
        // Its firmware went (R5 clean-up) before the rollout could start: it ends failed, recorded like any other.
        const missing = reason('firmware-not-stored', { version: input.targetVersion, model: input.modelId });
        await insertRollout(db, { ...base, total: 0, blocks: 0, status: 'running' });
        const row = (await getRolloutRow(db, input.rolloutId)) as RolloutRow;
        const ended = await endRollout(row, { status: 'failed', reason: missing }, actor);
        return { ended: 'failed', reason: ended.reason ?? missing };
      }
      const total = c.phoneIds.length + c.unknownIds.length;
      await insertRollout(db, {
        ...base,
        total,
        blocks: rolloutBlocks(c.phoneIds).length,
        status: 'running',
      });
      const below = await phonesForRollout(db, input.pbxId, c.phoneIds);
      await planBlocks(db, input.rolloutId, rolloutBlocks(below));
      const unknown = await phonesForRollout(db, input.pbxId, c.unknownIds);
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
          phones: c.phoneIds.length,
          ...(unknown.length > 0
            ? { notContacted: unknown.map((p) => ({ mac: p.mac, extension: p.extension })) }
            : {}),
        },
      });
      return { phoneIds: below.map((p) => p.id), notContacted: unknown.length, total };
    },

    /** After a block: the counts from the per-phone record, stored on the row; and whether R7 still allows more. */
    async recordBlock(input: RecordBlockInput): Promise<RecordBlockResult> {
      const counts = await rolloutCounts(db, input.rolloutId, input.total);
      await storeCounts(db, input.rolloutId, counts, input.block + 1);
      logs
        .autoprov(input.pbxId)
        .info(
          { rollout: input.rolloutId, model: input.modelId, block: input.block + 1, counts },
          'block done',
        );
      return { counts, autoUpdate: await typeAutoUpdate(db, input.pbxId, input.modelId) };
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
