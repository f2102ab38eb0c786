/** Reads of finished and running rollouts (R12) with their per-phone results, for the admin API. */
import { and, asc, desc, eq, gt, inArray, type SQL } from 'drizzle-orm';
import type { Db } from '../client.ts';
import { rolloutResults, rollouts } from '../schema.ts';

export type RolloutRow = typeof rollouts.$inferSelect;
export type RolloutResultRow = typeof rolloutResults.$inferSelect;
export type RolloutStatus = RolloutRow['status'];

export async function listRollouts(
  db: Db,
  pbxId: string,
  f: { modelId?: string; status?: RolloutStatus; limit: number },
): Promise<RolloutRow[]> {
  const where: SQL[] = [eq(rollouts.pbxId, pbxId)];
  if (f.modelId) where.push(eq(rollouts.modelId, f.modelId));
  if (f.status) where.push(eq(rollouts.status, f.status));
  return db
    .select()
    .from(rollouts)
    .where(and(...where))
    .orderBy(desc(rollouts.startedAt))
    .limit(f.limit);
}

/** The most recent rollout of every type of the PBX. */
export async function latestRolloutPerType(db: Db, pbxId: string): Promise<RolloutRow[]> {
  return db
    .selectDistinctOn([rollouts.modelId])
    .from(rollouts)
    .where(eq(rollouts.pbxId, pbxId))
    .orderBy(rollouts.modelId, desc(rollouts.startedAt));
}

/** The rollout only if it belongs to this PBX. */
export async function getRollout(db: Db, pbxId: string, id: string): Promise<RolloutRow | undefined> {
  const [row] = await db
    .select()
    .from(rollouts)
    .where(and(eq(rollouts.pbxId, pbxId), eq(rollouts.id, id)));
  return row;
}

export async function listRolloutResults(
  db: Db,
  rolloutId: string,
  page: { afterPhoneId?: number; limit: number },
): Promise<RolloutResultRow[]> {
  const where: SQL[] = [eq(rolloutResults.rolloutId, rolloutId)];
  if (page.afterPhoneId) where.push(gt(rolloutResults.phoneAccountId, page.afterPhoneId));
  return db
    .select()
    .from(rolloutResults)
    .where(and(...where))
    .orderBy(asc(rolloutResults.phoneAccountId))
    .limit(page.limit);
}

/** Phones parked in these rollouts (issue 13): tried every attempt, kept with their last reason. */
export async function listParkedPhones(db: Db, rolloutIds: string[]): Promise<RolloutResultRow[]> {
  if (rolloutIds.length === 0) return [];
  return db
    .select()
    .from(rolloutResults)
    .where(and(inArray(rolloutResults.rolloutId, rolloutIds), eq(rolloutResults.outcome, 'parked')))
    .orderBy(asc(rolloutResults.rolloutId), asc(rolloutResults.phoneAccountId));
}
