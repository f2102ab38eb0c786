/**
 * The admin API in-process (`app.request`) on a fresh real Postgres and the real Temporal dev server, with a
 * worker on a task queue of its own; tokens made the way the `token` command makes them.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import pino from 'pino';
import type { ActivityDeps } from '../../activities/deps.ts';
import { BLOCK_HEARTBEAT_THROTTLE } from '../../activities/update-block.ts';
import { createApp } from '../../api/app.ts';
import { createApiToken } from '../../api/tokens.ts';
import { listPbxes } from '../../db/queries/pbxes.ts';
import { phoneModels } from '../../db/schema.ts';
import { loadConfig } from '../../lib/config.ts';
import { PbxLogs } from '../../lib/pbx-logs.ts';
import { createTestDatabase, type TestDatabase } from './db.ts';
import { connectDevServer, uniqueTaskQueue } from './temporal.ts';

export interface CallOptions {
  token?: string | null;
  json?: unknown;
  body?: string;
  headers?: Record<string, string>;
}

export interface CallResult {
  status: number;
  // biome-ignore lint/suspicious/noExplicitAny: response bodies are asserted field by field
  body: any;
  headers: Headers;
}

export const TEST_MODELS = [
  { id: 'yealink-t54w', vendor: 'yealink', model: 'T54W', provisioningKey: 't54w' },
  { id: 'yealink-t31', vendor: 'yealink', model: 'T31', provisioningKey: 't31' },
  { id: 'snom-d785', vendor: 'snom', model: 'D785', provisioningKey: 'snomD785' },
  { id: 'snom-m900', vendor: 'snom', model: 'M900', provisioningKey: 'snomM900', imageManaged: true },
];

export interface ApiHarness {
  app: ReturnType<typeof createApp>;
  database: TestDatabase;
  env: TestWorkflowEnvironment;
  config: ReturnType<typeof loadConfig>;
  logDir: string;
  /** A token as `npm run token -- create` makes it; deployment-wide unless a PBX is given. */
  token(name: string, pbxId?: string): Promise<string>;
  call(method: string, path: string, options?: CallOptions): Promise<CallResult>;
  close(): Promise<void>;
}

export async function createApiHarness(options: {
  workflowBundle?: { code: string } | { codePath: string };
  /** The worker's activities, or a function making them from the harness's own database and config. */
  activities?: object | ((deps: ActivityDeps) => object);
  env?: Record<string, string>;
  defaultToken?: string;
}): Promise<ApiHarness> {
  const database = await createTestDatabase();
  await database.db.insert(phoneModels).values(TEST_MODELS);
  const env = await connectDevServer();
  const taskQueue = uniqueTaskQueue('api');
  const logDir = mkdtempSync(join(tmpdir(), 'pfd-api-logs-'));
  const config = loadConfig({
    DATABASE_URL: database.url,
    TASK_QUEUE: taskQueue,
    // Every queue of this harness is its own: the dev server is shared by the whole run, and worker processes of
    // other test files poll the default queues (they took this harness's blocks and downloads).
    TASK_QUEUE_DOWNLOADS: taskQueue,
    TASK_QUEUE_PHONES: taskQueue,
    LOG_DIR: logDir,
    TEMPORAL_UI_URL: 'http://temporal-ui.test:8233',
    API_WORKFLOW_ANSWER_TIMEOUT_MS: '20000',
    ...options.env,
  });
  const logs = new PbxLogs(logDir);
  const logger = pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' });
  const app = createApp({ config, db: database.db, sql: database.sql, temporal: env.client, logger, logs });

  let worker: Worker | undefined;
  let running: Promise<void> | undefined;
  if (options.workflowBundle) {
    const activities =
      typeof options.activities === 'function'
        ? options.activities({ config, db: database.db, logs, logger })
        : (options.activities ?? {});
    worker = await Worker.create({
      connection: env.nativeConnection,
      taskQueue: config.taskQueues.lifecycle,
      workflowBundle: options.workflowBundle,
      activities,
      maxHeartbeatThrottleInterval: BLOCK_HEARTBEAT_THROTTLE,
    });
    running = worker.run();
  }

  const harness: ApiHarness = {
    app,
    database,
    env,
    config,
    logDir,
    async token(name, pbxId) {
      return (await createApiToken(database.db, { name, pbxId: pbxId ?? null })).token;
    },
    async call(method, path, o = {}) {
      const headers: Record<string, string> = { ...o.headers };
      const token = o.token === undefined ? options.defaultToken : o.token;
      if (token) headers.authorization = `Bearer ${token}`;
      let body = o.body;
      if (o.json !== undefined) {
        body = JSON.stringify(o.json);
        headers['content-type'] ??= 'application/json';
      }
      const res = await app.request(path, { method, headers, ...(body !== undefined ? { body } : {}) });
      const text = await res.text();
      let parsed: unknown = text;
      try {
        parsed = text ? JSON.parse(text) : null;
      } catch {}
      return { status: res.status, body: parsed, headers: res.headers };
    },
    async close() {
      // PBX workflows would outlive this file on the shared dev server and answer for another file's PBX id.
      for (const { id } of await listPbxes(database.db)) {
        await env.client.workflow
          .getHandle(`pbx/${id}`)
          .terminate('test over')
          .catch(() => {});
      }
      worker?.shutdown();
      await running;
      logs.close();
      await env.teardown();
      await database.drop();
      rmSync(logDir, { recursive: true, force: true });
    },
  };
  return harness;
}

/** Everything an admin route could change, to prove a refused request changed nothing. */
export async function snapshotState(h: ApiHarness) {
  const { sql } = h.database;
  return {
    pbxes: await sql`select * from pbxes order by id`,
    accounts: await sql`select * from phone_accounts order by id`,
    typeSettings: await sql`select * from type_settings order by pbx_id, model_id`,
    localFirmware: await sql`select * from local_firmware order by pbx_id, model_id, version`,
    journal: await sql`select * from journal order by id`,
    rollouts: await sql`select * from rollouts order by id`,
    rolloutSettings: await sql`select * from pbx_rollout_settings order by pbx_id`,
    typeHolds: await sql`select * from type_holds order by pbx_id, model_id`,
    previews: await sql`select * from rollout_previews order by id`,
    fleetRollouts: await sql`select * from fleet_rollouts order by id`,
    tokens: await sql`select id, name, token_hash, pbx_id, revoked_at from api_tokens order by id`,
  };
}
