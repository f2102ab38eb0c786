/**
 * Issue 11, item 7 on a real Temporal server: a firmware whose bytes arrive wrong is retried by Temporal with the
 * activity's backoff, a bounded number of times (the count travels in the heartbeat details from one attempt to
 * the next), then fails for good — never stored — and the failure is journalled. Bytes that arrive right on a
 * retry are stored as usual.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { WorkflowFailedError } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { bundleWorkflowCode, Worker } from '@temporalio/worker';
import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { syncCatalog } from '../../activities/catalog.ts';
import { MAX_CORRUPT_ATTEMPTS } from '../../activities/download.ts';
import { partialPath } from '../../activities/firmware-store.ts';
import { createDownloadActivities } from '../../activities/index.ts';
import { type CatalogReleaseRow, getRelease } from '../../db/queries/catalog.ts';
import { listJournal } from '../../db/queries/journal.ts';
import { blobs } from '../../db/schema.ts';
import { blobPath } from '../../lib/store-paths.ts';
import { createTestDatabase, type TestDatabase } from '../support/db.ts';
import {
  addAccounts,
  insertPbx,
  type PbxSide,
  pbxSide,
  startTestFirmwareServer,
  type TestFirmwareServer,
} from '../support/firmware.ts';
import { connectDevServer, uniqueTaskQueue } from '../support/temporal.ts';
import { until } from '../support/until.ts';
import { downloadFirmwareOnce } from './fixtures/download-workflow.ts';

let t: TestDatabase;
let server: TestFirmwareServer;
let side: PbxSide;
let env: TestWorkflowEnvironment;
let worker: Worker;
let running: Promise<void>;
const queue = uniqueTaskQueue('download-retry');

beforeAll(async () => {
  t = await createTestDatabase();
  server = await startTestFirmwareServer();
  side = pbxSide(t.db, server);
  env = await connectDevServer();
  await insertPbx(t.db, 'pbx-retry');
  expect(await syncCatalog(side.deps)).toMatchObject({ ok: true });
  worker = await Worker.create({
    connection: env.nativeConnection,
    taskQueue: queue,
    workflowBundle: await bundleWorkflowCode({
      workflowsPath: fileURLToPath(new URL('./fixtures/download-workflow.ts', import.meta.url)),
      logger: { trace() {}, debug() {}, info() {}, warn() {}, error() {}, log() {} },
    }),
    activities: createDownloadActivities(side.deps),
  });
  running = worker.run();
});
afterAll(async () => {
  worker?.shutdown();
  await running;
  side?.cleanup();
  await server?.cleanup();
  await env?.teardown();
  await t?.drop();
});

async function download(modelId: string, releaseId: string) {
  // The fixture retries up to 5 times: more than MAX_CORRUPT_ATTEMPTS, so only the activity's own bound can stop it.
  return env.client.workflow.execute(downloadFirmwareOnce, {
    taskQueue: queue,
    workflowId: `${queue}/${modelId}`,
    args: [{ pbxId: 'pbx-retry', modelId, releaseId, why: 'schedule', who: 'system' }, queue],
  });
}
const fileRequests = (r: CatalogReleaseRow) =>
  server.requests().filter((e) => e.path === `/files/${r.fileName}`);

describe('corrupt downloads over real Temporal retries (issue 11, R3)', () => {
  it(`R3: wrong bytes every time → exactly ${MAX_CORRUPT_ATTEMPTS} attempts, then a visible failure; nothing stored`, async () => {
    await addAccounts(t.db, 'pbx-retry', 'yealink-cp920', 1);
    const r = (await getRelease(t.db, 'yealink-cp920-78.86.0.15')) as CatalogReleaseRow;
    server.setFaults({ wrongBytes: { fileName: r.fileName } });
    const err = await download('yealink-cp920', r.id).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WorkflowFailedError);
    expect(fileRequests(r)).toHaveLength(MAX_CORRUPT_ATTEMPTS);
    expect(existsSync(blobPath(side.config.firmwareStoreDir, r.sha256))).toBe(false);
    expect(existsSync(partialPath(side.config.firmwareStoreDir, r.sha256))).toBe(false);
    expect(await t.db.select().from(blobs).where(eq(blobs.sha256, r.sha256))).toEqual([]);
    const [failed] = await listJournal(t.db, {
      pbxId: 'pbx-retry',
      action: 'firmware.download-failed',
      limit: 1,
    });
    expect(failed).toMatchObject({
      modelId: 'yealink-cp920',
      details: { type: 'FirmwareHashMismatch', attempts: MAX_CORRUPT_ATTEMPTS },
    });
  });

  it('R3: wrong bytes on the first attempt, right ones on the retry → stored and verified', async () => {
    server.setFaults({});
    await addAccounts(t.db, 'pbx-retry', 'yealink-cp925', 1);
    const r = (await getRelease(t.db, 'yealink-cp925-148.86.0.5')) as CatalogReleaseRow;
    server.setFaults({ wrongBytes: { fileName: r.fileName } });
    const result = download('yealink-cp925', r.id);
    await until(
      'the first attempt',
      async () => fileRequests(r).length,
      (n) => n >= 1,
      30_000,
    );
    server.setFaults({});
    expect(await result).toMatchObject({ stored: true, sha256: r.sha256 });
    expect(fileRequests(r).length).toBeGreaterThanOrEqual(2);
    expect(existsSync(blobPath(side.config.firmwareStoreDir, r.sha256))).toBe(true);
  });
});
