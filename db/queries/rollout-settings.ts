/** How carefully rollouts go on a PBX (issue 13): canary, thresholds, attempts, maintenance window. */
import { eq } from 'drizzle-orm';
import type { MaintenanceWindow } from '../../domain/maintenance-window.ts';
import type { PolicySettings } from '../../domain/rollout-policy.ts';
import type { Db } from '../client.ts';
import { pbxes, pbxRolloutSettings } from '../schema.ts';

export interface PbxRolloutSettings {
  timeZone: string;
  /** What the PBX sets; a missing value means the default (domain/rollout-policy.ts). */
  policy: PolicySettings;
  window: MaintenanceWindow | null;
  updatedAt: Date | null;
  updatedBy: string | null;
}

/** The PBX's rollout settings, or undefined for an unknown PBX. */
export async function getRolloutSettings(db: Db, pbxId: string): Promise<PbxRolloutSettings | undefined> {
  const [row] = await db
    .select({ timeZone: pbxes.timeZone, s: pbxRolloutSettings })
    .from(pbxes)
    .leftJoin(pbxRolloutSettings, eq(pbxRolloutSettings.pbxId, pbxes.id))
    .where(eq(pbxes.id, pbxId));
  if (!row) return undefined;
  const s = row.s;
  const policy: PolicySettings = {};
  if (s?.canarySize != null) policy.canarySize = s.canarySize;
  if (s?.haltFailedPercent != null) policy.haltFailedPercent = s.haltFailedPercent;
  if (s?.haltFailedBlocksInRow != null) policy.haltFailedBlocksInRow = s.haltFailedBlocksInRow;
  if (s?.maxAttempts != null) policy.maxAttempts = s.maxAttempts;
  return {
    timeZone: row.timeZone,
    policy,
    window:
      s?.windowStartMinute != null && s.windowEndMinute != null
        ? { startMinute: s.windowStartMinute, endMinute: s.windowEndMinute }
        : null,
    updatedAt: s?.updatedAt ?? null,
    updatedBy: s?.updatedBy ?? null,
  };
}

/** A change: a value sets it, null returns it to the default, absent leaves it. */
export interface RolloutSettingsChange {
  canarySize?: number | null;
  haltFailedPercent?: number | null;
  haltFailedBlocksInRow?: number | null;
  maxAttempts?: number | null;
  window?: MaintenanceWindow | null;
}

export async function changeRolloutSettings(
  db: Db,
  pbxId: string,
  change: RolloutSettingsChange,
  who: string,
): Promise<void> {
  const set: Partial<typeof pbxRolloutSettings.$inferInsert> = { updatedAt: new Date(), updatedBy: who };
  for (const k of ['canarySize', 'haltFailedPercent', 'haltFailedBlocksInRow', 'maxAttempts'] as const) {
    if (change[k] !== undefined) set[k] = change[k];
  }
  if (change.window !== undefined) {
    set.windowStartMinute = change.window?.startMinute ?? null;
    set.windowEndMinute = change.window?.endMinute ?? null;
  }
  await db
    .insert(pbxRolloutSettings)
    .values({ pbxId, ...set })
    .onConflictDoUpdate({ target: pbxRolloutSettings.pbxId, set });
}
