/**
 * The crash case for real: the production worker process (worker/main.ts, WORKER_ROLES=downloads) downloads a
 * firmware image on the Temporal dev server, is killed with SIGKILL mid-file, and a fresh worker process takes the
 * retry over. The reference server's own request log proves the second request asked only for the bytes that were
 * not on disk (`Range: bytes=<n>-`), and the total served stays about one file.
 */
import { createHash } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { bundleWorkflowCode, Worker } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { syncCatalog } from '../../activities/catalog.ts';
import { partialPath } from '../../activities/firmware-store.ts';
import { getRelease } from '../../db/queries/catalog.ts';
import { publishRelease } from '../../firmware-server/state.ts';
import { repoRoot } from '../../lib/config.ts';
import { type ManagedProcess, startProcess } from '../../lib/processes.ts';
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
import { connectDevServer, uniqueTaskQueue } from '../support/temporal.ts';
import { until } from '../support/until.ts';
import { downloadFirmwareOnce } from './fixtures/download-workflow.ts';

const SIZE = 8_000_000;

describe('download survives a worker crash (real worker processes, Temporal dev server)', () => {
  let t: TestDatabase;
  let server: TestFirmwareServer;
  let side: PbxSide;
  let env: TestWorkflowEnvironment;
  const workers: ManagedProcess[] = [];
  const output: string[] = [];

  beforeAll(async () => {
    t = await createTestDatabase();
    server = await startTestFirmwareServer();
    side = pbxSide(t.db, server);
    env = await connectDevServer();
    await publishRelease(server.dataDir, {
      vendor: 'yealink',
      models: ['T58W'],
      version: '150.86.0.9',
      size: SIZE,
    });
    await insertPbx(t.db, 'pbx-crash');
    expect(await syncCatalog(side.deps)).toMatchObject({ ok: true });
    await addAccounts(t.db, 'pbx-crash', 'yealink-t58w', 1);
  });
  afterAll(async () => {
    await Promise.all(workers.map((w) => w.stop('SIGKILL')));
    side?.cleanup();
    await server?.cleanup();
    await env?.teardown();
    await t?.drop();
  });

  function startDownloadWorker(
    taskQueue: string,
    name: string,
    extra: NodeJS.ProcessEnv = {},
  ): ManagedProcess {
    const c = side.config;
    const w = startProcess(name, process.execPath, [join(repoRoot, 'worker/main.ts')], {
      quiet: true,
      onLine: (l) => output.push(`${name}: ${l}`),
      env: {
        ...process.env,
        WORKER_ROLES: 'downloads',
        TASK_QUEUE_DOWNLOADS: taskQueue,
        TEMPORAL_ADDRESS: inject('temporalAddress'),
        DATABASE_URL: t.url,
        DATA_DIR: c.dataDir,
        FIRMWARE_SERVER_URL: c.firmwareServer.url,
        CATALOG_PUBLIC_KEY: server.publicKey,
        FIRMWARE_STORE_DIR: c.firmwareStoreDir,
        IMAGE_FIRMWARE_DIR: c.imageFirmwareDir,
        LOG_DIR: c.logDir,
        LOG_LEVEL: 'info', // the transfer figures are in the service log at info
        ...extra,
      },
    });
    workers.push(w);
    return w;
  }

  let bundle: Awaited<ReturnType<typeof bundleWorkflowCode>> | undefined;
  async function workflowWorker(taskQueue: string) {
    bundle ??= await bundleWorkflowCode({
      workflowsPath: fileURLToPath(new URL('./fixtures/download-workflow.ts', import.meta.url)),
      logger: { trace() {}, debug() {}, info() {}, warn() {}, error() {}, log() {} },
    });
    return Worker.create({ connection: env.nativeConnection, taskQueue, workflowBundle: bundle });
  }

  it('R3: resumes with Range after the worker is killed mid-file; bytes on disk are not fetched again', async () => {
    const r = await getRelease(t.db, 'yealink-t58w-150.86.0.9');
    if (!r) throw new Error('release not synced');
    const downloads = uniqueTaskQueue('downloads');
    const workflows = uniqueTaskQueue('wf');
    const wfWorker = await workflowWorker(workflows);

    await wfWorker.runUntil(async () => {
      server.setFaults({ throttleBytesPerSecond: 2_000_000 }); // ~4 s for the file: time to kill mid-way
      const first = startDownloadWorker(downloads, 'worker-1');
      const handle = await env.client.workflow.start(downloadFirmwareOnce, {
        taskQueue: workflows,
        workflowId: `crash-${downloads}`,
        args: [
          { pbxId: 'pbx-crash', modelId: 'yealink-t58w', releaseId: r.id, why: 'manual', who: 'admin' },
          downloads,
        ],
      });
      const deadline = Date.now() + 60_000;
      while (server.stats().bytesSent < SIZE * 0.4) {
        if (Date.now() > deadline) throw new Error(`no transfer started:\n${output.join('\n')}`);
        await new Promise((res) => setTimeout(res, 25));
      }
      await first.stop('SIGKILL');
      const onDisk = statSync(partialPath(side.config.firmwareStoreDir, r.sha256)).size;
      expect(onDisk).toBeGreaterThan(0);
      server.setFaults({});

      startDownloadWorker(downloads, 'worker-2');
      const result = await handle.result();
      expect(result).toMatchObject({ stored: true, reused: false, sha256: r.sha256, bytes: SIZE });

      const requests = server.requests().filter((e) => e.path === `/files/${r.fileName}`);
      expect(requests).toHaveLength(2);
      expect(requests[0]).toMatchObject({ status: 200, range: null, aborted: true });
      expect(requests[1]).toMatchObject({ status: 206, range: `bytes=${onDisk}-`, bytesSent: SIZE - onDisk });
      const served = requests.reduce((n, e) => n + e.bytesSent, 0);
      // What was in flight when the process died (socket buffers, the unflushed write batch) is fetched twice.
      expect(served).toBeLessThan(SIZE + 3_000_000);
      const blob = readFileSync(blobPath(side.config.firmwareStoreDir, r.sha256));
      expect(createHash('sha256').update(blob).digest('hex')).toBe(r.sha256);
      // Transfer figures are the operator's (the worker's service log), not the PBX's own log (issue 11, R16).
      const done = await until(
        'the worker to log the download',
        async () =>
          output
            .map((l) => l.slice(l.indexOf('{')))
            .filter((l) => l.startsWith('{'))
            .map((l) => JSON.parse(l) as Record<string, unknown>)
            .findLast((l) => l.msg === 'firmware downloaded'),
        Boolean,
        15_000,
      );
      expect(done).toMatchObject({ outcome: 'stored', resumedFrom: onDisk, bytes: SIZE - onDisk });
      expect(
        readPbxLog(side.config, 'pbx-crash', 'firmwares').findLast((l) => l.event === 'download'),
      ).toMatchObject({ outcome: 'stored', size: SIZE });
    });
  });
  it('R3, issue 15 defect 9: on SIGTERM the worker lets a running download finish in the same request, then exits', async () => {
    await publishRelease(server.dataDir, {
      vendor: 'yealink',
      models: ['T58W'],
      version: '150.86.0.10',
      size: SIZE,
    });
    expect(await syncCatalog(side.deps)).toMatchObject({ ok: true });
    const r = await getRelease(t.db, 'yealink-t58w-150.86.0.10');
    if (!r) throw new Error('release not synced');
    const downloads = uniqueTaskQueue('drain');
    const workflows = uniqueTaskQueue('wf-drain');
    const wfWorker = await workflowWorker(workflows);
    await wfWorker.runUntil(async () => {
      server.setFaults({ throttleBytesPerSecond: 2_000_000 }); // ~4 s for the file
      const w = startDownloadWorker(downloads, 'worker-drain', { WORKER_SHUTDOWN_GRACE_MS: '60000' });
      const handle = await env.client.workflow.start(downloadFirmwareOnce, {
        taskQueue: workflows,
        workflowId: `drain-${downloads}`,
        args: [
          { pbxId: 'pbx-crash', modelId: 'yealink-t58w', releaseId: r.id, why: 'manual', who: 'admin' },
          downloads,
        ],
      });
      const file = `/files/${r.fileName}`;
      const sent = () => server.requests().find((e) => e.path === file)?.bytesSent ?? 0;
      const deadline = Date.now() + 60_000;
      while (sent() < SIZE * 0.2) {
        if (Date.now() > deadline) throw new Error(`no transfer started:\n${output.join('\n')}`);
        await new Promise((res) => setTimeout(res, 25));
      }
      w.child.kill('SIGTERM'); // a deploy
      const result = await handle.result();
      server.setFaults({});
      expect(result).toMatchObject({ stored: true, reused: false, sha256: r.sha256, bytes: SIZE });
      const requests = server.requests().filter((e) => e.path === file);
      expect(requests).toHaveLength(1);
      expect(requests[0]).toMatchObject({ status: 200, aborted: false, bytesSent: SIZE });
      expect(await w.exited).toBe(0);
    });
  });
});
