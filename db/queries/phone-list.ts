/**
 * The phones of a PBX as its admin looks at them (issue 12): per type, with what each reported, its registration,
 * the firmware a running block offers it, and what the latest rollout of its type did with it.
 */
import { and, asc, desc, eq, gt, inArray, type SQL } from 'drizzle-orm';
import type { Db } from '../client.ts';
import { phoneAccounts, phoneModels, rolloutResults, rollouts } from '../schema.ts';

export async function listPhonesOfPbx(
  db: Db,
  pbxId: string,
  page: { modelId?: string | undefined; afterId?: number | undefined; limit: number },
) {
  const where: SQL[] = [eq(phoneAccounts.pbxId, pbxId)];
  if (page.modelId) where.push(eq(phoneAccounts.modelId, page.modelId));
  if (page.afterId) where.push(gt(phoneAccounts.id, page.afterId));
  return db
    .select({
      id: phoneAccounts.id,
      mac: phoneAccounts.mac,
      extension: phoneAccounts.extension,
      displayName: phoneAccounts.displayName,
      modelId: phoneAccounts.modelId,
      model: phoneModels.model,
      active: phoneAccounts.active,
      installedVersion: phoneAccounts.installedVersion,
      userAgent: phoneAccounts.userAgent,
      lastContactAt: phoneAccounts.lastContactAt,
      lastProvisionedAt: phoneAccounts.lastProvisionedAt,
      lastBootAt: phoneAccounts.lastBootAt,
      sipContact: phoneAccounts.sipContact,
      sipRegisteredUntil: phoneAccounts.sipRegisteredUntil,
      firmwareTargetVersion: phoneAccounts.firmwareTargetVersion,
      firmwareTargetExpiresAt: phoneAccounts.firmwareTargetExpiresAt,
    })
    .from(phoneAccounts)
    .innerJoin(phoneModels, eq(phoneModels.id, phoneAccounts.modelId))
    .where(and(...where))
    .orderBy(asc(phoneAccounts.id))
    .limit(page.limit);
}

/**
 * For each of these phones, its result in the most recent rollout that covered it. Looked up through the PBX's
 * rollouts (index on pbx and type) and the results' primary key, never by scanning every result.
 */
export async function latestRolloutResults(db: Db, pbxId: string, phoneIds: number[]) {
  if (phoneIds.length === 0) return [];
  return db
    .selectDistinctOn([rolloutResults.phoneAccountId], {
      phoneAccountId: rolloutResults.phoneAccountId,
      rolloutId: rollouts.id,
      targetVersion: rollouts.targetVersion,
      rolloutStatus: rollouts.status,
      startedAt: rollouts.startedAt,
      outcome: rolloutResults.outcome,
      lastOutcome: rolloutResults.lastOutcome,
      fromVersion: rolloutResults.fromVersion,
      reportedVersion: rolloutResults.reportedVersion,
      reason: rolloutResults.reason,
      at: rolloutResults.at,
    })
    .from(rolloutResults)
    .innerJoin(rollouts, eq(rollouts.id, rolloutResults.rolloutId))
    .where(and(eq(rollouts.pbxId, pbxId), inArray(rolloutResults.phoneAccountId, phoneIds)))
    .orderBy(rolloutResults.phoneAccountId, desc(rollouts.startedAt));
}
