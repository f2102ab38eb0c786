/**
 * Issue 15 defects 6 and 9, with real processes on the dev server: /health reports every role's pollers (Temporal's
 * task-queue description) and each phone edge's SIP and HTTP liveness where phones reach it, so a dead edge is no
 * longer "ok"; and the API drains an in-flight request on SIGTERM instead of cutting it off.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createApiToken } from '../../api/tokens.ts';
import { pbxes } from '../../db/schema.ts';
import { repoRoot } from '../../lib/config.ts';
import { freePort, waitForPort } from '../../lib/ports.ts';
import { createTestDatabase, type TestDatabase } from '../support/db.ts';
import { uniqueTaskQueue } from '../support/temporal.ts';
import { until } from '../support/until.ts';

let database: TestDatabase;
let dataDir: string;
const children: ChildProcess[] = [];
const queue = uniqueTaskQueue('health');
const siteQueue = `${queue}-site`;
let env: NodeJS.ProcessEnv;

function run(script: string, extra: NodeJS.ProcessEnv = {}): ChildProcess {
  const c = spawn(process.execPath, [join(repoRoot, script)], {
    env: { ...env, ...extra },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  children.push(c);
  return c;
}

type Health = {
  ok: boolean;
  serving: boolean;
  roles: {
    lifecycle: { ok: boolean };
    downloads: { ok: boolean };
    phones: Array<{
      taskQueue: string;
      ok: boolean;
      live: number;
      edges: Array<{ sip: { ok: boolean }; http: { ok: boolean } }>;
    }>;
  };
};

beforeAll(async () => {
  database = await createTestDatabase();
  dataDir = mkdtempSync(join(tmpdir(), 'pfd-health-'));
  env = {
    ...process.env,
    DATA_DIR: dataDir,
    DATABASE_URL: database.url,
    TEMPORAL_ADDRESS: inject('temporalAddress'),
    TASK_QUEUE: queue,
    TASK_QUEUE_DOWNLOADS: `${queue}-downloads`,
    TASK_QUEUE_PHONES: `${queue}-phones`,
    FIRMWARE_SERVER_URL: 'http://127.0.0.1:9',
    WORKFLOW_BUNDLE_PATH: inject('workflowBundlePath'),
    LOG_LEVEL: 'error',
  };
  await database.db.insert(pbxes).values({
    id: 'site',
    name: 'Site',
    timeZone: 'Europe/Berlin',
    weeklyCheckDay: 3,
    weeklyCheckMinute: 500,
    provisioningUser: 'site',
    provisioningSecretHash: 'scrypt$x$y',
    sipDomain: 'site.pbx.local',
    phonesTaskQueue: siteQueue,
  });
});
afterAll(async () => {
  for (const c of children) c.kill('SIGKILL');
  await database.drop();
  rmSync(dataDir, { recursive: true, force: true });
});

describe('/health and shutdown of the processes (issue 15)', () => {
  it('defect 6: reports pollers per role and each edge’s SIP/HTTP; a killed edge makes it not ok', async () => {
    const [apiPort, provisioningPort, sipPort] = [await freePort(), await freePort(), await freePort()];
    run('worker/main.ts', { WORKER_ROLES: 'lifecycle,downloads' });
    const edge = run('worker/main.ts', {
      WORKER_ROLES: 'phones',
      TASK_QUEUE_PHONES: siteQueue,
      PROVISIONING_PORT: String(provisioningPort),
      SIP_HOST: '127.0.0.1',
      SIP_PORT: String(sipPort),
    });
    run('api/main.ts', { API_HOST: '127.0.0.1', API_PORT: String(apiPort) });
    await waitForPort(apiPort, 60_000);
    const health = async () => {
      const res = await fetch(`http://127.0.0.1:${apiPort}/health`);
      return { status: res.status, body: (await res.json()) as Health };
    };
    // Three fresh processes register their pollers with a dev server that the whole suite shares: on a loaded
    // 2-core machine that took over 60 s once (CI), so this waits longer than it usually needs.
    const up = await until('every role polled and the edge answering', health, (h) => h.body.ok, 120_000);
    expect(up.status).toBe(200);
    const site = up.body.roles.phones.find((p) => p.taskQueue === siteQueue);
    expect(site).toMatchObject({ ok: true, live: 1 });
    expect(site?.edges).toEqual([
      expect.objectContaining({
        sip: expect.objectContaining({ ok: true }),
        http: expect.objectContaining({ ok: true }),
      }),
    ]);

    edge.kill('SIGKILL');
    const down = await until('the dead edge to show', health, (h) => !h.body.ok, 30_000);
    // The replica still serves (a load balancer keeps it); the system is not ok and says which edge.
    expect(down.status).toBe(200);
    expect(down.body.serving).toBe(true);
    const dead = down.body.roles.phones.find((p) => p.taskQueue === siteQueue);
    expect(dead?.ok).toBe(false);
    expect(down.body.roles.lifecycle.ok).toBe(true);
  }, 200_000);

  it('defect 9: on SIGTERM the API finishes an in-flight request before it exits', async () => {
    const port = await freePort();
    await database.db.insert(pbxes).values({
      id: 'slow',
      name: 'Slow',
      timeZone: 'Europe/Berlin',
      weeklyCheckDay: 3,
      weeklyCheckMinute: 500,
      provisioningUser: 'slow',
      provisioningSecretHash: 'scrypt$x$y',
      sipDomain: 'slow.pbx.local',
    });
    // No worker serves this queue: the Update waits for the workflow until the answer timeout (a slow request).
    const api = run('api/main.ts', {
      API_HOST: '127.0.0.1',
      API_PORT: String(port),
      TASK_QUEUE: `${queue}-nobody`,
      API_WORKFLOW_ANSWER_TIMEOUT_MS: '6000',
    });
    await waitForPort(port, 60_000);
    const { token } = await createApiToken(database.db, { name: 'drain' });
    const exited = new Promise<number | null>((resolve) => api.once('exit', (code) => resolve(code)));
    const inFlight = fetch(`http://127.0.0.1:${port}/api/pbxes/slow/check-now`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: '{}',
    }).then(
      async (r) => ({ status: r.status, body: await r.text() }),
      (err: unknown) => ({ status: 0, body: String(err) }),
    );
    await new Promise((r) => setTimeout(r, 1500));
    api.kill('SIGTERM');
    const answer = await inFlight;
    // The workflow never answered, so the API says so (504) — an answer, not a cut connection.
    expect(answer.status, answer.body).toBe(504);
    expect(await exited).toBe(0);
  }, 60_000);
});
