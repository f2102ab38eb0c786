/**
 * Firmware each PBX holds (R4, R5, R2) and the shared content-addressed blobs behind it (R16).
 * A downloaded local_firmware row references a blob by sha256; an image row (R2) references a file of the PBX
 * image and no blob. Blob files change only under the blob's advisory lock (see lockBlob).
 */
import { and, asc, eq, exists, inArray, not, sql } from 'drizzle-orm';
import type { Db } from '../client.ts';
import { blobs, localFirmware, phoneAccounts, phoneModels } from '../schema.ts';

/** A database handle or an open transaction. */
export type DbOrTx = Db | Parameters<Parameters<Db['transaction']>[0]>[0];

/** Phone types with ≥ 1 account on the PBX (R4: active or not), with their account count. */
export async function typesWithAccounts(
  db: DbOrTx,
  pbxId: string,
): Promise<
  Array<{ modelId: string; vendor: string; model: string; imageManaged: boolean; accounts: number }>
> {
  return db
    .select({
      modelId: phoneAccounts.modelId,
      vendor: phoneModels.vendor,
      model: phoneModels.model,
      imageManaged: phoneModels.imageManaged,
      accounts: sql<number>`count(*)::int`,
    })
    .from(phoneAccounts)
    .innerJoin(phoneModels, eq(phoneModels.id, phoneAccounts.modelId))
    .where(eq(phoneAccounts.pbxId, pbxId))
    .groupBy(phoneAccounts.modelId, phoneModels.vendor, phoneModels.model, phoneModels.imageManaged)
    .orderBy(asc(phoneModels.vendor), asc(phoneModels.model));
}

export async function accountCount(db: DbOrTx, pbxId: string, modelId: string): Promise<number> {
  const [row] = await db
    .select({ n: sql<number>`count(*)::int` })
    .from(phoneAccounts)
    .where(and(eq(phoneAccounts.pbxId, pbxId), eq(phoneAccounts.modelId, modelId)));
  return row?.n ?? 0;
}

const hasAccountOfType = (db: DbOrTx) =>
  exists(
    db
      .select({ one: sql`1` })
      .from(phoneAccounts)
      .where(
        and(eq(phoneAccounts.pbxId, localFirmware.pbxId), eq(phoneAccounts.modelId, localFirmware.modelId)),
      ),
  );

export type LocalFirmwareRow = typeof localFirmware.$inferSelect;

export async function listLocalFirmware(
  db: DbOrTx,
  pbxId: string,
  modelIds?: string[],
): Promise<LocalFirmwareRow[]> {
  return db
    .select()
    .from(localFirmware)
    .where(
      and(
        eq(localFirmware.pbxId, pbxId),
        modelIds ? (modelIds.length > 0 ? inArray(localFirmware.modelId, modelIds) : sql`false`) : undefined,
      ),
    );
}

/**
 * R5: the last account of a type was deleted → that type's downloaded firmware goes at the PBX's next restart.
 * Does nothing while an account of the type remains. Never marks image firmware (R2). Returns the marked versions.
 */
export async function markFirmwareForCleanupIfUnused(
  db: DbOrTx,
  pbxId: string,
  modelId: string,
): Promise<string[]> {
  return db.transaction(async (tx) => {
    await lockType(tx, pbxId, modelId);
    return markUnderLock(tx, pbxId, modelId);
  });
}

async function markUnderLock(db: DbOrTx, pbxId: string, modelId: string): Promise<string[]> {
  const rows = await db
    .update(localFirmware)
    .set({ deleteAtNextRestart: true })
    .where(
      and(
        eq(localFirmware.pbxId, pbxId),
        eq(localFirmware.modelId, modelId),
        eq(localFirmware.source, 'download'),
        eq(localFirmware.deleteAtNextRestart, false),
        not(hasAccountOfType(db)),
      ),
    )
    .returning({ version: localFirmware.version });
  return rows.map((r) => r.version);
}

/** An account of the type came back before the restart: its firmware stays. Returns the unmarked versions. */
export async function unmarkFirmwareCleanup(db: DbOrTx, pbxId: string, modelId: string): Promise<string[]> {
  return db.transaction(async (tx) => {
    await lockType(tx, pbxId, modelId);
    return unmarkUnderLock(tx, pbxId, modelId);
  });
}

async function unmarkUnderLock(db: DbOrTx, pbxId: string, modelId: string): Promise<string[]> {
  const rows = await db
    .update(localFirmware)
    .set({ deleteAtNextRestart: false })
    .where(
      and(
        eq(localFirmware.pbxId, pbxId),
        eq(localFirmware.modelId, modelId),
        eq(localFirmware.deleteAtNextRestart, true),
      ),
    )
    .returning({ version: localFirmware.version });
  return rows.map((r) => r.version);
}

/**
 * R5 at restart: removes the marked downloaded firmware whose type still has no account, and unmarks the rest
 * (an account came back). Image firmware is never touched (R2).
 */
export async function takeFirmwareMarkedForRestart(
  db: DbOrTx,
  pbxId: string,
): Promise<{ removed: LocalFirmwareRow[]; kept: LocalFirmwareRow[] }> {
  const removed = await db
    .delete(localFirmware)
    .where(
      and(
        eq(localFirmware.pbxId, pbxId),
        eq(localFirmware.deleteAtNextRestart, true),
        eq(localFirmware.source, 'download'),
        not(hasAccountOfType(db)),
      ),
    )
    .returning();
  const kept = await db
    .update(localFirmware)
    .set({ deleteAtNextRestart: false })
    .where(and(eq(localFirmware.pbxId, pbxId), eq(localFirmware.deleteAtNextRestart, true)))
    .returning();
  return { removed, kept };
}

/**
 * Serialises R5 marking against a download that is recording its firmware for the same PBX and type: without it,
 * a download could count the type's accounts just before the last one is deleted and insert its row unmarked just
 * after the deletion's marking found no row to mark.
 */
async function lockType(tx: DbOrTx, pbxId: string, modelId: string): Promise<void> {
  await tx.execute(sql`select pg_advisory_xact_lock(2, hashtext(${`${pbxId}/${modelId}`}))`);
}

/** Serialises every change to one blob's file and row (download promote, reuse, garbage collection). */
export async function lockBlob(tx: DbOrTx, sha256: string): Promise<void> {
  await tx.execute(sql`select pg_advisory_xact_lock(1, hashtext(${sha256}))`);
}

/**
 * Gives a PBX a reference to a stored blob (R16). Call under lockBlob with the file already in place.
 * `deleteAtNextRestart` is set when the type lost its last account while the download ran (R5).
 */
export async function referenceBlob(
  tx: DbOrTx,
  row: { pbxId: string; modelId: string; version: string; fileName: string; sha256: string; size: number },
): Promise<{ deleteAtNextRestart: boolean }> {
  await tx.insert(blobs).values({ sha256: row.sha256, size: row.size }).onConflictDoNothing();
  await lockType(tx, row.pbxId, row.modelId);
  const deleteAtNextRestart = (await accountCount(tx, row.pbxId, row.modelId)) === 0;
  await tx
    .insert(localFirmware)
    .values({
      pbxId: row.pbxId,
      modelId: row.modelId,
      version: row.version,
      fileName: row.fileName,
      sha256: row.sha256,
      source: 'download',
      deleteAtNextRestart,
    })
    .onConflictDoUpdate({
      target: [localFirmware.pbxId, localFirmware.modelId, localFirmware.version],
      set: { fileName: row.fileName, sha256: row.sha256, source: 'download', deleteAtNextRestart },
    });
  return { deleteAtNextRestart };
}

export async function getBlob(db: DbOrTx, sha256: string) {
  const [row] = await db.select().from(blobs).where(eq(blobs.sha256, sha256));
  return row;
}

export async function isBlobReferenced(db: DbOrTx, sha256: string): Promise<boolean> {
  const [row] = await db
    .select({ one: sql`1` })
    .from(localFirmware)
    .where(eq(localFirmware.sha256, sha256))
    .limit(1);
  return row !== undefined;
}

/** Blobs no PBX references any more (candidates for garbage collection; re-check under lockBlob). */
export async function unreferencedBlobs(db: DbOrTx): Promise<string[]> {
  const rows = await db
    .select({ sha256: blobs.sha256 })
    .from(blobs)
    .where(
      not(
        exists(db.select({ one: sql`1` }).from(localFirmware).where(eq(localFirmware.sha256, blobs.sha256))),
      ),
    );
  return rows.map((r) => r.sha256);
}

export async function knownBlobs(db: DbOrTx): Promise<Set<string>> {
  return new Set((await db.select({ sha256: blobs.sha256 }).from(blobs)).map((r) => r.sha256));
}

export async function deleteBlobRow(db: DbOrTx, sha256: string): Promise<void> {
  await db.delete(blobs).where(eq(blobs.sha256, sha256));
}
