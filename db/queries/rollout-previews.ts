/** Dry-run previews of a type's next rollout (issue 13), and the one a rollout is compared with. */
import { and, desc, eq, gt, inArray, lt, lte } from 'drizzle-orm';
import type { Db } from '../client.ts';
import { phoneAccounts, rolloutPreviews, rollouts } from '../schema.ts';
import type { RolloutRow } from './rollouts.ts';

export type PreviewRow = typeof rolloutPreviews.$inferSelect;

export async function insertPreview(db: Db, row: typeof rolloutPreviews.$inferInsert): Promise<PreviewRow> {
  const [inserted] = await db.insert(rolloutPreviews).values(row).returning();
  return inserted as PreviewRow;
}

export async function getPreview(db: Db, pbxId: string, id: string): Promise<PreviewRow | undefined> {
  const [row] = await db
    .select()
    .from(rolloutPreviews)
    .where(and(eq(rolloutPreviews.pbxId, pbxId), eq(rolloutPreviews.id, id)));
  return row;
}

/**
 * The preview a rollout is compared with: the newest one of its type, target and direction made before it started
 * and after the type's previous rollout started (a preview is about the next rollout, not a later one).
 */
export async function previewBefore(db: Db, r: RolloutRow): Promise<PreviewRow | undefined> {
  const [previous] = await db
    .select({ startedAt: rollouts.startedAt })
    .from(rollouts)
    .where(
      and(eq(rollouts.pbxId, r.pbxId), eq(rollouts.modelId, r.modelId), lt(rollouts.startedAt, r.startedAt)),
    )
    .orderBy(desc(rollouts.startedAt))
    .limit(1);
  const [row] = await db
    .select()
    .from(rolloutPreviews)
    .where(
      and(
        eq(rolloutPreviews.pbxId, r.pbxId),
        eq(rolloutPreviews.modelId, r.modelId),
        eq(rolloutPreviews.targetVersion, r.targetVersion),
        eq(rolloutPreviews.direction, r.direction),
        lte(rolloutPreviews.createdAt, r.startedAt),
        ...(previous ? [gt(rolloutPreviews.createdAt, previous.startedAt)] : []),
      ),
    )
    .orderBy(desc(rolloutPreviews.createdAt))
    .limit(1);
  return row;
}

/** The accounts still there among these phone ids, with the version they report now. */
export async function accountsNow(db: Db, pbxId: string, ids: number[]) {
  if (ids.length === 0) return new Map<number, { installedVersion: string | null }>();
  const rows = await db
    .select({ id: phoneAccounts.id, installedVersion: phoneAccounts.installedVersion })
    .from(phoneAccounts)
    .where(and(eq(phoneAccounts.pbxId, pbxId), inArray(phoneAccounts.id, ids)));
  return new Map(rows.map((r) => [r.id, { installedVersion: r.installedVersion }]));
}
