/**
 * Issue 15 defect 5: `npm start` stopped the whole stack when one child died. Now a child killed with SIGKILL is
 * started again with a backoff, and a child that keeps dying (crash loop) stops everything with one line naming it.
 * scripts/start.ts runs here as `npm start` runs it, against the test Postgres and the shared dev server (so it
 * starts the worker and the API itself), and its children are killed with SIGKILL from outside.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { repoRoot } from '../../lib/config.ts';
import { freePort, isPortOpen } from '../../lib/ports.ts';
import { createTestDatabase, type TestDatabase } from '../support/db.ts';
import { uniqueTaskQueue } from '../support/temporal.ts';
import { until } from '../support/until.ts';

let database: TestDatabase;
let dataDir: string;
let start: ChildProcess | undefined;
let output = '';
let apiPort: number;

/** The direct child of `parent` whose command line contains `script`. */
function childPid(parent: number, script: string): number | null {
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid !== parent) continue;
      if (readFileSync(`/proc/${entry}/cmdline`, 'utf8').includes(script)) return Number(entry);
    } catch {}
  }
  return null;
}

beforeAll(async () => {
  database = await createTestDatabase();
  dataDir = mkdtempSync(join(tmpdir(), 'pfd-start-'));
  apiPort = await freePort();
  const queue = uniqueTaskQueue('start');
  start = spawn(process.execPath, [join(repoRoot, 'scripts/start.ts')], {
    env: {
      ...process.env,
      DEMO: '0',
      DATA_DIR: dataDir,
      DATABASE_URL: database.url,
      TEMPORAL_ADDRESS: inject('temporalAddress'),
      FIRMWARE_SERVER_URL: 'http://127.0.0.1:9', // given, so not started here
      WORKER_ROLES: 'downloads',
      TASK_QUEUE: queue,
      TASK_QUEUE_DOWNLOADS: `${queue}-downloads`,
      TASK_QUEUE_PHONES: `${queue}-phones`,
      API_PORT: String(apiPort),
      WORKFLOW_BUNDLE_PATH: inject('workflowBundlePath'),
      LOG_LEVEL: 'warn',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  start.stdout?.on('data', (d) => {
    output += d;
  });
  start.stderr?.on('data', (d) => {
    output += d;
  });
  await until(
    'npm start to be up',
    async () => output,
    (o) => o.includes('Everything is up') || start?.exitCode !== null,
    90_000,
  );
  expect(output).toContain('Everything is up');
}, 120_000);

afterAll(async () => {
  if (start && start.exitCode === null) {
    start.kill('SIGTERM');
    await new Promise((r) => start?.once('exit', r));
  }
  await database.drop();
  rmSync(dataDir, { recursive: true, force: true });
});

describe('npm start supervises its children (issue 15 defect 5)', () => {
  it('restarts a worker killed with SIGKILL, with the rest of the stack still up', async () => {
    const pid = start?.pid as number;
    const worker = childPid(pid, 'worker/main.ts');
    expect(worker).not.toBeNull();
    process.kill(worker as number, 'SIGKILL');
    const again = await until(
      'a new worker process',
      async () => childPid(pid, 'worker/main.ts'),
      (p) => p !== null && p !== worker,
      30_000,
    );
    expect(again).not.toBe(worker);
    expect(output).toMatch(/worker exited unexpectedly \(signal SIGKILL\); restarting it in 1\.0 s/);
    expect(start?.exitCode).toBeNull();
    expect(await isPortOpen(apiPort)).toBe(true);
  }, 60_000);

  it('stops everything, naming the child, when it crash-loops', async () => {
    const pid = start?.pid as number;
    // Five deaths within 60 s (the first test's kill counts as one).
    for (let i = 0; i < 4; i++) {
      const worker = await until(
        'the worker to be running',
        async () => childPid(pid, 'worker/main.ts'),
        (p) => p !== null,
        30_000,
      );
      process.kill(worker as number, 'SIGKILL');
      await until(
        'the worker to be gone',
        async () => childPid(pid, 'worker/main.ts'),
        (p) => p !== worker,
        10_000,
      );
    }
    const code = await new Promise<number | null>((r) =>
      start?.exitCode !== null ? r(start?.exitCode ?? null) : start?.once('exit', (c) => r(c)),
    );
    expect(code).toBe(1);
    expect(output).toMatch(/worker exited 5 times within 60 s .*crash-looping, so everything stops/);
    expect(output).toContain('api stopped');
    expect(await isPortOpen(apiPort)).toBe(false);
  }, 120_000);
});
