import { and, asc, count, eq, gt, inArray } from 'drizzle-orm';
import type { Db } from '../client.ts';
import { pbxes, phoneAccounts } from '../schema.ts';
import { markFirmwareForCleanupIfUnused } from './local-firmware.ts';

export type PhoneAccountRow = typeof phoneAccounts.$inferSelect;

export interface NewPhoneAccount {
  modelId: string;
  /** 12 lower-case hex digits. */
  mac: string;
  extension: string;
  displayName: string | null;
  active: boolean;
  sipHa1: string;
  /** lib/secrets.ts sealSecret of the SIP password. */
  sipPasswordSealed: string;
}

export type InsertAccountsResult =
  | {
      ok: true;
      rows: PhoneAccountRow[];
      /** R13 (c): types that had no account on this PBX before this insert. */
      newTypes: string[];
    }
  | { ok: false; conflict: { index: number; field: 'mac' | 'extension'; value: string } };

/**
 * Inserts accounts all-or-nothing. The PBX row is locked for the transaction so that two concurrent requests
 * cannot both believe they created the first account of a type (R13 c).
 */
export async function insertPhoneAccounts(
  db: Db,
  pbxId: string,
  accounts: NewPhoneAccount[],
): Promise<InsertAccountsResult> {
  return db.transaction(async (tx) => {
    await tx.select({ id: pbxes.id }).from(pbxes).where(eq(pbxes.id, pbxId)).for('update');
    const macs = accounts.map((a) => a.mac);
    const extensions = accounts.map((a) => a.extension);
    // MACs are unique in the deployment (a phone belongs to one PBX), extensions per PBX. Which PBX holds a taken
    // MAC is not read at all: the caller must not learn it (R16).
    const takenMacs = new Set(
      (
        await tx
          .select({ mac: phoneAccounts.mac })
          .from(phoneAccounts)
          .where(inArray(phoneAccounts.mac, macs))
      ).map((t) => t.mac),
    );
    const takenExtensions = new Set(
      (
        await tx
          .select({ extension: phoneAccounts.extension })
          .from(phoneAccounts)
          .where(and(eq(phoneAccounts.pbxId, pbxId), inArray(phoneAccounts.extension, extensions)))
      ).map((t) => t.extension),
    );
    for (const [index, a] of accounts.entries()) {
      if (takenMacs.has(a.mac)) return { ok: false, conflict: { index, field: 'mac', value: a.mac } };
      if (takenExtensions.has(a.extension)) {
        return { ok: false, conflict: { index, field: 'extension', value: a.extension } };
      }
    }
    const existingTypes = await tx
      .selectDistinct({ modelId: phoneAccounts.modelId })
      .from(phoneAccounts)
      .where(eq(phoneAccounts.pbxId, pbxId));
    const before = new Set(existingTypes.map((r) => r.modelId));
    const rows = await tx
      .insert(phoneAccounts)
      .values(accounts.map((a) => ({ ...a, pbxId })))
      .returning();
    const newTypes = [...new Set(accounts.map((a) => a.modelId))].filter((m) => !before.has(m));
    return { ok: true, rows, newTypes };
  });
}

/** R4: the types with at least one account (active or not) on the PBX. */
export async function modelIdsWithAccounts(db: Db, pbxId: string): Promise<string[]> {
  const rows = await db
    .selectDistinct({ modelId: phoneAccounts.modelId })
    .from(phoneAccounts)
    .where(eq(phoneAccounts.pbxId, pbxId));
  return rows.map((r) => r.modelId);
}

export async function listPhoneAccounts(
  db: Db,
  pbxId: string,
  page: { afterId?: number; limit: number; modelId?: string },
): Promise<PhoneAccountRow[]> {
  const where = [eq(phoneAccounts.pbxId, pbxId)];
  if (page.afterId) where.push(gt(phoneAccounts.id, page.afterId));
  if (page.modelId) where.push(eq(phoneAccounts.modelId, page.modelId));
  return db
    .select()
    .from(phoneAccounts)
    .where(and(...where))
    .orderBy(asc(phoneAccounts.id))
    .limit(page.limit);
}

/** The account only if it belongs to this PBX: another tenant's account is as unknown as a missing one. */
export async function getPhoneAccount(
  db: Db,
  pbxId: string,
  id: number,
): Promise<PhoneAccountRow | undefined> {
  const [row] = await db
    .select()
    .from(phoneAccounts)
    .where(and(eq(phoneAccounts.pbxId, pbxId), eq(phoneAccounts.id, id)));
  return row;
}

/**
 * Deletes one account of this PBX; tells whether it was the last of its type. R5: the last account's deletion and
 * the marking of its type's firmware for the next restart commit together, so no crash can leave firmware that
 * no restart would ever clean up.
 */
export async function deletePhoneAccount(
  db: Db,
  pbxId: string,
  id: number,
): Promise<{ deleted: PhoneAccountRow; lastOfType: boolean; markedForRestart: string[] } | undefined> {
  return db.transaction(async (tx) => {
    await tx.select({ id: pbxes.id }).from(pbxes).where(eq(pbxes.id, pbxId)).for('update');
    const [deleted] = await tx
      .delete(phoneAccounts)
      .where(and(eq(phoneAccounts.pbxId, pbxId), eq(phoneAccounts.id, id)))
      .returning();
    if (!deleted) return undefined;
    const [left] = await tx
      .select({ n: count() })
      .from(phoneAccounts)
      .where(and(eq(phoneAccounts.pbxId, pbxId), eq(phoneAccounts.modelId, deleted.modelId)));
    const lastOfType = (left?.n ?? 0) === 0;
    const markedForRestart = lastOfType
      ? await markFirmwareForCleanupIfUnused(tx, pbxId, deleted.modelId)
      : [];
    return { deleted, lastOfType, markedForRestart };
  });
}
