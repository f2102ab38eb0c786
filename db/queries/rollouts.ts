import { and, eq, inArray, sql } from 'drizzle-orm';
import type { RolloutPlan } from '../../activities/contracts.ts';
import type { Reason } from '../../domain/reasons.ts';
import type { RolloutEnd, RolloutStatus } from '../../domain/rollout.ts';
import { compareVersions, newestVersion } from '../../domain/versions.ts';
import type { Db } from '../client.ts';
import { localFirmware, phoneAccounts, phoneModels, rollouts, typeSettings } from '../schema.ts';

interface TypePhones {
  modelId: string;
  model: string;
  autoUpdate: boolean;
  targetVersion: string | null;
  needing: number[];
  unknown: number[];
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
        unknown: [],
      };
      byType.set(p.modelId, t);
    }
    if (p.installedVersion == null) t.unknown.push(p.id);
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
    phonesUnknownVersion: t.unknown.length,
  }));
}

/**
 * Phones of one type a rollout to `targetVersion` covers: the ones below it (to update) and the ones that never
 * reported a version (named as not contacted); and whether R7 lets the type be updated at all.
 */
export async function rolloutCandidates(db: Db, pbxId: string, modelId: string, targetVersion: string) {
  const [t] = await typePhones(db, pbxId, [modelId]);
  if (!t)
    return { autoUpdate: true, phoneIds: [] as number[], unknownIds: [] as number[], targetAvailable: false };
  const targetAvailable = t.targetVersion != null && compareVersions(t.targetVersion, targetVersion) >= 0;
  return { autoUpdate: t.autoUpdate, phoneIds: t.needing, unknownIds: t.unknown, targetAvailable };
}

export type RolloutRow = typeof rollouts.$inferSelect;

/** Opens the rollout's row (idempotent for a retried activity). */
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
    status: Extract<RolloutStatus, 'running' | 'refused'>;
    reason?: Reason;
  },
) {
  await db
    .insert(rollouts)
    .values({ ...r, reason: r.reason ?? null, ...(r.status === 'refused' ? { finishedAt: new Date() } : {}) })
    .onConflictDoNothing({ target: rollouts.id });
}

export async function getRolloutRow(db: Db, rolloutId: string): Promise<RolloutRow | undefined> {
  const [row] = await db.select().from(rollouts).where(eq(rollouts.id, rolloutId));
  return row;
}

/** The rollout of this type that is running now, if any (R12: at most one). */
export async function runningRolloutOfType(
  db: Db,
  pbxId: string,
  modelId: string,
): Promise<RolloutRow | undefined> {
  const [row] = await db
    .select()
    .from(rollouts)
    .where(and(eq(rollouts.pbxId, pbxId), eq(rollouts.modelId, modelId), eq(rollouts.status, 'running')));
  return row;
}

/** Ends a running rollout with its final word; a rollout already ended keeps its end (first end stands). */
export async function endRolloutRow(
  db: Db,
  rolloutId: string,
  end: { status: RolloutEnd; reason: Reason | null },
): Promise<RolloutRow | undefined> {
  const [row] = await db
    .update(rollouts)
    .set({ status: end.status, reason: end.reason, finishedAt: new Date() })
    .where(and(eq(rollouts.id, rolloutId), eq(rollouts.status, 'running')))
    .returning();
  return row;
}

/** Records what the rollout waits for while running (a dependency down), or clears it (null). */
export async function setRolloutWaiting(db: Db, rolloutId: string, waiting: Reason | null) {
  await db
    .update(rollouts)
    .set({ reason: waiting })
    .where(and(eq(rollouts.id, rolloutId), eq(rollouts.status, 'running')));
}

export async function typeAutoUpdate(db: Db, pbxId: string, modelId: string): Promise<boolean> {
  const [row] = await db
    .select({ autoUpdate: typeSettings.autoUpdate })
    .from(typeSettings)
    .where(and(eq(typeSettings.pbxId, pbxId), eq(typeSettings.modelId, modelId)));
  return row?.autoUpdate ?? true;
}
