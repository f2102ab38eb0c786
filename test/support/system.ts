/**
 * The whole system in one test process, every part real: Postgres, the Temporal dev server with a worker running
 * the real workflows and all activity groups, the reference firmware server (signed catalog), the phone edge
 * (provisioning HTTP + SIP on loopback), the admin API and web page on an ephemeral port. Simulated phones are
 * started by the test from the accounts it creates through the API.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type NativeConnection, Worker } from '@temporalio/worker';
import pino from 'pino';
import { syncCatalog } from '../../activities/catalog.ts';
import type { ActivityDeps } from '../../activities/deps.ts';
import {
  createDownloadActivities,
  createLifecycleActivities,
  createPhoneActivities,
} from '../../activities/index.ts';
import { BLOCK_HEARTBEAT_THROTTLE } from '../../activities/update-block.ts';
import { createApp } from '../../api/app.ts';
import { createApiToken } from '../../api/tokens.ts';
import { listPbxes } from '../../db/queries/pbxes.ts';
import { loadConfig } from '../../lib/config.ts';
import { PbxLogs } from '../../lib/pbx-logs.ts';
import { type PhoneEdge, startPhoneEdge } from '../../phones/edge.ts';
import type { CallResult } from './api.ts';
import { serveOnLoopback } from './browser.ts';
import { createTestDatabase, type TestDatabase } from './db.ts';
import { startTestFirmwareServer, type TestFirmwareServer } from './firmware.ts';
import { connectDevServer, uniqueTaskQueue, workflowBundle } from './temporal.ts';

export const SIP_TIMERS = { t1Ms: 100, t2Ms: 800 };

export interface System {
  database: TestDatabase;
  firmwareServer: TestFirmwareServer;
  edge: PhoneEdge;
  deps: ActivityDeps;
  /** Base URL of the admin API and the web page. */
  url: string;
  adminToken: string;
  call(method: string, path: string, json?: unknown): Promise<Pick<CallResult, 'status' | 'body'>>;
  close(): Promise<void>;
}

export async function startSystem(): Promise<System> {
  const database = await createTestDatabase();
  const firmwareServer = await startTestFirmwareServer();
  const env = await connectDevServer();
  const queue = uniqueTaskQueue('system');
  const dir = mkdtempSync(join(tmpdir(), 'pfd-system-'));
  const config = loadConfig({
    DATA_DIR: dir,
    DATABASE_URL: database.url,
    TASK_QUEUE: queue,
    TASK_QUEUE_DOWNLOADS: `${queue}-downloads`,
    TASK_QUEUE_PHONES: `${queue}-phones`,
    FIRMWARE_SERVER_URL: firmwareServer.url,
    CATALOG_PUBLIC_KEY: firmwareServer.publicKey,
    FIRMWARE_HTTP_TIMEOUT_MS: '5000',
    TEMPORAL_UI_URL: 'http://127.0.0.1:8233',
    LOG_LEVEL: 'silent',
  });
  const logger = pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' });
  const logs = new PbxLogs(config.logDir);
  const deps: ActivityDeps = { config, db: database.db, logs, logger };

  // The catalog defines the phone models accounts may use (R1).
  const synced = await syncCatalog(deps);
  if (!synced.ok) throw new Error(`catalog sync failed: ${synced.error}`);

  const edge = await startPhoneEdge(deps, {
    provisioningPort: 0,
    sipPort: 0,
    host: '127.0.0.1',
    sipTimers: SIP_TIMERS,
  });
  const common = { connection: env.nativeConnection as NativeConnection, namespace: 'default' };
  const workers = [
    await Worker.create({
      ...common,
      taskQueue: config.taskQueues.lifecycle,
      workflowBundle: workflowBundle(),
      activities: createLifecycleActivities(deps),
    }),
    await Worker.create({
      ...common,
      taskQueue: config.taskQueues.downloads,
      activities: createDownloadActivities(deps),
    }),
    await Worker.create({
      ...common,
      taskQueue: config.taskQueues.phones,
      activities: createPhoneActivities(deps, edge),
      maxHeartbeatThrottleInterval: BLOCK_HEARTBEAT_THROTTLE,
    }),
  ];
  const running = workers.map((w) => w.run());

  const app = createApp({ config, db: database.db, sql: database.sql, temporal: env.client, logger, logs });
  const server = await serveOnLoopback(app.fetch);
  const adminToken = (await createApiToken(database.db, { name: 'admin' })).token;

  return {
    database,
    firmwareServer,
    edge,
    deps,
    url: server.url,
    adminToken,
    async call(method, path, json) {
      const res = await fetch(`${server.url}${path}`, {
        method,
        headers: {
          authorization: `Bearer ${adminToken}`,
          ...(json === undefined ? {} : { 'content-type': 'application/json' }),
        },
        ...(json === undefined ? {} : { body: JSON.stringify(json) }),
      });
      return { status: res.status, body: await res.json() };
    },
    async close() {
      await server.close();
      // The PBXes' long-lived workflows would outlive the test on the shared dev server.
      for (const pbx of await listPbxes(database.db)) {
        await env.client.workflow
          .getHandle(`pbx/${pbx.id}`)
          .terminate('test over')
          .catch(() => {});
      }
      for (const w of workers) w.shutdown();
      await Promise.allSettled(running);
      await edge.close();
      await firmwareServer.cleanup();
      logs.close();
      await env.teardown();
      await database.drop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
