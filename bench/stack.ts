/**
 * The real stack for benchmarks, every part its own process as `npm start` runs it: embedded Postgres, the
 * Temporal dev server (in memory, with a Prometheus `/metrics` endpoint: an independent count of what reached
 * Temporal), optionally the reference firmware server, worker processes (`node worker/main.ts`) and the API
 * (`node api/main.ts`). Each process's CPU is read from /proc (bench/proc.ts), so a report can say who spent what.
 * BENCH_PROFILE_DIR=<dir> makes the API and each worker process write V8 CPU profiles to <dir>/<name> when they
 * stop (a worker's workflow threads write their own); `node bench/profile-summary.ts <dir>/<name>` summarizes them.
 */
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createApiToken } from '../api/tokens.ts';
import { connectDb, type DbHandle } from '../db/client.ts';
import { spawnEmbeddedPostgres } from '../db/embedded.ts';
import { migrateDatabase } from '../db/migrate.ts';
import { repoRoot } from '../lib/config.ts';
import { freePort, waitForPort } from '../lib/ports.ts';
import { type ManagedProcess, startProcess } from '../lib/processes.ts';
import { provisionTools } from '../scripts/provision-tools.ts';
import { SEARCH_ATTRIBUTES } from '../workflows/search-attributes.ts';
import { cpuMsOf } from './proc.ts';

export interface Stack {
  dir: string;
  /** Environment every process of the stack runs with (DATABASE_URL, TEMPORAL_ADDRESS, DATA_DIR, ...). */
  env: NodeJS.ProcessEnv;
  db: DbHandle;
  temporalAddress: string;
  /** Prometheus text of the Temporal server. */
  temporalMetrics(): Promise<string>;
  /** Processes by name (postgres counts with its backends). */
  processes: Map<string, { pid: number; tree: boolean }>;
  startWorker(name: string, env?: NodeJS.ProcessEnv): Promise<ManagedProcess>;
  startApi(env?: NodeJS.ProcessEnv): Promise<{ url: string; process: ManagedProcess }>;
  startFirmwareServer(dataDir: string): Promise<string>;
  adminToken(): Promise<string>;
  /** CPU ms per process so far. */
  cpu(): Record<string, number>;
  stop(): Promise<void>;
}

export async function startStack(say: (m: string) => void = () => {}): Promise<Stack> {
  const dir = mkdtempSync(join(tmpdir(), 'pfd-bench-stack-'));
  chmodSync(dir, 0o755); // Postgres runs as its own user when we are root
  const stoppers: Array<() => Promise<void>> = [async () => rmSync(dir, { recursive: true, force: true })];
  const processes = new Map<string, { pid: number; tree: boolean }>();
  const managed: ManagedProcess[] = [];
  try {
    say('tools, Postgres and the Temporal dev server');
    const tools = await provisionTools();
    if (!tools.temporalCli) throw new Error('the benchmarks need the Temporal CLI (npm run tools builds it)');
    const pgPort = await freePort();
    const pg = await spawnEmbeddedPostgres({ dir: join(dir, 'postgres'), port: pgPort, database: 'bench' });
    stoppers.push(() => pg.stop());
    await migrateDatabase(pg.url);
    const db = connectDb(pg.url, { max: 4 });
    stoppers.push(() => db.close());
    const pgPid = await postgresPid(pgPort);
    if (pgPid) processes.set('postgres', { pid: pgPid, tree: true });

    const temporalPort = await freePort();
    const metricsPort = await freePort();
    const temporal = startProcess(
      'temporal',
      tools.temporalCli,
      [
        'server',
        'start-dev',
        '--ip',
        '127.0.0.1',
        '--port',
        String(temporalPort),
        '--headless',
        '--metrics-port',
        String(metricsPort),
        '--log-level',
        'error',
        ...Object.entries(SEARCH_ATTRIBUTES).flatMap(([k, t]) => ['--search-attribute', `${k}=${t}`]),
      ],
      { quiet: true },
    );
    managed.push(temporal);
    processes.set('temporal', { pid: temporal.child.pid as number, tree: true });
    await waitForPort(temporalPort, 60_000);
    const temporalAddress = `127.0.0.1:${temporalPort}`;
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      DATA_DIR: dir,
      DATABASE_URL: pg.url,
      TEMPORAL_ADDRESS: temporalAddress,
      LOG_LEVEL: 'warn',
      LOG_PRETTY: '0',
      // Never another stack's firmware server on the default port; startFirmwareServer sets a real one.
      FIRMWARE_SERVER_URL: process.env.BENCH_FIRMWARE_SERVER_URL ?? 'http://127.0.0.1:9',
    };

    let stopping: Promise<void> | null = null;
    const stopAll = () => {
      stopping ??= (async () => {
        for (const m of managed.reverse()) await m.stop('SIGTERM', 15_000).catch(() => {});
        for (const s of stoppers.reverse()) await s().catch(() => {});
      })();
      return stopping;
    };
    // Ctrl-C or a kill still stops every process of the stack (the dev server runs in a process group of its own).
    for (const signal of ['SIGINT', 'SIGTERM'] as const) {
      process.once(signal, () => void stopAll().then(() => process.exit(130)));
    }
    return {
      dir,
      env,
      db,
      temporalAddress,
      temporalMetrics: async () => (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text(),
      processes,
      async startWorker(name, extra = {}) {
        const w = startProcess(name, process.execPath, [join(repoRoot, 'worker/main.ts')], {
          env: { ...env, ...profiled(name), ...extra },
          quiet: true,
        });
        managed.push(w);
        processes.set(name, { pid: w.child.pid as number, tree: false });
        return w;
      },
      async startApi(extra = {}) {
        const port = await freePort();
        const api = startProcess('api', process.execPath, [join(repoRoot, 'api/main.ts')], {
          env: { ...env, API_HOST: '127.0.0.1', API_PORT: String(port), ...profiled('api'), ...extra },
          quiet: true,
        });
        managed.push(api);
        processes.set('api', { pid: api.child.pid as number, tree: false });
        await Promise.race([
          waitForPort(port, 600_000),
          api.exited.then((code) => {
            throw new Error(`the API exited during start (code ${code})`);
          }),
        ]);
        return { url: `http://127.0.0.1:${port}`, process: api };
      },
      async startFirmwareServer(dataDir) {
        const port = await freePort();
        const fw = startProcess(
          'firmware-server',
          process.execPath,
          [join(repoRoot, 'firmware-server/main.ts'), '--port', String(port), '--data-dir', dataDir],
          { env: { ...env, LOG_LEVEL: 'warn' }, quiet: true },
        );
        managed.push(fw);
        processes.set('firmware-server', { pid: fw.child.pid as number, tree: false });
        await waitForPort(port, 120_000);
        env.FIRMWARE_SERVER_URL = `http://127.0.0.1:${port}`;
        return env.FIRMWARE_SERVER_URL;
      },
      async adminToken() {
        return (await createApiToken(db.db, { name: `bench-${Date.now()}` })).token;
      },
      cpu() {
        const out: Record<string, number> = {};
        for (const [name, p] of processes) out[name] = Math.round(cpuMsOf(p.pid, p.tree));
        return out;
      },
      stop: stopAll,
    };
  } catch (err) {
    for (const m of managed.reverse()) await m.stop('SIGKILL').catch(() => {});
    for (const s of stoppers.reverse()) await s().catch(() => {});
    throw err;
  }
}

/** The postmaster listening on `port` (its backends are its children). */
async function postgresPid(port: number): Promise<number | null> {
  const { readdirSync, readFileSync } = await import('node:fs');
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const cmd = readFileSync(`/proc/${name}/cmdline`, 'utf8').split('\0');
      if (cmd[0]?.endsWith('/postgres') && cmd.includes(String(port))) return Number(name);
    } catch {}
  }
  return null;
}

/** Sum of a Prometheus counter's samples whose labels contain all of `labels` (e.g. `operation="QueryWorkflow"`). */
export function metricSum(text: string, name: string, labels: string[] = []): number {
  let sum = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
    if (!labels.every((l) => line.includes(l))) continue;
    sum += Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return sum;
}

/**
 * A bench's database: DATABASE_URL when set, else an embedded Postgres under `dir` (stopped by `cleanups`);
 * migrated, with a connection that `cleanups` closes.
 */
export async function benchDatabase(
  dir: string,
  cleanups: Array<() => Promise<void> | void>,
  say: (m: string) => void,
): Promise<{ url: string; handle: DbHandle }> {
  let url = process.env.DATABASE_URL;
  if (!url) {
    say('starting an embedded Postgres...');
    const pg = await spawnEmbeddedPostgres({
      dir: join(dir, 'postgres'),
      port: await freePort(),
      database: 'bench',
    });
    cleanups.push(() => pg.stop());
    url = pg.url;
  }
  await migrateDatabase(url);
  const handle = connectDb(url);
  cleanups.push(() => handle.close());
  return { url, handle };
}

/** BENCH_PROFILE_DIR: the process writes its V8 CPU profiles to <dir>/<name> when it stops. */
function profiled(name: string): NodeJS.ProcessEnv {
  const dir = process.env.BENCH_PROFILE_DIR;
  return dir ? { NODE_OPTIONS: `--cpu-prof --cpu-prof-dir=${join(dir, name)}` } : {};
}
