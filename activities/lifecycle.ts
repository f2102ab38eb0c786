/**
 * Bookkeeping activities of the per-PBX lifecycle: settings, rollout planning and per-phone results, journal,
 * the status the workflow reports of itself.
 * They run on the lifecycle task queue and only touch Postgres and the PBX logs.
 */
import { eq } from 'drizzle-orm';
import { appendJournal } from '../db/queries/journal.ts';
import { recordLifecycleStatus } from '../db/queries/lifecycle-status.ts';
import { planRollouts } from '../db/queries/rollouts.ts';
import { pbxes } from '../db/schema.ts';
import type { JournalInput, LifecycleActivityFns, LifecycleStatusInput, PbxSettings } from './contracts.ts';
import type { ActivityDeps } from './deps.ts';
import { createFleetBookkeeping } from './fleet-bookkeeping.ts';
import { createRolloutBookkeeping } from './rollout-bookkeeping.ts';

export function createLifecycleBookkeeping(deps: ActivityDeps) {
  const { db, logs } = deps;
  return {
    ...createRolloutBookkeeping(deps),
    ...createFleetBookkeeping(deps),
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

    async planRollouts(input: Parameters<LifecycleActivityFns['planRollouts']>[0]) {
      const { pbxId, ...options } = input;
      return planRollouts(db, pbxId, options);
    },

    async recordJournal(input: JournalInput): Promise<void> {
      await appendJournal(db, logs, input);
    },

    /** The workflow's status as it reported it, for the API (which then never has to query Temporal). */
    async recordLifecycleStatus(input: LifecycleStatusInput): Promise<void> {
      await recordLifecycleStatus(db, input);
    },
  } satisfies Partial<LifecycleActivityFns>;
}
