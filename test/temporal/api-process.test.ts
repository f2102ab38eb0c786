/**
 * The API as it runs in production: `node api/main.ts` as its own process against real Postgres and Temporal.
 * At start it makes sure every PBX in the database has its lifecycle workflow (R16); it answers /health, refuses
 * admin routes without a token, and stops cleanly on SIGTERM.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createApiToken } from '../../api/tokens.ts';
import { pbxes } from '../../db/schema.ts';
import { repoRoot } from '../../lib/config.ts';
import { freePort, waitForPort } from '../../lib/ports.ts';
import { createTestDatabase, type TestDatabase } from '../support/db.ts';
import { uniqueTaskQueue } from '../support/temporal.ts';

let database: TestDatabase;
let client: Client;
let api: ChildProcess | undefined;
let dataDir: string;
const queue = uniqueTaskQueue('api-process');

beforeAll(async () => {
  database = await createTestDatabase();
  dataDir = mkdtempSync(join(tmpdir(), 'pfd-api-process-'));
  client = new Client({ connection: await Connection.connect({ address: inject('temporalAddress') }) });
});
afterAll(async () => {
  api?.kill('SIGKILL');
  await client.workflow
    .getHandle('pbx/existing')
    .terminate('test over')
    .catch(() => {});
  await client.connection.close();
  await database.drop();
  rmSync(dataDir, { recursive: true, force: true });
});

describe('the API process', () => {
  it('R16: starts the lifecycle workflow of every PBX already in the database, serves, and stops on SIGTERM', async () => {
    await database.db.insert(pbxes).values({
      id: 'existing',
      name: 'Existing',
      timeZone: 'Europe/Berlin',
      weeklyCheckDay: 3,
      weeklyCheckMinute: 500,
      provisioningUser: 'existing',
      provisioningSecretHash: 'scrypt$x$y',
      sipDomain: 'existing.pbx.local',
    });
    const port = await freePort();
    api = spawn(process.execPath, [join(repoRoot, 'api/main.ts')], {
      env: {
        ...process.env,
        DATA_DIR: dataDir,
        DATABASE_URL: database.url,
        TEMPORAL_ADDRESS: inject('temporalAddress'),
        TASK_QUEUE: queue,
        API_HOST: '127.0.0.1',
        API_PORT: String(port),
        LOG_LEVEL: 'warn',
      },
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    await waitForPort(port, 30_000);

    const described = await client.workflow.getHandle('pbx/existing').describe();
    expect(described.status.name).toBe('RUNNING');
    expect(described.type).toBe('pbxLifecycle');
    expect(described.taskQueue).toBe(queue);

    const health = await fetch(`http://127.0.0.1:${port}/health`);
    expect(health.status).toBe(200);
    // Serving (200), but not ok: no worker polls this test's queues (issue 15 defect 6).
    expect(await health.json()).toMatchObject({
      ok: false,
      serving: true,
      postgres: { ok: true },
      temporal: { ok: true },
      roles: { lifecycle: { ok: false }, downloads: { ok: false } },
    });
    expect((await fetch(`http://127.0.0.1:${port}/api/pbxes`)).status).toBe(401);
    const { token } = await createApiToken(database.db, { name: 'ops' });
    const list = await fetch(`http://127.0.0.1:${port}/api/pbxes`, {
      headers: { authorization: `Bearer ${token}` },
    });
    expect(((await list.json()) as { pbxes: Array<{ id: string }> }).pbxes.map((p) => p.id)).toEqual([
      'existing',
    ]);

    const exited = new Promise<number | null>((resolve) => api!.once('exit', (code) => resolve(code)));
    api.kill('SIGTERM');
    expect(await exited).toBe(0);
  });
});
