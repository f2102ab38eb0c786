/** Types held at a version (issue 13): no phone of the type is updated beyond it. */
import { and, eq } from 'drizzle-orm';
import type { Db } from '../client.ts';
import { typeHolds } from '../schema.ts';

export type TypeHoldRow = typeof typeHolds.$inferSelect;

export async function getTypeHold(db: Db, pbxId: string, modelId: string): Promise<TypeHoldRow | undefined> {
  const [row] = await db
    .select()
    .from(typeHolds)
    .where(and(eq(typeHolds.pbxId, pbxId), eq(typeHolds.modelId, modelId)));
  return row;
}

export async function listTypeHolds(db: Db, pbxId: string): Promise<TypeHoldRow[]> {
  return db.select().from(typeHolds).where(eq(typeHolds.pbxId, pbxId));
}

/** Holds the type at `version`; returns the hold it replaced, if any. */
export async function setTypeHold(
  db: Db,
  hold: { pbxId: string; modelId: string; version: string; why: string; who: string },
): Promise<TypeHoldRow | undefined> {
  const before = await getTypeHold(db, hold.pbxId, hold.modelId);
  await db
    .insert(typeHolds)
    .values({ ...hold, at: new Date() })
    .onConflictDoUpdate({
      target: [typeHolds.pbxId, typeHolds.modelId],
      set: { version: hold.version, why: hold.why, who: hold.who, at: new Date() },
    });
  return before;
}

/** Releases the hold; returns it, or undefined when the type was not held. */
export async function releaseTypeHold(
  db: Db,
  pbxId: string,
  modelId: string,
): Promise<TypeHoldRow | undefined> {
  const [row] = await db
    .delete(typeHolds)
    .where(and(eq(typeHolds.pbxId, pbxId), eq(typeHolds.modelId, modelId)))
    .returning();
  return row;
}
