/**
 * Bookkeeping activities of the per-PBX lifecycle: settings, rollout planning and per-phone results, journal.
 * They run on the lifecycle task queue and only touch Postgres and the PBX logs.
 */
import { ApplicationFailure } from '@temporalio/activity';
import { eq } from 'drizzle-orm';
import { appendJournal } from '../db/queries/journal.ts';
import {
  finishRolloutRow,
  insertRollout,
  planRollouts,
  recordBlockResults,
  rolloutCandidates,
  typeAutoUpdate,
} from '../db/queries/rollouts.ts';
import { pbxes } from '../db/schema.ts';
import { rolloutBlocks } from '../domain/blocks.ts';
import type {
  FinishRolloutInput,
  JournalInput,
  LifecycleActivityFns,
  PbxSettings,
  RecordBlockInput,
  StartRolloutInput,
  StartRolloutResult,
} from './contracts.ts';
import type { ActivityDeps } from './deps.ts';

export function createLifecycleBookkeeping(deps: ActivityDeps) {
  const { db, logs } = deps;
  return {
    async loadPbxSettings(pbxId: string): Promise<PbxSettings> {
      const [row] = await db.select().from(pbxes).where(eq(pbxes.id, pbxId));
      if (!row) return { exists: false, timeZone: 'UTC', autoDownloadInstall: false, updateMoment: null };
      return {
        exists: true,
        timeZone: row.timeZone,
        autoDownloadInstall: row.autoDownloadInstall,
        updateMoment:
          row.updateDay != null && row.updateMinute != null
            ? { day: row.updateDay, minute: row.updateMinute }
            : null,
      };
    },

    async planRollouts(input: { pbxId: string; modelIds?: string[] }) {
      return planRollouts(db, input.pbxId, input.modelIds);
    },

    /** Opens a rollout: re-checks R7 at the last moment and fixes the list of phones (below the target). */
    async startRollout(input: StartRolloutInput): Promise<StartRolloutResult> {
      const c = await rolloutCandidates(db, input.pbxId, input.modelId, input.targetVersion);
      if (!c.autoUpdate) return { refused: 'Auto-Update is off for this type (R7)' };
      if (!c.targetAvailable) {
        throw ApplicationFailure.nonRetryable(
          `firmware ${input.targetVersion} for ${input.modelId} is not stored on PBX ${input.pbxId}`,
          'TargetNotLocal',
        );
      }
      await insertRollout(db, {
        id: input.rolloutId,
        workflowId: input.workflowId,
        pbxId: input.pbxId,
        modelId: input.modelId,
        targetVersion: input.targetVersion,
        why: input.why,
        who: input.who,
        total: c.phoneIds.length,
        blocks: rolloutBlocks(c.phoneIds).length,
      });
      await appendJournal(db, logs, {
        pbxId: input.pbxId,
        action: 'rollout.started',
        why: input.why,
        who: input.who,
        modelId: input.modelId,
        details: {
          targetVersion: input.targetVersion,
          phones: c.phoneIds.length,
          workflowId: input.workflowId,
        },
      });
      return { phoneIds: c.phoneIds };
    },

    async recordBlock(input: RecordBlockInput): Promise<{ autoUpdate: boolean }> {
      await recordBlockResults(db, input.rolloutId, input.block, input.results);
      const counts: Record<string, number> = {};
      for (const r of input.results) counts[r.outcome] = (counts[r.outcome] ?? 0) + 1;
      logs
        .autoprov(input.pbxId)
        .info(
          { rollout: input.rolloutId, model: input.modelId, block: input.block + 1, outcomes: counts },
          'block done',
        );
      return { autoUpdate: await typeAutoUpdate(db, input.pbxId, input.modelId) };
    },

    async finishRollout(input: FinishRolloutInput): Promise<void> {
      const row = await finishRolloutRow(db, input.rolloutId, input.status);
      await appendJournal(db, logs, {
        pbxId: input.pbxId,
        action: `rollout.${input.status}`,
        why: input.why,
        who: input.who,
        modelId: input.modelId,
        details: {
          targetVersion: input.targetVersion,
          total: row?.total,
          updated: row?.updated,
          failed: row?.failed,
          ...(input.reason ? { reason: input.reason } : {}),
        },
      });
    },

    async recordJournal(input: JournalInput): Promise<void> {
      await appendJournal(db, logs, input);
    },
  } satisfies Partial<LifecycleActivityFns>;
}
