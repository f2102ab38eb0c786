import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { ApplicationFailure, CancelledFailure } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import { and, eq } from 'drizzle-orm';
import pino from 'pino';
import { request } from 'undici';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { syncCatalog } from '../../activities/catalog.ts';
import { checkFirmware } from '../../activities/check.ts';
import type { DownloadInput, DownloadResult } from '../../activities/contracts.ts';
import { type DownloadHeartbeat, downloadFirmware, MAX_CORRUPT_ATTEMPTS } from '../../activities/download.ts';
import { partialPath } from '../../activities/firmware-store.ts';
import { writeDemoImageFirmware } from '../../activities/image-firmware.ts';
import { type CatalogReleaseRow, getRelease } from '../../db/queries/catalog.ts';
import { listJournal } from '../../db/queries/journal.ts';
import { blobs, localFirmware } from '../../db/schema.ts';
import { blobPath, partialDir } from '../../lib/store-paths.ts';
import { createTestDatabase, type TestDatabase } from '../support/db.ts';
import {
  addAccounts,
  insertPbx,
  type PbxSide,
  pbxSide,
  quietActivityLogger,
  readPbxLog,
  startTestFirmwareServer,
  type TestFirmwareServer,
} from '../support/firmware.ts';

const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

describe('firmware download against the reference server', () => {
  let t: TestDatabase;
  let server: TestFirmwareServer;
  let side: PbxSide;
  const release = async (id: string) => (await getRelease(t.db, id)) as CatalogReleaseRow;
  const store = () => side.config.firmwareStoreDir;

  function start(input: Omit<DownloadInput, 'why' | 'who'>, heartbeatDetails?: DownloadHeartbeat) {
    const env = new MockActivityEnvironment(heartbeatDetails ? { heartbeatDetails } : {}, {
      logger: quietActivityLogger,
    });
    const beats: DownloadHeartbeat[] = [];
    env.on('heartbeat', (d: DownloadHeartbeat) => beats.push(d));
    const full: DownloadInput = { ...input, why: 'manual', who: 'admin' };
    const result: Promise<DownloadResult> = env.run(downloadFirmware, side.deps, full);
    return { env, beats, result };
  }
  const download = (input: Omit<DownloadInput, 'why' | 'who'>, heartbeatDetails?: DownloadHeartbeat) =>
    start(input, heartbeatDetails).result;
  const fileRequests = (fileName: string) => server.requests().filter((e) => e.path === `/files/${fileName}`);

  /** The operator's service log (pino JSON lines): transfer figures live here, not in a PBX's own logs (R16). */
  const serviceLog: Array<Record<string, unknown>> = [];
  beforeAll(async () => {
    t = await createTestDatabase();
    server = await startTestFirmwareServer();
    side = pbxSide(t.db, server);
    side.deps.logger = pino(
      { level: 'info' },
      { write: (line: string) => serviceLog.push(JSON.parse(line)) },
    );
    for (const id of ['pbx-a', 'pbx-b', 'pbx-c']) await insertPbx(t.db, id);
    expect(await syncCatalog(side.deps)).toMatchObject({ ok: true, status: 'updated' });
  });
  afterEach(() => server.setFaults({}));
  afterAll(async () => {
    side.cleanup();
    await server.cleanup();
    await t.drop();
  });

  it('R3/R16: streams, verifies and stores the image as one content-addressed blob the PBX references', async () => {
    await addAccounts(t.db, 'pbx-a', 'yealink-t57', 2);
    const r = await release('yealink-t54w-96.86.0.70');
    const { result, beats } = start({ pbxId: 'pbx-a', modelId: 'yealink-t57', releaseId: r.id });
    expect(await result).toEqual({
      pbxId: 'pbx-a',
      modelId: 'yealink-t57',
      version: '96.86.0.70',
      sha256: r.sha256,
      bytes: r.size,
      reused: false,
      stored: true,
    });
    const file = readFileSync(blobPath(store(), r.sha256));
    expect(file).toHaveLength(r.size);
    expect(sha256(file)).toBe(r.sha256);
    expect(existsSync(partialPath(store(), r.sha256))).toBe(false);
    expect(await t.db.select().from(blobs)).toEqual([
      expect.objectContaining({ sha256: r.sha256, size: r.size }),
    ]);
    expect(await t.db.select().from(localFirmware).where(eq(localFirmware.pbxId, 'pbx-a'))).toEqual([
      expect.objectContaining({
        modelId: 'yealink-t57',
        version: '96.86.0.70',
        sha256: r.sha256,
        source: 'download',
        deleteAtNextRestart: false,
      }),
    ]);
    expect(beats.at(-1)).toMatchObject({ sha256: r.sha256, offset: r.size, phase: 'verifying' });

    const [journal] = await listJournal(t.db, { pbxId: 'pbx-a', action: 'firmware.downloaded', limit: 1 });
    expect(journal).toMatchObject({
      modelId: 'yealink-t57',
      details: { version: '96.86.0.70', size: r.size, sha256: r.sha256 },
    });
    const line = readPbxLog(side.config, 'pbx-a', 'firmwares').find((l) => l.event === 'download');
    expect(line).toMatchObject({
      outcome: 'stored',
      model: 'yealink-t57',
      version: '96.86.0.70',
      size: r.size,
    });
    expect(serviceLog.findLast((l) => l.msg === 'firmware downloaded')).toMatchObject({
      pbx: 'pbx-a',
      bytes: r.size,
      durationMs: expect.any(Number),
    });

    const report = await checkFirmware(side.deps, { pbxId: 'pbx-a', why: 'manual', who: 'admin' });
    expect(report.types.find((x) => x.modelId === 'yealink-t57')).toMatchObject({
      newestLocal: '96.86.0.70',
      needsDownload: false,
    });
  });

  it('R4: a type without any account on the PBX is not downloaded; nothing is fetched', async () => {
    server.clearRequests();
    const r = await release('gigaset-n670-2.65.0');
    const result = await download({ pbxId: 'pbx-a', modelId: 'gigaset-n670', releaseId: r.id });
    expect(result).toMatchObject({
      stored: false,
      reused: false,
      bytes: 0,
      reason: expect.stringMatching(/^R4/),
    });
    expect(server.requests().filter((e) => e.path.startsWith('/files/'))).toEqual([]);
    expect(await t.db.select().from(localFirmware).where(eq(localFirmware.modelId, 'gigaset-n670'))).toEqual(
      [],
    );
  });

  it('R4: one inactive account is enough: the account need not be active for its firmware to be downloaded', async () => {
    await addAccounts(t.db, 'pbx-c', 'gigaset-n670', 1, { active: false });
    const r = await release('gigaset-n670-2.65.0');
    expect(await download({ pbxId: 'pbx-c', modelId: 'gigaset-n670', releaseId: r.id })).toMatchObject({
      stored: true,
      version: '2.65.0',
    });
  });

  it('R2: an image-managed type is never downloaded', async () => {
    await writeDemoImageFirmware(side.config.imageFirmwareDir);
    await checkFirmware(side.deps, { pbxId: 'pbx-c', why: 'manual', who: 'admin' });
    await addAccounts(t.db, 'pbx-c', 'snom-m900', 1);
    server.clearRequests();
    const result = await download({
      pbxId: 'pbx-c',
      modelId: 'snom-m900',
      releaseId: 'snom-d785-10.1.184.15',
    });
    expect(result).toMatchObject({ stored: false, reason: expect.stringMatching(/^R2/) });
    expect(server.requests()).toEqual([]);
  });

  it('R16: two PBXes needing the same image at once share one blob; the bytes are fetched once', async () => {
    await addAccounts(t.db, 'pbx-a', 'yealink-t46u', 1);
    await addAccounts(t.db, 'pbx-b', 'yealink-t46u', 4);
    const r = await release('yealink-t46u-108.86.0.90');
    server.setFaults({ throttleBytesPerSecond: 200_000 }); // ~0.25 s, so both run at the same time
    const [a, b] = await Promise.all([
      download({ pbxId: 'pbx-a', modelId: 'yealink-t46u', releaseId: r.id }),
      download({ pbxId: 'pbx-b', modelId: 'yealink-t46u', releaseId: r.id }),
    ]);
    expect([a.reused, b.reused].sort()).toEqual([false, true]);
    expect(a.stored && b.stored).toBe(true);
    expect(fileRequests(r.fileName)).toHaveLength(1);
    expect(await t.db.select().from(blobs).where(eq(blobs.sha256, r.sha256))).toHaveLength(1);
    const refs = await t.db.select().from(localFirmware).where(eq(localFirmware.sha256, r.sha256));
    expect(refs.map((x) => x.pbxId).sort()).toEqual(['pbx-a', 'pbx-b']);
    expect(sha256(readFileSync(blobPath(store(), r.sha256)))).toBe(r.sha256);

    // A third PBX later: no bytes move at all.
    await addAccounts(t.db, 'pbx-c', 'yealink-t46u', 1);
    const c = await download({ pbxId: 'pbx-c', modelId: 'yealink-t46u', releaseId: r.id });
    expect(c).toMatchObject({ stored: true, reused: true, bytes: 0 });
    expect(fileRequests(r.fileName)).toHaveLength(1);
  });

  it("issue 11 / R16: a PBX's journal and firmwares.log read the same whether its bytes moved or another PBX had them", async () => {
    const said = async (pbxId: string) => {
      const [entry] = await listJournal(t.db, {
        pbxId,
        action: 'firmware.downloaded',
        modelId: 'yealink-t46u',
        limit: 1,
      });
      const line = readPbxLog(side.config, pbxId, 'firmwares').findLast(
        (l) => l.event === 'download' && l.model === 'yealink-t46u',
      );
      const { at: _at, time: _time, pbx: _pbx, ...logged } = line as Record<string, unknown>;
      return { journal: entry?.details, log: logged };
    };
    // pbx-a or pbx-b fetched the bytes, the other waited and reused them; pbx-c found them in the store.
    const [a, b, c] = [await said('pbx-a'), await said('pbx-b'), await said('pbx-c')];
    expect(a.journal).toBeDefined();
    expect(b).toEqual(a);
    expect(c).toEqual(a);
    for (const word of ['reused', 'fetchedBytes', 'resumedFrom', 'durationMs', 'shared store']) {
      expect(JSON.stringify(a), word).not.toContain(word);
    }
  });

  it('a truncated body is a retryable failure; the retry asks only for the missing bytes (Range)', async () => {
    await addAccounts(t.db, 'pbx-a', 'yealink-t58w', 1);
    const r = await release('yealink-t58w-150.86.0.5');
    // Paced, so the client reads the first pieces before the connection breaks.
    server.setFaults({
      truncate: { afterBytes: 100_000, fileName: r.fileName },
      throttleBytesPerSecond: 2_000_000,
    });
    const first = start({ pbxId: 'pbx-a', modelId: 'yealink-t58w', releaseId: r.id });
    const err = await first.result.catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApplicationFailure);
    expect(err).toMatchObject({ type: 'DownloadInterrupted', nonRetryable: false });
    const kept = statSync(partialPath(store(), r.sha256)).size;
    expect(kept).toBeGreaterThan(0);
    expect(kept).toBeLessThanOrEqual(100_000);
    expect(first.beats.at(-1)).toMatchObject({ offset: kept });
    expect(existsSync(blobPath(store(), r.sha256))).toBe(false);

    server.setFaults({});
    const second = await download(
      { pbxId: 'pbx-a', modelId: 'yealink-t58w', releaseId: r.id },
      first.beats.at(-1),
    );
    expect(second).toMatchObject({ stored: true, reused: false, bytes: r.size });
    const reqs = fileRequests(r.fileName);
    expect(reqs).toHaveLength(2);
    expect(reqs[1]).toMatchObject({ status: 206, range: `bytes=${kept}-`, ifRange: `"${r.sha256}"` });
    expect(reqs[1]?.bytesSent).toBe(r.size - kept);
    expect(sha256(readFileSync(blobPath(store(), r.sha256)))).toBe(r.sha256);
    expect(
      serviceLog.findLast((l) => l.msg === 'firmware downloaded' && l.model === 'yealink-t58w'),
    ).toMatchObject({
      outcome: 'stored',
      resumedFrom: kept,
      heartbeatOffset: kept,
      bytes: r.size - kept,
    });
  });

  it('R3: 5xx answers are retryable; the download succeeds once the server recovers', async () => {
    await addAccounts(t.db, 'pbx-b', 'snom-d120', 1);
    const r = await release('snom-d120-10.1.184.15');
    server.setFaults({ fail500: { count: 2, pathPrefix: '/files/' } });
    for (let i = 0; i < 2; i++) {
      await expect(download({ pbxId: 'pbx-b', modelId: 'snom-d120', releaseId: r.id })).rejects.toMatchObject(
        {
          type: 'FirmwareServerUnavailable',
          nonRetryable: false,
        },
      );
    }
    expect(await download({ pbxId: 'pbx-b', modelId: 'snom-d120', releaseId: r.id })).toMatchObject({
      stored: true,
    });
    expect(fileRequests(r.fileName).map((e) => e.status)).toEqual([500, 500, 200]);
  });

  it('issue 11 / R3: wrong bytes are discarded and retried a bounded number of times, then fail visibly', async () => {
    await addAccounts(t.db, 'pbx-b', 'yealink-cp920', 1);
    const r = await release('yealink-cp920-78.86.0.15');
    server.setFaults({ wrongBytes: { fileName: r.fileName } });
    const input = { pbxId: 'pbx-b', modelId: 'yealink-cp920', releaseId: r.id };
    // Each attempt gets the heartbeat details the previous one left, as Temporal hands them to a retry.
    let beat: DownloadHeartbeat | undefined;
    const errors: unknown[] = [];
    for (let attempt = 1; attempt <= MAX_CORRUPT_ATTEMPTS; attempt++) {
      const run = start(input, beat);
      errors.push(await run.result.catch((e: unknown) => e));
      beat = run.beats.at(-1);
      expect(beat?.corruptAttempts).toBe(attempt);
      expect(existsSync(partialPath(store(), r.sha256))).toBe(false);
    }
    expect(errors.map((e) => (e as ApplicationFailure).nonRetryable)).toEqual([false, false, true]);
    for (const e of errors) expect(e).toMatchObject({ type: 'FirmwareHashMismatch' });
    expect(fileRequests(r.fileName)).toHaveLength(MAX_CORRUPT_ATTEMPTS);
    expect(existsSync(blobPath(store(), r.sha256))).toBe(false);
    expect(await t.db.select().from(blobs).where(eq(blobs.sha256, r.sha256))).toEqual([]);
    expect(
      await t.db
        .select()
        .from(localFirmware)
        .where(and(eq(localFirmware.pbxId, 'pbx-b'), eq(localFirmware.modelId, 'yealink-cp920'))),
    ).toEqual([]);
    const failed = await listJournal(t.db, { pbxId: 'pbx-b', action: 'firmware.download-failed', limit: 5 });
    expect(failed).toHaveLength(1);
    expect(failed[0]).toMatchObject({
      modelId: 'yealink-cp920',
      details: { type: 'FirmwareHashMismatch', attempts: MAX_CORRUPT_ATTEMPTS },
    });
    expect(
      readPbxLog(side.config, 'pbx-b', 'firmwares').findLast((l) => l.event === 'download'),
    ).toMatchObject({
      outcome: 'failed',
      type: 'FirmwareHashMismatch',
    });
    // The next check still finds the type needing its download, so the next weekly cycle schedules it again.
    server.setFaults({});
    const report = await checkFirmware(side.deps, { pbxId: 'pbx-b', why: 'schedule', who: 'system' });
    expect(report.types.find((x) => x.modelId === 'yealink-cp920')).toMatchObject({ needsDownload: true });
  });

  it('issue 11: wrong bytes once, right bytes on the retry: stored, nothing journalled as failed', async () => {
    await addAccounts(t.db, 'pbx-c', 'yealink-cp960', 1);
    const r = await release('yealink-cp960-73.85.0.5');
    server.setFaults({ wrongBytes: { fileName: r.fileName } });
    const input = { pbxId: 'pbx-c', modelId: 'yealink-cp960', releaseId: r.id };
    const first = start(input);
    expect(await first.result.catch((e: unknown) => e)).toMatchObject({
      type: 'FirmwareHashMismatch',
      nonRetryable: false,
    });
    server.setFaults({});
    expect(await download(input, first.beats.at(-1))).toMatchObject({ stored: true });
    expect(sha256(readFileSync(blobPath(store(), r.sha256)))).toBe(r.sha256);
    expect(await listJournal(t.db, { pbxId: 'pbx-c', action: 'firmware.download-failed', limit: 5 })).toEqual(
      [],
    );
  });

  it('cancellation reaches the HTTP request; the retry resumes from the heartbeat offset', async () => {
    await addAccounts(t.db, 'pbx-b', 'yealink-vp59', 1);
    const r = await release('yealink-vp59-91.86.0.20');
    server.setFaults({ throttleBytesPerSecond: 400_000 });
    const before = server.stats().bytesSent;
    const first = start({ pbxId: 'pbx-b', modelId: 'yealink-vp59', releaseId: r.id });
    while (server.stats().bytesSent - before < 100_000) await new Promise((res) => setTimeout(res, 20));
    first.env.cancel('CANCELLED');
    const err = await first.result.catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CancelledFailure);
    // What the activity had received is kept; bytes still in socket buffers (up to undici's 64 KiB) are not.
    const kept = statSync(partialPath(store(), r.sha256)).size;
    expect(kept).toBeGreaterThan(0);
    expect(kept).toBeLessThanOrEqual(server.stats().bytesSent - before);
    expect(first.beats.at(-1)?.offset).toBe(kept);
    await new Promise((res) => setTimeout(res, 50));
    expect(fileRequests(r.fileName)[0]).toMatchObject({ status: 200, aborted: true });

    server.setFaults({});
    const second = await download(
      { pbxId: 'pbx-b', modelId: 'yealink-vp59', releaseId: r.id },
      first.beats.at(-1),
    );
    expect(second).toMatchObject({ stored: true });
    expect(fileRequests(r.fileName)[1]).toMatchObject({
      status: 206,
      range: `bytes=${kept}-`,
      bytesSent: r.size - kept,
    });
    expect(sha256(readFileSync(blobPath(store(), r.sha256)))).toBe(r.sha256);
  });

  it('a retry takes over a partial file left by a crashed attempt: bytes on disk are not fetched again', async () => {
    await addAccounts(t.db, 'pbx-c', 'yealink-cp965', 1);
    const r = await release('yealink-cp965-143.86.0.10');
    const whole = Buffer.from(await (await request(`${server.url}/files/${r.fileName}`)).body.arrayBuffer());
    server.clearRequests();
    mkdirSync(partialDir(store()), { recursive: true });
    writeFileSync(partialPath(store(), r.sha256), whole.subarray(0, 123_457));
    const result = await download({ pbxId: 'pbx-c', modelId: 'yealink-cp965', releaseId: r.id });
    expect(result).toMatchObject({ stored: true, bytes: r.size });
    expect(fileRequests(r.fileName)).toEqual([
      expect.objectContaining({ status: 206, range: 'bytes=123457-', bytesSent: r.size - 123_457 }),
    ]);
  });

  it('corrupt bytes left on disk by an earlier attempt: discarded, retried once from byte 0', async () => {
    await addAccounts(t.db, 'pbx-c', 'yealink-cp925', 1);
    const r = await release('yealink-cp925-148.86.0.5');
    mkdirSync(partialDir(store()), { recursive: true });
    writeFileSync(partialPath(store(), r.sha256), Buffer.alloc(5000, 7));
    const err = await download({ pbxId: 'pbx-c', modelId: 'yealink-cp925', releaseId: r.id }).catch(
      (e: unknown) => e,
    );
    expect(err).toMatchObject({ type: 'FirmwareHashMismatch', nonRetryable: false });
    expect(existsSync(partialPath(store(), r.sha256))).toBe(false);
    expect(existsSync(blobPath(store(), r.sha256))).toBe(false);
    expect(await download({ pbxId: 'pbx-c', modelId: 'yealink-cp925', releaseId: r.id })).toMatchObject({
      stored: true,
    });
    expect(fileRequests(r.fileName).at(-1)).toMatchObject({ status: 200, range: null, bytesSent: r.size });
  });

  it('refuses unknown releases, releases not covering the type, and bad input, without retry', async () => {
    await expect(
      download({ pbxId: 'pbx-a', modelId: 'yealink-t57', releaseId: 'nope' }),
    ).rejects.toMatchObject({
      type: 'UnknownRelease',
      nonRetryable: true,
    });
    await expect(
      download({ pbxId: 'pbx-a', modelId: 'yealink-t57', releaseId: 'snom-d785-10.1.184.15' }),
    ).rejects.toMatchObject({ type: 'UnknownRelease', nonRetryable: true });
    await expect(download({ pbxId: 'pbx-a', modelId: '', releaseId: 'x' })).rejects.toMatchObject({
      type: 'InvalidInput',
    });
  });
});
