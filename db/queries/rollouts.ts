import { and, eq, inArray, sql } from 'drizzle-orm';
import type { PhoneResult, RolloutPlan } from '../../activities/contracts.ts';
import { compareVersions, newestVersion } from '../../domain/versions.ts';
import type { Db } from '../client.ts';
import {
  localFirmware,
  phoneAccounts,
  phoneModels,
  rolloutResults,
  rollouts,
  typeSettings,
} from '../schema.ts';

interface TypePhones {
  modelId: string;
  model: string;
  autoUpdate: boolean;
  targetVersion: string | null;
  needing: number[];
  unknown: number;
}

/**
 * Per type with ≥ 1 account on the PBX: the R7 switch, the newest local firmware (the rollout target) and the
 * phones on a known, older version (sorted by account id so blocks are stable across retries).
 */
async function typePhones(db: Db, pbxId: string, modelIds?: string[]): Promise<TypePhones[]> {
  const where = [eq(phoneAccounts.pbxId, pbxId)];
  if (modelIds && modelIds.length > 0) where.push(inArray(phoneAccounts.modelId, modelIds));
  const phones = await db
    .select({
      id: phoneAccounts.id,
      modelId: phoneAccounts.modelId,
      model: phoneModels.model,
      installedVersion: phoneAccounts.installedVersion,
      autoUpdate: sql<boolean>`coalesce(${typeSettings.autoUpdate}, true)`,
    })
    .from(phoneAccounts)
    .innerJoin(phoneModels, eq(phoneModels.id, phoneAccounts.modelId))
    .leftJoin(
      typeSettings,
      and(eq(typeSettings.pbxId, phoneAccounts.pbxId), eq(typeSettings.modelId, phoneAccounts.modelId)),
    )
    .where(and(...where))
    .orderBy(phoneAccounts.modelId, phoneAccounts.id);
  const local = await db
    .select({ modelId: localFirmware.modelId, version: localFirmware.version })
    .from(localFirmware)
    .where(eq(localFirmware.pbxId, pbxId));
  const byType = new Map<string, TypePhones>();
  for (const p of phones) {
    let t = byType.get(p.modelId);
    if (!t) {
      const versions = local.filter((l) => l.modelId === p.modelId).map((l) => l.version);
      t = {
        modelId: p.modelId,
        model: p.model,
        autoUpdate: p.autoUpdate,
        targetVersion: newestVersion(versions) ?? null,
        needing: [],
        unknown: 0,
      };
      byType.set(p.modelId, t);
    }
    if (p.installedVersion == null) t.unknown++;
    else if (t.targetVersion && compareVersions(p.installedVersion, t.targetVersion) < 0)
      t.needing.push(p.id);
  }
  return [...byType.values()];
}

export async function planRollouts(db: Db, pbxId: string, modelIds?: string[]): Promise<RolloutPlan[]> {
  return (await typePhones(db, pbxId, modelIds)).map((t) => ({
    modelId: t.modelId,
    model: t.model,
    autoUpdate: t.autoUpdate,
    targetVersion: t.targetVersion,
    phonesNeedingUpdate: t.needing.length,
    phonesUnknownVersion: t.unknown,
  }));
}

/** Phones of one type still below `targetVersion`, and whether R7 lets the type be updated at all. */
export async function rolloutCandidates(db: Db, pbxId: string, modelId: string, targetVersion: string) {
  const [t] = await typePhones(db, pbxId, [modelId]);
  if (!t) return { autoUpdate: true, phoneIds: [] as number[], targetAvailable: false };
  const targetAvailable = t.targetVersion != null && compareVersions(t.targetVersion, targetVersion) >= 0;
  return { autoUpdate: t.autoUpdate, phoneIds: t.needing, targetAvailable };
}

export async function insertRollout(
  db: Db,
  r: {
    id: string;
    workflowId: string;
    pbxId: string;
    modelId: string;
    targetVersion: string;
    why: string;
    who: string;
    total: number;
    blocks: number;
  },
) {
  await db
    .insert(rollouts)
    .values({ ...r, status: 'running' })
    .onConflictDoNothing({ target: rollouts.id });
}

/** Stores one block's per-phone results and advances the counters; idempotent for a retried activity. */
export async function recordBlockResults(db: Db, rolloutId: string, block: number, results: PhoneResult[]) {
  await db.transaction(async (tx) => {
    if (results.length > 0) {
      await tx
        .insert(rolloutResults)
        .values(
          results.map((r) => ({
            rolloutId,
            phoneAccountId: r.phoneId,
            mac: r.mac,
            block,
            outcome: r.outcome,
            fromVersion: r.fromVersion,
            reportedVersion: r.reportedVersion,
            detail: r.detail ?? null,
          })),
        )
        .onConflictDoUpdate({
          target: [rolloutResults.rolloutId, rolloutResults.phoneAccountId],
          set: {
            outcome: sql`excluded.outcome`,
            reportedVersion: sql`excluded.reported_version`,
            detail: sql`excluded.detail`,
            at: sql`now()`,
          },
        });
    }
    await tx
      .update(rollouts)
      .set({
        updated: sql`(select count(*) from ${rolloutResults} where ${rolloutResults.rolloutId} = ${rolloutId} and ${rolloutResults.outcome} in ('updated', 'already-current'))`,
        failed: sql`(select count(*) from ${rolloutResults} where ${rolloutResults.rolloutId} = ${rolloutId} and ${rolloutResults.outcome} not in ('updated', 'already-current'))`,
        blocksDone: sql`greatest(${rollouts.blocksDone}, ${block + 1})`,
      })
      .where(eq(rollouts.id, rolloutId));
  });
}

export async function finishRolloutRow(
  db: Db,
  rolloutId: string,
  status: 'completed' | 'failed' | 'cancelled',
) {
  const [row] = await db
    .update(rollouts)
    .set({ status, finishedAt: new Date() })
    .where(eq(rollouts.id, rolloutId))
    .returning();
  return row;
}

export async function typeAutoUpdate(db: Db, pbxId: string, modelId: string): Promise<boolean> {
  const [row] = await db
    .select({ autoUpdate: typeSettings.autoUpdate })
    .from(typeSettings)
    .where(and(eq(typeSettings.pbxId, pbxId), eq(typeSettings.modelId, modelId)));
  return row?.autoUpdate ?? true;
}
