import { and, eq, inArray, sql } from 'drizzle-orm';
import type { RolloutDirection, RolloutPlan } from '../../activities/contracts.ts';
import type { Reason } from '../../domain/reasons.ts';
import {
  OPEN_ROLLOUT_STATUSES,
  type OpenRolloutStatus,
  type RolloutEnd,
  type RolloutStatus,
} from '../../domain/rollout.ts';
import type { RolloutPolicy } from '../../domain/rollout-policy.ts';
import { compareVersions, newestVersion } from '../../domain/versions.ts';
import type { Db } from '../client.ts';
import { localFirmware, phoneAccounts, phoneModels, rollouts, typeHolds, typeSettings } from '../schema.ts';

const isOpen = () => inArray(rollouts.status, [...OPEN_ROLLOUT_STATUSES]);

/** A phone of a type as rollout planning sees it. */
export interface TypePhone {
  id: number;
  mac: string;
  extension: string;
  installedVersion: string | null;
  /** A live SIP registration now (domain/rollout-plan.ts chooses the canary from these). */
  registered: boolean;
  /** No firmware download of its own in progress right now. */
  idle: boolean;
}

interface TypePhones {
  modelId: string;
  model: string;
  vendor: string;
  autoUpdate: boolean;
  heldAt: string | null;
  /** Newest firmware stored on the PBX for the type, whatever the hold. */
  newestLocal: string | null;
  localVersions: string[];
  targetVersion: string | null;
  /** Phones to update, in account order (stable blocks across retries). */
  needing: TypePhone[];
  unknown: TypePhone[];
}

export interface TypePhonesOptions {
  modelIds?: string[];
  /** A chosen target (downgrade, fleet); default the newest local firmware the hold lets through. */
  targetVersion?: string;
  direction?: RolloutDirection;
  /** Only these phones. */
  phoneIds?: number[];
  now?: Date;
}

/** A download started this long ago without finishing is no longer taken as in progress. */
const FETCH_IN_PROGRESS_MS = 30 * 60_000;

/**
 * Per type with ≥ 1 account on the PBX: the R7 switch, the hold (issue 13), the rollout target (the newest local
 * firmware not beyond the hold, or the chosen one) and the phones to update: on a known version older than the
 * target (newer, for a downgrade), sorted by account id so blocks are stable across retries.
 */
async function typePhones(db: Db, pbxId: string, o: TypePhonesOptions = {}): Promise<TypePhones[]> {
  const now = o.now ?? new Date();
  const where = [eq(phoneAccounts.pbxId, pbxId)];
  if (o.modelIds && o.modelIds.length > 0) where.push(inArray(phoneAccounts.modelId, o.modelIds));
  const phones = await db
    .select({
      id: phoneAccounts.id,
      mac: phoneAccounts.mac,
      extension: phoneAccounts.extension,
      modelId: phoneAccounts.modelId,
      model: phoneModels.model,
      vendor: phoneModels.vendor,
      installedVersion: phoneAccounts.installedVersion,
      sipContact: phoneAccounts.sipContact,
      sipRegisteredUntil: phoneAccounts.sipRegisteredUntil,
      fetchStarted: phoneAccounts.firmwareFetchStartedAt,
      fetchCompleted: phoneAccounts.firmwareFetchCompletedAt,
      fetchAborted: phoneAccounts.firmwareFetchAbortedAt,
      autoUpdate: sql<boolean>`coalesce(${typeSettings.autoUpdate}, true)`,
      heldAt: typeHolds.version,
    })
    .from(phoneAccounts)
    .innerJoin(phoneModels, eq(phoneModels.id, phoneAccounts.modelId))
    .leftJoin(
      typeSettings,
      and(eq(typeSettings.pbxId, phoneAccounts.pbxId), eq(typeSettings.modelId, phoneAccounts.modelId)),
    )
    .leftJoin(
      typeHolds,
      and(eq(typeHolds.pbxId, phoneAccounts.pbxId), eq(typeHolds.modelId, phoneAccounts.modelId)),
    )
    .where(and(...where))
    .orderBy(phoneAccounts.modelId, phoneAccounts.id);
  const local = await db
    .select({ modelId: localFirmware.modelId, version: localFirmware.version })
    .from(localFirmware)
    .where(eq(localFirmware.pbxId, pbxId));
  const only = o.phoneIds ? new Set(o.phoneIds) : null;
  const downgrade = o.direction === 'downgrade';
  const byType = new Map<string, TypePhones>();
  for (const p of phones) {
    let t = byType.get(p.modelId);
    if (!t) {
      const versions = local.filter((l) => l.modelId === p.modelId).map((l) => l.version);
      const allowed = p.heldAt
        ? versions.filter((v) => compareVersions(v, p.heldAt as string) <= 0)
        : versions;
      t = {
        modelId: p.modelId,
        model: p.model,
        vendor: p.vendor,
        autoUpdate: p.autoUpdate,
        heldAt: p.heldAt,
        newestLocal: newestVersion(versions) ?? null,
        localVersions: versions,
        targetVersion: o.targetVersion ?? newestVersion(allowed) ?? null,
        needing: [],
        unknown: [],
      };
      byType.set(p.modelId, t);
    }
    if (only && !only.has(p.id)) continue;
    const fetching =
      p.fetchStarted !== null &&
      now.getTime() - p.fetchStarted.getTime() < FETCH_IN_PROGRESS_MS &&
      !(p.fetchCompleted && p.fetchCompleted >= p.fetchStarted) &&
      !(p.fetchAborted && p.fetchAborted >= p.fetchStarted);
    const phone: TypePhone = {
      id: p.id,
      mac: p.mac,
      extension: p.extension,
      installedVersion: p.installedVersion,
      registered: p.sipContact !== null && p.sipRegisteredUntil !== null && p.sipRegisteredUntil > now,
      idle: !fetching,
    };
    if (p.installedVersion == null) t.unknown.push(phone);
    else if (t.targetVersion) {
      const c = compareVersions(p.installedVersion, t.targetVersion);
      if (downgrade ? c > 0 : c < 0) t.needing.push(phone);
    }
  }
  return [...byType.values()];
}

export async function planRollouts(
  db: Db,
  pbxId: string,
  o: Omit<TypePhonesOptions, 'now'> = {},
): Promise<RolloutPlan[]> {
  return (await typePhones(db, pbxId, o)).map((t) => ({
    modelId: t.modelId,
    model: t.model,
    autoUpdate: t.autoUpdate,
    targetVersion: t.targetVersion,
    heldAt: t.heldAt,
    heldBack: t.heldAt !== null && t.newestLocal !== null && compareVersions(t.newestLocal, t.heldAt) > 0,
    phonesNeedingUpdate: t.needing.length,
    phonesUnknownVersion: t.unknown.length,
  }));
}

/**
 * Phones of one type a rollout to `targetVersion` covers: the ones to update (below it; above it for a downgrade)
 * and the ones that never reported a version (named as not contacted); whether R7 lets the type be updated at all,
 * its hold, and whether the PBX stores the target.
 */
export async function rolloutCandidates(
  db: Db,
  pbxId: string,
  modelId: string,
  targetVersion: string,
  o: Pick<TypePhonesOptions, 'direction' | 'phoneIds' | 'now'> = {},
) {
  const [t] = await typePhones(db, pbxId, { ...o, modelIds: [modelId], targetVersion });
  if (!t)
    return {
      autoUpdate: true,
      heldAt: null as string | null,
      model: modelId,
      vendor: '',
      phones: [] as TypePhone[],
      phoneIds: [] as number[],
      unknown: [] as TypePhone[],
      unknownIds: [] as number[],
      targetAvailable: false,
    };
  return {
    autoUpdate: t.autoUpdate,
    heldAt: t.heldAt,
    model: t.model,
    vendor: t.vendor,
    phones: t.needing,
    phoneIds: t.needing.map((p) => p.id),
    unknown: t.unknown,
    unknownIds: t.unknown.map((p) => p.id),
    targetAvailable: t.localVersions.some((v) => compareVersions(v, targetVersion) === 0),
  };
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
    direction?: RolloutDirection;
    policy?: RolloutPolicy;
    fleetRolloutId?: string;
    wave?: number;
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

/** The rollout of this type that is open now (running, paused or halted), if any (R12: at most one). */
export async function runningRolloutOfType(
  db: Db,
  pbxId: string,
  modelId: string,
): Promise<RolloutRow | undefined> {
  const [row] = await db
    .select()
    .from(rollouts)
    .where(and(eq(rollouts.pbxId, pbxId), eq(rollouts.modelId, modelId), isOpen()));
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
    .where(and(eq(rollouts.id, rolloutId), isOpen()))
    .returning();
  return row;
}

/** Records what the rollout waits for while running (a dependency down), or clears it (null). */
export async function setRolloutWaiting(db: Db, rolloutId: string, waiting: Reason | null) {
  await db
    .update(rollouts)
    .set({ reason: waiting })
    .where(and(eq(rollouts.id, rolloutId), isOpen()));
}

/** An open rollout's word and why (paused, halted, running again); an ended one keeps its end. */
export async function setRolloutState(
  db: Db,
  rolloutId: string,
  state: { status: OpenRolloutStatus; reason: Reason | null },
): Promise<RolloutRow | undefined> {
  const [row] = await db
    .update(rollouts)
    .set({ status: state.status, reason: state.reason })
    .where(and(eq(rollouts.id, rolloutId), isOpen()))
    .returning();
  return row;
}

/** Late joiners make a rollout cover more phones. */
export async function addToRolloutTotal(db: Db, rolloutId: string, more: number): Promise<number> {
  const [row] = await db
    .update(rollouts)
    .set({ total: sql`${rollouts.total} + ${more}` })
    .where(eq(rollouts.id, rolloutId))
    .returning({ total: rollouts.total });
  return row?.total ?? 0;
}

export async function typeAutoUpdate(db: Db, pbxId: string, modelId: string): Promise<boolean> {
  const [row] = await db
    .select({ autoUpdate: typeSettings.autoUpdate })
    .from(typeSettings)
    .where(and(eq(typeSettings.pbxId, pbxId), eq(typeSettings.modelId, modelId)));
  return row?.autoUpdate ?? true;
}
