import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { and, eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { syncCatalog } from '../../activities/catalog.ts';
import { checkFirmware } from '../../activities/check.ts';
import { downloadFirmware } from '../../activities/download.ts';
import { writeDemoImageFirmware } from '../../activities/image-firmware.ts';
import { restartCleanup } from '../../activities/restart-cleanup.ts';
import { type CatalogReleaseRow, getRelease } from '../../db/queries/catalog.ts';
import { listJournal } from '../../db/queries/journal.ts';
import { markFirmwareForCleanupIfUnused, unmarkFirmwareCleanup } from '../../db/queries/local-firmware.ts';
import { deletePhoneAccount } from '../../db/queries/phone-accounts.ts';
import { blobs, localFirmware, pbxes, phoneAccounts } from '../../db/schema.ts';
import { blobPath } from '../../lib/store-paths.ts';
import { createTestDatabase, type TestDatabase } from '../support/db.ts';
import {
  addAccounts,
  insertPbx,
  type PbxSide,
  pbxSide,
  readPbxLog,
  startTestFirmwareServer,
  type TestFirmwareServer,
} from '../support/firmware.ts';

const admin = { why: 'manual' as const, who: 'admin' };

describe('R5 clean-up at restart, shared blobs, image firmware', () => {
  let t: TestDatabase;
  let server: TestFirmwareServer;
  let side: PbxSide;
  let t54: CatalogReleaseRow;
  let d785: CatalogReleaseRow;

  const localOf = (pbxId: string, modelId: string) =>
    t.db
      .select()
      .from(localFirmware)
      .where(and(eq(localFirmware.pbxId, pbxId), eq(localFirmware.modelId, modelId)));
  /** Deletes every account of the type the way the API does (one by one); returns what the last deletion marked. */
  const deleteAccounts = async (pbxId: string, modelId: string) => {
    const ids = await t.db
      .select({ id: phoneAccounts.id })
      .from(phoneAccounts)
      .where(and(eq(phoneAccounts.pbxId, pbxId), eq(phoneAccounts.modelId, modelId)));
    let marked: string[] = [];
    for (const { id } of ids) marked = (await deletePhoneAccount(t.db, pbxId, id))?.markedForRestart ?? [];
    return marked;
  };

  beforeAll(async () => {
    t = await createTestDatabase();
    server = await startTestFirmwareServer();
    side = pbxSide(t.db, server);
    await writeDemoImageFirmware(side.config.imageFirmwareDir);
    for (const id of ['pbx-a', 'pbx-b']) await insertPbx(t.db, id);
    await syncCatalog(side.deps);
    await checkFirmware(side.deps, { pbxId: 'pbx-a', ...admin }); // registers the image models
    t54 = (await getRelease(t.db, 'yealink-t54w-96.86.0.70')) as CatalogReleaseRow;
    d785 = (await getRelease(t.db, 'snom-d785-10.1.184.15')) as CatalogReleaseRow;
    await addAccounts(t.db, 'pbx-a', 'yealink-t54w', 2);
    await addAccounts(t.db, 'pbx-b', 'yealink-t54w', 1);
    await addAccounts(t.db, 'pbx-a', 'snom-d785', 1);
    await addAccounts(t.db, 'pbx-a', 'snom-m900', 1);
    for (const [pbxId, modelId, releaseId] of [
      ['pbx-a', 'yealink-t54w', t54.id],
      ['pbx-b', 'yealink-t54w', t54.id],
      ['pbx-a', 'snom-d785', d785.id],
    ] as const) {
      expect(await downloadFirmware(side.deps, { pbxId, modelId, releaseId, ...admin })).toMatchObject({
        stored: true,
      });
    }
    await checkFirmware(side.deps, { pbxId: 'pbx-a', ...admin }); // image firmware row for the M900 account
  });
  afterAll(async () => {
    side.cleanup();
    await server.cleanup();
    await t.drop();
  });

  it('R5: marking does nothing while an account of the type remains', async () => {
    const [one] = await t.db
      .select()
      .from(phoneAccounts)
      .where(and(eq(phoneAccounts.pbxId, 'pbx-a'), eq(phoneAccounts.modelId, 'yealink-t54w')));
    await t.db.delete(phoneAccounts).where(eq(phoneAccounts.id, one?.id as number));
    expect(await markFirmwareForCleanupIfUnused(t.db, 'pbx-a', 'yealink-t54w')).toEqual([]);
    expect((await localOf('pbx-a', 'yealink-t54w'))[0]?.deleteAtNextRestart).toBe(false);
  });

  it('R5: the last account gone → the firmware stays until the next restart, then goes; the shared blob stays', async () => {
    expect(await deleteAccounts('pbx-a', 'yealink-t54w')).toEqual(['96.86.0.70']);
    // Not before the restart: still stored, still referenced.
    expect(await localOf('pbx-a', 'yealink-t54w')).toEqual([
      expect.objectContaining({ deleteAtNextRestart: true }),
    ]);
    expect(existsSync(blobPath(side.config.firmwareStoreDir, t54.sha256))).toBe(true);

    const result = await restartCleanup(side.deps, { pbxId: 'pbx-a', who: 'system' });
    expect(result).toEqual({
      removed: [{ modelId: 'yealink-t54w', version: '96.86.0.70' }],
      blobsDeleted: 0,
    });
    expect(await localOf('pbx-a', 'yealink-t54w')).toEqual([]);
    // pbx-b still references the same image (R16): the blob stays.
    expect(await localOf('pbx-b', 'yealink-t54w')).toHaveLength(1);
    expect(existsSync(blobPath(side.config.firmwareStoreDir, t54.sha256))).toBe(true);
    const [pbx] = await t.db.select().from(pbxes).where(eq(pbxes.id, 'pbx-a'));
    expect(pbx?.lastRestartAt).toBeInstanceOf(Date);
    const [removed] = await listJournal(t.db, { pbxId: 'pbx-a', action: 'firmware.removed', limit: 1 });
    expect(removed).toMatchObject({
      modelId: 'yealink-t54w',
      who: 'system',
      details: { version: '96.86.0.70' },
    });
    const line = readPbxLog(side.config, 'pbx-a', 'firmwares').findLast((l) => l.event === 'restart-cleanup');
    expect(line).toMatchObject({ removed: [{ model: 'yealink-t54w', version: '96.86.0.70' }] });
    // Issue 11 / R16: whether the shared blob went says whether another PBX uses it; not in this PBX's log.
    expect(line).not.toHaveProperty('blobsDeleted');
  });

  it('R5/R16: when no PBX references a blob any more, garbage collection deletes file and row', async () => {
    await deleteAccounts('pbx-b', 'yealink-t54w');
    expect(await restartCleanup(side.deps, { pbxId: 'pbx-b', who: 'system' })).toEqual({
      removed: [{ modelId: 'yealink-t54w', version: '96.86.0.70' }],
      blobsDeleted: 1,
    });
    expect(existsSync(blobPath(side.config.firmwareStoreDir, t54.sha256))).toBe(false);
    expect(await t.db.select().from(blobs).where(eq(blobs.sha256, t54.sha256))).toEqual([]);
  });

  it('R5: an account of the type coming back before the restart keeps the firmware', async () => {
    expect(await deleteAccounts('pbx-a', 'snom-d785')).toEqual(['10.1.184.15']);
    await addAccounts(t.db, 'pbx-a', 'snom-d785', 1);
    expect(await unmarkFirmwareCleanup(t.db, 'pbx-a', 'snom-d785')).toEqual(['10.1.184.15']);
    expect(await restartCleanup(side.deps, { pbxId: 'pbx-a', who: 'system' })).toEqual({
      removed: [],
      blobsDeleted: 0,
    });
    expect(await localOf('pbx-a', 'snom-d785')).toEqual([
      expect.objectContaining({ version: '10.1.184.15', deleteAtNextRestart: false }),
    ]);
    expect(existsSync(blobPath(side.config.firmwareStoreDir, d785.sha256))).toBe(true);
  });

  it('R5: a restart keeps marked firmware whose type has an account again even without unmarking', async () => {
    await deleteAccounts('pbx-a', 'snom-d785');
    await addAccounts(t.db, 'pbx-a', 'snom-d785', 1); // the API forgot to unmark
    expect(await restartCleanup(side.deps, { pbxId: 'pbx-a', who: 'system' })).toEqual({
      removed: [],
      blobsDeleted: 0,
    });
    expect((await localOf('pbx-a', 'snom-d785'))[0]?.deleteAtNextRestart).toBe(false);
  });

  it('R2: image firmware is never marked nor removed, even without accounts', async () => {
    expect(await localOf('pbx-a', 'snom-m900')).toEqual([
      expect.objectContaining({ source: 'image', version: '5.20.1' }),
    ]);
    expect(await deleteAccounts('pbx-a', 'snom-m900')).toEqual([]);
    await restartCleanup(side.deps, { pbxId: 'pbx-a', who: 'system' });
    expect(await localOf('pbx-a', 'snom-m900')).toHaveLength(1);
  });

  it('R5: firmware that finishes downloading after the last account went is marked for the next restart', async () => {
    const n670 = (await getRelease(t.db, 'gigaset-n670-2.65.0')) as CatalogReleaseRow;
    const [acc] = await addAccounts(t.db, 'pbx-b', 'gigaset-n670', 1);
    // The account disappears while the transfer runs: the server is slow, the account is deleted meanwhile.
    server.setFaults({ throttleBytesPerSecond: 100_000 });
    const sentBefore = server.stats().bytesSent;
    const running = downloadFirmware(side.deps, {
      pbxId: 'pbx-b',
      modelId: 'gigaset-n670',
      releaseId: n670.id,
      ...admin,
    });
    // Bytes flowing means the download passed its R4 check and is mid-transfer.
    while (server.stats().bytesSent === sentBefore) await new Promise((r) => setTimeout(r, 10));
    await t.db.delete(phoneAccounts).where(eq(phoneAccounts.id, acc as number));
    await markFirmwareForCleanupIfUnused(t.db, 'pbx-b', 'gigaset-n670');
    expect(await running).toMatchObject({ stored: true });
    server.setFaults({});
    expect(await localOf('pbx-b', 'gigaset-n670')).toEqual([
      expect.objectContaining({ deleteAtNextRestart: true }),
    ]);
    expect(await restartCleanup(side.deps, { pbxId: 'pbx-b', who: 'system' })).toMatchObject({
      removed: [{ modelId: 'gigaset-n670', version: '2.65.0' }],
      blobsDeleted: 1,
    });
  });

  it('garbage collection also removes a blob file left without a row (a promote whose transaction failed)', async () => {
    const stray = 'ab'.repeat(32);
    const path = blobPath(side.config.firmwareStoreDir, stray);
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, 'stray');
    expect(await restartCleanup(side.deps, { pbxId: 'pbx-a', who: 'system' })).toMatchObject({
      blobsDeleted: 1,
    });
    expect(existsSync(path)).toBe(false);
    expect(existsSync(blobPath(side.config.firmwareStoreDir, d785.sha256))).toBe(true);
  });
});
