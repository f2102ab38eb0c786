import { and, asc, eq, gt, ilike, inArray, or, type SQL } from 'drizzle-orm';
import type { Db } from '../client.ts';
import { pbxes } from '../schema.ts';

export type PbxRow = typeof pbxes.$inferSelect;
export type NewPbx = typeof pbxes.$inferInsert;

export async function insertPbx(db: Db, pbx: NewPbx): Promise<PbxRow> {
  const [row] = await db.insert(pbxes).values(pbx).returning();
  return row!;
}

export async function getPbx(db: Db, id: string): Promise<PbxRow | undefined> {
  const [row] = await db.select().from(pbxes).where(eq(pbxes.id, id));
  return row;
}

/** Removes a PBX and (cascading) everything it owns. */
export async function deletePbx(db: Db, id: string): Promise<void> {
  await db.delete(pbxes).where(eq(pbxes.id, id));
}

export async function sipDomainTaken(db: Db, sipDomain: string): Promise<boolean> {
  const [row] = await db.select({ id: pbxes.id }).from(pbxes).where(eq(pbxes.sipDomain, sipDomain));
  return row !== undefined;
}

/** All PBXes, or only the given ones (a PBX-scoped token sees its own only, R16). */
export async function listPbxes(db: Db, onlyIds?: string[]): Promise<PbxRow[]> {
  const q = db.select().from(pbxes);
  return (onlyIds ? q.where(inArray(pbxes.id, onlyIds)) : q).orderBy(asc(pbxes.id));
}

export interface PbxPageQuery {
  /** Only these PBXes (a PBX-scoped token sees its own only, R16). */
  onlyIds?: string[] | undefined;
  /** Ids after this one (the previous page's last id). */
  after?: string | undefined;
  /** Id or name containing this text, any case. */
  search?: string | undefined;
  limit: number;
}

/** One page of PBXes in id order, filtered in the database (10,000 PBXes are never sent to find one). */
export async function pagePbxes(db: Db, q: PbxPageQuery): Promise<PbxRow[]> {
  const where: SQL[] = [];
  if (q.onlyIds) where.push(inArray(pbxes.id, q.onlyIds));
  if (q.after !== undefined) where.push(gt(pbxes.id, q.after));
  if (q.search) {
    const pattern = `%${q.search.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
    where.push(or(ilike(pbxes.id, pattern), ilike(pbxes.name, pattern)) as SQL);
  }
  return db
    .select()
    .from(pbxes)
    .where(and(...where))
    .orderBy(asc(pbxes.id))
    .limit(q.limit);
}

/** R8 / R11: the only settings an admin changes. The R9 weekly check moment is deliberately not among them. */
export interface PbxSettingsChange {
  autoDownloadInstall?: boolean;
  updateMoment?: { day: number; minute: number } | null;
}

export async function updatePbxSettings(db: Db, id: string, change: PbxSettingsChange): Promise<PbxRow> {
  const set: Partial<NewPbx> = {};
  if (change.autoDownloadInstall !== undefined) set.autoDownloadInstall = change.autoDownloadInstall;
  if (change.updateMoment !== undefined) {
    set.updateDay = change.updateMoment?.day ?? null;
    set.updateMinute = change.updateMoment?.minute ?? null;
  }
  const [row] = await db.update(pbxes).set(set).where(eq(pbxes.id, id)).returning();
  return row!;
}

export async function setSoftwareVersion(db: Db, id: string, softwareVersion: string): Promise<void> {
  await db.update(pbxes).set({ softwareVersion }).where(eq(pbxes.id, id));
}
