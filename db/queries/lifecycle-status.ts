/**
 * The status a PBX's lifecycle workflow records of itself (pbx_lifecycle_status): written by its bookkeeping
 * activity whenever it changes, read by the API's status route. A report only replaces an older one: a later run
 * (continue-as-new, a restarted workflow) or a later report of the same run.
 */
import { eq, sql } from 'drizzle-orm';
import type { Db } from '../client.ts';
import { pbxLifecycleStatus } from '../schema.ts';

export interface LifecycleStatusReport {
  pbxId: string;
  status: object;
  /** When the reporting workflow run started (epoch ms). */
  runStartedAt: number;
  /** Report number within the run. */
  seq: number;
}

/** Stores the report unless a newer one is there; a PBX deleted meanwhile is left alone. */
export async function recordLifecycleStatus(db: Db, r: LifecycleStatusReport): Promise<void> {
  const runStartedAt = new Date(r.runStartedAt);
  try {
    await db
      .insert(pbxLifecycleStatus)
      .values({ pbxId: r.pbxId, status: r.status as Record<string, unknown>, runStartedAt, seq: r.seq })
      .onConflictDoUpdate({
        target: pbxLifecycleStatus.pbxId,
        set: {
          status: sql`excluded.status`,
          runStartedAt: sql`excluded.run_started_at`,
          seq: sql`excluded.seq`,
          recordedAt: sql`now()`,
        },
        setWhere: sql`(${pbxLifecycleStatus.runStartedAt}, ${pbxLifecycleStatus.seq}) < (excluded.run_started_at, excluded.seq)`,
      });
  } catch (err) {
    // 23503: the PBX is gone (its workflow ends at its next settings load).
    if ((err as { cause?: { code?: string } }).cause?.code === '23503') return;
    throw err;
  }
}

export async function getLifecycleStatus(
  db: Db,
  pbxId: string,
): Promise<{ status: Record<string, unknown>; recordedAt: Date } | undefined> {
  const [row] = await db
    .select({ status: pbxLifecycleStatus.status, recordedAt: pbxLifecycleStatus.recordedAt })
    .from(pbxLifecycleStatus)
    .where(eq(pbxLifecycleStatus.pbxId, pbxId));
  return row;
}
