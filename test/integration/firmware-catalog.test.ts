import { copyFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { ApplicationFailure } from '@temporalio/common';
import { eq } from 'drizzle-orm';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { syncCatalog } from '../../activities/catalog.ts';
import { checkFirmware } from '../../activities/check.ts';
import { writeDemoImageFirmware } from '../../activities/image-firmware.ts';
import { getCatalogState } from '../../db/queries/catalog.ts';
import { listJournal } from '../../db/queries/journal.ts';
import { catalogReleases, localFirmware, pbxes, phoneModels } from '../../db/schema.ts';
import { publishRelease, statePath, withdrawRelease } from '../../firmware-server/state.ts';
import { generateCatalogKeyPair } from '../../lib/catalog-signing.ts';
import { freePort } from '../../lib/ports.ts';
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

const who = { why: 'manual' as const, who: 'admin' };

async function snapshot(t: TestDatabase) {
  return {
    models: await t.db.select().from(phoneModels).orderBy(phoneModels.id),
    releases: await t.db.select().from(catalogReleases).orderBy(catalogReleases.id),
    state: await getCatalogState(t.db).then(({ etag, serial, syncedAt }) => ({ etag, serial, syncedAt })),
  };
}

describe('catalog sync and firmware check against the reference server', () => {
  let t: TestDatabase;
  let server: TestFirmwareServer;
  let side: PbxSide;

  beforeAll(async () => {
    t = await createTestDatabase();
    server = await startTestFirmwareServer();
    side = pbxSide(t.db, server);
    await insertPbx(t.db, 'pbx-a');
    await insertPbx(t.db, 'pbx-b');
  });
  afterEach(() => server.setFaults({}));
  afterAll(async () => {
    side.cleanup();
    await server.cleanup();
    await t.drop();
  });

  it('R1/R3: a first check stores the verified catalog: every model and release', async () => {
    const report = await checkFirmware(side.deps, { pbxId: 'pbx-a', ...who });
    expect(report).toMatchObject({ pbxId: 'pbx-a', catalogOk: true, types: [] });
    const snap = await snapshot(t);
    expect(snap.models).toHaveLength(30);
    expect(snap.models.find((m) => m.id === 'yealink-t54w')).toMatchObject({
      vendor: 'yealink',
      model: 'T54W',
      provisioningKey: '096',
      inCatalog: true,
      imageManaged: false,
    });
    expect(snap.releases.length).toBeGreaterThanOrEqual(28);
    expect(snap.state.serial).toBe(1);
    expect(snap.state.etag).toMatch(/^"c1-/);
  });

  it('R4/R6: reports only types with at least one account (active or not) with local and available versions', async () => {
    await addAccounts(t.db, 'pbx-a', 'yealink-t54w', 3);
    await addAccounts(t.db, 'pbx-a', 'snom-d785', 1, { active: false });
    await addAccounts(t.db, 'pbx-b', 'gigaset-n670', 1);
    const report = await checkFirmware(side.deps, { pbxId: 'pbx-a', ...who });
    expect(report.types).toEqual([
      {
        modelId: 'snom-d785',
        vendor: 'snom',
        model: 'D785',
        imageManaged: false,
        newestLocal: null,
        newestAvailable: { releaseId: 'snom-d785-10.1.184.15', version: '10.1.184.15' },
        needsDownload: true,
      },
      {
        modelId: 'yealink-t54w',
        vendor: 'yealink',
        model: 'T54W',
        imageManaged: false,
        newestLocal: null,
        newestAvailable: { releaseId: 'yealink-t54w-96.86.0.70', version: '96.86.0.70' },
        needsDownload: true,
      },
    ]);
    const only = await checkFirmware(side.deps, {
      pbxId: 'pbx-a',
      modelIds: ['snom-d785'],
      why: 'trigger',
      who: 'system',
    });
    expect(only.types.map((x) => x.modelId)).toEqual(['snom-d785']);
  });

  it('R14: every check is written to firmwares.log and journaled', async () => {
    const lines = readPbxLog(side.config, 'pbx-a', 'firmwares').filter((l) => l.event === 'check');
    expect(lines.length).toBeGreaterThanOrEqual(3);
    expect(lines.at(-1)).toMatchObject({
      outcome: 'ok',
      why: 'trigger',
      who: 'system',
      catalog: { status: 'not-modified', serial: 1 },
      types: [{ model: 'snom-d785', newestAvailable: '10.1.184.15', needsDownload: true }],
      durationMs: expect.any(Number),
    });
    const journal = await listJournal(t.db, { pbxId: 'pbx-a', action: 'firmware.checked', limit: 10 });
    expect(journal[0]).toMatchObject({ why: 'trigger', who: 'system', details: { catalogOk: true } });
  });

  it('R3: the catalog is fetched conditionally; a new release (CLI publish) arrives with a higher serial', async () => {
    server.clearRequests();
    await checkFirmware(side.deps, { pbxId: 'pbx-a', ...who });
    const first = server.requests().find((e) => e.path === '/catalog.json');
    expect(first).toMatchObject({ status: 304, ifNoneMatch: expect.stringMatching(/^"c1-/) });

    await publishRelease(server.dataDir, {
      vendor: 'yealink',
      models: ['T54W', 'T57', 'T53'],
      version: '96.86.0.80',
    });
    const report = await checkFirmware(side.deps, { pbxId: 'pbx-a', ...who });
    expect(report.types.find((x) => x.modelId === 'yealink-t54w')?.newestAvailable).toEqual({
      releaseId: 'yealink-t54w-96.86.0.80',
      version: '96.86.0.80',
    });
    expect((await getCatalogState(t.db)).serial).toBe(2);
  });

  it('R3: a withdrawn release stays known, flagged, and is no longer offered', async () => {
    await withdrawRelease(server.dataDir, 'yealink-t54w-96.86.0.80');
    const report = await checkFirmware(side.deps, { pbxId: 'pbx-a', ...who });
    expect(report.types.find((x) => x.modelId === 'yealink-t54w')?.newestAvailable?.version).toBe(
      '96.86.0.70',
    );
    const [row] = await t.db
      .select()
      .from(catalogReleases)
      .where(eq(catalogReleases.id, 'yealink-t54w-96.86.0.80'));
    expect(row?.withdrawn).toBe(true);
  });

  it('R3: a tampered catalog is rejected and journaled; nothing changes', async () => {
    await publishRelease(server.dataDir, { vendor: 'snom', models: ['D785'], version: '10.1.190.1' });
    const before = await snapshot(t);
    server.setFaults({ tamperCatalog: true });
    const report = await checkFirmware(side.deps, { pbxId: 'pbx-a', ...who });
    expect(report.catalogOk).toBe(false);
    expect(report.catalogError).toMatch(/signature does not verify/);
    // Still reports the local view from the last good catalog.
    expect(report.types.find((x) => x.modelId === 'snom-d785')?.newestAvailable?.version).toBe('10.1.184.15');
    expect(await snapshot(t)).toEqual(before);
    const [rejected] = await listJournal(t.db, { pbxId: 'pbx-a', action: 'catalog.rejected', limit: 1 });
    expect(rejected).toMatchObject({ details: { kind: 'signature' } });
    expect(
      readPbxLog(side.config, 'pbx-a', 'firmwares').some(
        (l) => l.event === 'catalog' && l.outcome === 'rejected',
      ),
    ).toBe(true);
    expect((await getCatalogState(t.db)).lastError).toMatch(/signature/);

    server.setFaults({});
    const healed = await checkFirmware(side.deps, { pbxId: 'pbx-a', ...who });
    expect(healed.catalogOk).toBe(true);
    expect(healed.types.find((x) => x.modelId === 'snom-d785')?.newestAvailable?.version).toBe('10.1.190.1');
  });

  it('R3: a catalog signed by another key is rejected', async () => {
    const stranger = pbxSide(t.db, { url: server.url, publicKey: generateCatalogKeyPair().publicKey });
    try {
      await publishRelease(server.dataDir, { vendor: 'grandstream', models: ['HT802'], version: '1.0.65.1' });
      const before = await snapshot(t);
      const report = await checkFirmware(stranger.deps, { pbxId: 'pbx-a', ...who });
      expect(report.catalogOk).toBe(false);
      expect(await snapshot(t)).toEqual(before);
    } finally {
      stranger.cleanup();
    }
  });

  it('R3: a replayed older catalog (lower serial) is rejected as a rollback', async () => {
    const backup = join(side.dir, 'old-state.json');
    mkdirSync(side.dir, { recursive: true });
    await syncCatalog(side.deps);
    copyFileSync(statePath(server.dataDir), backup);
    await publishRelease(server.dataDir, {
      vendor: 'gigaset',
      models: ['N670', 'N870', 'N610'],
      version: '2.66.0',
    });
    await syncCatalog(side.deps);
    const before = await snapshot(t);
    const current = join(side.dir, 'current-state.json');
    copyFileSync(statePath(server.dataDir), current);
    copyFileSync(backup, statePath(server.dataDir)); // the server now serves the older, genuinely signed catalog
    try {
      const result = await syncCatalog(side.deps);
      expect(result).toMatchObject({ ok: false, kind: 'rollback' });
      expect(await snapshot(t)).toEqual(before);
    } finally {
      copyFileSync(current, statePath(server.dataDir));
    }
  });

  it('R3: 5xx answers are retryable failures; the next attempt recovers', async () => {
    server.setFaults({ fail500: { count: 2, pathPrefix: '/catalog.json' } });
    for (let i = 0; i < 2; i++) {
      const err = await checkFirmware(side.deps, { pbxId: 'pbx-b', ...who }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ApplicationFailure);
      expect(err).toMatchObject({
        type: 'FirmwareServerUnavailable',
        nonRetryable: false,
        message: expect.stringMatching(/500/),
      });
    }
    const report = await checkFirmware(side.deps, { pbxId: 'pbx-b', ...who });
    expect(report.catalogOk).toBe(true);
    expect(report.types.map((x) => x.modelId)).toEqual(['gigaset-n670']);
    const lines = readPbxLog(side.config, 'pbx-b', 'firmwares');
    expect(lines.filter((l) => l.outcome === 'firmware-server-unavailable')).toHaveLength(2);
  });

  it('R3: an unreachable firmware server is a retryable failure, visible in the catalog state', async () => {
    const down = pbxSide(t.db, { url: `http://127.0.0.1:${await freePort()}`, publicKey: server.publicKey });
    try {
      const err = await checkFirmware(down.deps, { pbxId: 'pbx-b', ...who }).catch((e: unknown) => e);
      expect(err).toMatchObject({ type: 'FirmwareServerUnavailable', nonRetryable: false });
      expect((err as Error).message).toMatch(/unreachable.*ECONNREFUSED/);
      expect((await getCatalogState(t.db)).lastError).toMatch(/unreachable/);
    } finally {
      down.cleanup();
    }
  });

  it('refuses bad input and unknown PBXes without retry', async () => {
    await expect(checkFirmware(side.deps, { pbxId: '', ...who })).rejects.toMatchObject({
      type: 'InvalidInput',
      nonRetryable: true,
    });
    await expect(checkFirmware(side.deps, { pbxId: 'pbx-nope', ...who })).rejects.toMatchObject({
      type: 'UnknownPbx',
      nonRetryable: true,
    });
  });

  it('R2: image-managed models report their image version and never need a download', async () => {
    await writeDemoImageFirmware(side.config.imageFirmwareDir);
    // The first check registers the image models; accounts can then reference them.
    await checkFirmware(side.deps, { pbxId: 'pbx-b', ...who });
    expect((await t.db.select().from(phoneModels).where(eq(phoneModels.id, 'snom-m900')))[0]).toMatchObject({
      imageManaged: true,
      inCatalog: false,
      provisioningKey: 'snomM900',
    });
    await addAccounts(t.db, 'pbx-b', 'snom-m900', 2);
    const report = await checkFirmware(side.deps, { pbxId: 'pbx-b', ...who });
    expect(report.types.find((x) => x.modelId === 'snom-m900')).toEqual({
      modelId: 'snom-m900',
      vendor: 'snom',
      model: 'M900',
      imageManaged: true,
      newestLocal: '5.20.1',
      newestAvailable: null,
      needsDownload: false,
    });
    const rows = await t.db.select().from(localFirmware).where(eq(localFirmware.modelId, 'snom-m900'));
    expect(rows).toEqual([
      expect.objectContaining({ pbxId: 'pbx-b', source: 'image', sha256: null, version: '5.20.1' }),
    ]);
    // A catalog sync never turns an image model into a downloadable one.
    await checkFirmware(side.deps, { pbxId: 'pbx-b', ...who });
    expect(
      (await t.db.select().from(phoneModels).where(eq(phoneModels.id, 'snom-m900')))[0]?.imageManaged,
    ).toBe(true);
  });

  it("R16: a PBX's check sees only its own local firmware, never what another PBX holds", async () => {
    const [pbxB] = await t.db.select().from(pbxes).where(eq(pbxes.id, 'pbx-b'));
    expect(pbxB).toBeDefined();
    await addAccounts(t.db, 'pbx-b', 'yealink-t54w', 1);
    await addAccounts(t.db, 'pbx-a', 'yealink-t54w', 1);
    await t.db.insert(localFirmware).values({
      pbxId: 'pbx-b',
      modelId: 'yealink-t54w',
      version: '96.86.0.70',
      fileName: 'T54W-96.86.0.70.rom',
      source: 'image',
    });
    const a = await checkFirmware(side.deps, { pbxId: 'pbx-a', modelIds: ['yealink-t54w'], ...who });
    expect(a.types[0]).toMatchObject({ modelId: 'yealink-t54w', newestLocal: null, needsDownload: true });
    const b = await checkFirmware(side.deps, { pbxId: 'pbx-b', modelIds: ['yealink-t54w'], ...who });
    expect(b.types[0]).toMatchObject({ newestLocal: '96.86.0.70', needsDownload: false });
    await t.db.delete(localFirmware).where(eq(localFirmware.pbxId, 'pbx-b'));
  });
});
