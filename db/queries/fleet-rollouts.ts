/** Fleet rollouts (issue 13): one model to one version across many PBXes, in waves; their per-PBX rollouts. */
import { asc, desc, eq } from 'drizzle-orm';
import type { FleetPbxState } from '../../domain/fleet-waves.ts';
import type { Reason } from '../../domain/reasons.ts';
import { isFinal, type RolloutStatus } from '../../domain/rollout.ts';
import type { Db } from '../client.ts';
import { fleetRollouts, rollouts } from '../schema.ts';

export type FleetRolloutRow = typeof fleetRollouts.$inferSelect;

export async function insertFleetRollout(db: Db, row: typeof fleetRollouts.$inferInsert): Promise<void> {
  await db.insert(fleetRollouts).values(row).onConflictDoNothing({ target: fleetRollouts.id });
}

export async function getFleetRollout(db: Db, id: string): Promise<FleetRolloutRow | undefined> {
  const [row] = await db.select().from(fleetRollouts).where(eq(fleetRollouts.id, id));
  return row;
}

export async function listFleetRollouts(db: Db, limit: number): Promise<FleetRolloutRow[]> {
  return db.select().from(fleetRollouts).orderBy(desc(fleetRollouts.startedAt)).limit(limit);
}

/** The fleet workflow's record of how it stands; an ended fleet rollout keeps its end. */
export async function updateFleetRollout(
  db: Db,
  id: string,
  s: { status: RolloutStatus; reason: Reason | null; currentWave: number; pbxStates: FleetPbxState[] },
): Promise<void> {
  const row = await getFleetRollout(db, id);
  if (!row || isFinal(row.status)) return;
  await db
    .update(fleetRollouts)
    .set({
      status: s.status,
      reason: s.reason,
      currentWave: s.currentWave,
      pbxStates: Object.fromEntries(s.pbxStates.map((p) => [p.pbxId, p])),
      ...(isFinal(s.status) ? { finishedAt: new Date() } : {}),
    })
    .where(eq(fleetRollouts.id, id));
}

/** The per-PBX rollouts a fleet rollout started, oldest first. */
export async function rolloutsOfFleet(db: Db, fleetRolloutId: string) {
  return db
    .select()
    .from(rollouts)
    .where(eq(rollouts.fleetRolloutId, fleetRolloutId))
    .orderBy(asc(rollouts.startedAt));
}
