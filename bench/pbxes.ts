/**
 * `npm run bench:pbxes` (issue 14 targets 4 and 5): many PBXes and many open pages on the real stack (Postgres,
 * the Temporal dev server with its Prometheus metrics, a lifecycle worker process, the API process). Each figure
 * with its baseline from the same run:
 *
 *  1. Registration rate through POST /api/pbxes (with 8 clients), against starting the same number of bare
 *     lifecycle workflows with the Temporal client (what a registration cannot do without); the KDF's cost per
 *     call, scrypt (before) and the salted HMAC for generated secrets (now).
 *  2. Default update moments of the registered PBXes: how many share the busiest minute (before: all of them, at
 *     Sunday 03:00).
 *  3. Open pages: `--pages` pages polling like the Firmwares page (rollout progress every 1.5 s, the overview
 *     every 4th tick) plus the status route every tick, for `--poll-seconds`; the Temporal server's own count of
 *     QueryWorkflow requests during it, and each process's CPU. Baseline: the same number of status reads as
 *     workflow queries (what the status route did before).
 *  4. API start-up with `--pbxes` PBXes in the database: ensureLifecycles when none runs (all started, 32 at a
 *     time) and when all run (only listed), against starting them one after another (before), timed on a sample.
 *  5. The worker's memory per cached lifecycle workflow (RSS growth once every started PBX has run its first
 *     workflow task, which it proves by recording its status), against its RSS before.
 *  6. GET /api/pbxes with all those PBXes: a page of 100 and a filtered query, against fetching every page (what
 *     the unpaged list sent).
 *
 *   npm run bench:pbxes -- [--register 200] [--pages 100] [--poll-seconds 30] [--pbxes 2000]
 */
import { execFile } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { parseArgs, promisify } from 'node:util';
import { Client, Connection } from '@temporalio/client';
import { count, sql } from 'drizzle-orm';
import pino from 'pino';
import { ensureLifecycles, LIFECYCLE_WORKFLOW_TYPE, lifecycleArgs } from '../api/lifecycle-client.ts';
import { pbxes, pbxLifecycleStatus } from '../db/schema.ts';
import { loadConfig, repoRoot } from '../lib/config.ts';
import { generateSecret, hashGeneratedSecret, hashSecret } from '../lib/secrets.ts';
import { statusQuery, workflowIds } from '../workflows/messages.ts';
import { type LoadResult, percentile } from './load.ts';
import { loadLine, otherProcesses } from './proc.ts';
import { metricSum, startStack } from './stack.ts';

const run = promisify(execFile);
const { values: a } = parseArgs({
  options: {
    register: { type: 'string', default: '200' },
    pages: { type: 'string', default: '100' },
    'poll-seconds': { type: 'string', default: '30' },
    pbxes: { type: 'string', default: '2000' },
    report: { type: 'string', default: join(repoRoot, 'test-results', 'bench-pbxes.md') },
  },
});
const say = (m: string) => process.stderr.write(`[bench] ${m}\n`);
const REGISTER = Number(a.register);
const PAGES = Number(a.pages);
const POLL_SECONDS = Number(a['poll-seconds']);
const MANY = Number(a.pbxes);
const POLL_MS = 1500; // api/web/assets/firmwares.js
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function parallel<T>(items: T[], width: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(width, items.length) }, async () => {
      while (next < items.length) await fn(items[next++] as T);
    }),
  );
}

const report: string[] = [];
const line = (s = '') => {
  report.push(s);
  process.stdout.write(`${s}\n`);
};

const stack = await startStack(say);
try {
  const db = stack.db.db;
  const loadAtStart = loadLine();
  const worker = await stack.startWorker('worker', { WORKER_ROLES: 'lifecycle' });
  const api = await stack.startApi();
  const token = await stack.adminToken();
  const config = loadConfig(stack.env);
  const temporal = new Client({ connection: await Connection.connect({ address: stack.temporalAddress }) });
  const call = async (method: string, path: string, json?: unknown) => {
    const res = await fetch(`${api.url}${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: json === undefined ? undefined : JSON.stringify(json),
    });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  };
  line(`# Many PBXes benchmark (${new Date().toISOString()})`);
  line();
  line(
    `\`npm run bench:pbxes -- --register ${REGISTER} --pages ${PAGES} --poll-seconds ${POLL_SECONDS} --pbxes ${MANY}\`; ${loadAtStart} at the start.`,
  );

  // ---- 1. registration rate ------------------------------------------------------------------------
  say(`registering ${REGISTER} PBXes through the API, 8 at a time`);
  const cpuBefore = stack.cpu();
  let t = performance.now();
  await parallel(
    Array.from({ length: REGISTER }, (_, i) => i),
    8,
    async (i) => {
      const res = await call('POST', '/api/pbxes', {
        id: `reg-${i}`,
        name: `Registered ${i}`,
        timeZone: 'Europe/Berlin',
      });
      if (res.status !== 201)
        throw new Error(`registration answered ${res.status}: ${JSON.stringify(res.body)}`);
    },
  );
  const registerSecs = (performance.now() - t) / 1000;
  const cpuAfter = stack.cpu();
  const perRegistration = Object.entries(cpuAfter)
    .map(([k, v]) => `${k} ${((v - (cpuBefore[k] ?? 0)) / REGISTER).toFixed(1)} ms`)
    .join(', ');
  say(`starting ${REGISTER} bare lifecycle workflows, 8 at a time`);
  t = performance.now();
  await parallel(
    Array.from({ length: REGISTER }, (_, i) => i),
    8,
    async (i) => {
      // A PBX id with no row: the workflow finds no PBX and ends (the start is what is measured).
      await temporal.workflow.start(LIFECYCLE_WORKFLOW_TYPE, {
        workflowId: workflowIds.lifecycle(`bare-${i}`),
        taskQueue: config.taskQueues.lifecycle,
        args: [
          lifecycleArgs(config, {
            id: `bare-${i}`,
            weeklyCheckDay: 0,
            weeklyCheckMinute: 0,
            phonesTaskQueue: null,
          }),
        ],
      });
    },
  );
  const bareSecs = (performance.now() - t) / 1000;
  const kdf = async (f: () => unknown, n = 20) => {
    const c = process.cpuUsage();
    for (let i = 0; i < n; i++) await f();
    const u = process.cpuUsage(c);
    return (u.user + u.system) / 1000 / n;
  };
  const secret = generateSecret(24);
  const scryptMs = await kdf(() => hashSecret(secret));
  const hmacMs = await kdf(() => hashGeneratedSecret(secret), 2000);
  const regRate = REGISTER / registerSecs;
  const bareRate = REGISTER / bareSecs;
  line();
  line('## 1. Registration (target ≥ 100 PBXes/s)');
  line();
  line(
    `- POST /api/pbxes, 8 clients: **${regRate.toFixed(0)} PBXes/s** (${REGISTER} in ${registerSecs.toFixed(1)} s); CPU per registration: ${perRegistration}.`,
  );
  line(
    `- Baseline: starting ${REGISTER} bare lifecycle workflows, 8 at a time: ${bareRate.toFixed(0)}/s; registration runs at ${(regRate / bareRate).toFixed(2)}× that.`,
  );
  line(
    `- KDF CPU per provisioning secret: scrypt ${scryptMs.toFixed(1)} ms (before), salted HMAC-SHA256 ${(hmacMs * 1000).toFixed(1)} µs (now).`,
  );

  // ---- 2. default update moments --------------------------------------------------------------------
  const moments = await db
    .select({ day: pbxes.updateDay, minute: pbxes.updateMinute, n: count() })
    .from(pbxes)
    .where(sql`${pbxes.id} like 'reg-%'`)
    .groupBy(pbxes.updateDay, pbxes.updateMinute);
  const busiest = Math.max(...moments.map((m) => m.n));
  line();
  line('## 2. Default update moments (R11, drawn at registration)');
  line();
  line(
    `- ${REGISTER} PBXes registered: ${moments.length} distinct moments, at most **${busiest}** at the same minute (before: all ${REGISTER} at Sunday 03:00). Window: the night after the weekly check, 01:00–04:59 (7 × 240 = 1,680 moments).`,
  );

  // ---- 3. open pages ---------------------------------------------------------------------------------
  const polled = Array.from({ length: Math.min(20, REGISTER) }, (_, i) => `reg-${i}`);
  await until(async () => {
    const [row] = await db.select({ n: count() }).from(pbxLifecycleStatus);
    return (row?.n ?? 0) >= REGISTER;
  }, 'every registered PBX recording its status');
  const queries = async () =>
    metricSum(await stack.temporalMetrics(), 'service_requests', ['operation="QueryWorkflow"']);
  const pollPhase = async (read: (pbxId: string, tick: number) => Promise<void>) => {
    const q0 = await queries();
    const cpu0 = stack.cpu();
    const latencies: number[] = [];
    const until = Date.now() + POLL_SECONDS * 1000;
    await Promise.all(
      Array.from({ length: PAGES }, async (_, p) => {
        await sleep((p * POLL_MS) / PAGES); // pages opened at different moments
        for (let tick = 1; Date.now() < until; tick++) {
          const started = performance.now();
          await read(polled[p % polled.length] as string, tick);
          latencies.push(performance.now() - started);
          await sleep(POLL_MS);
        }
      }),
    );
    const cpu1 = stack.cpu();
    const cpu = Object.fromEntries(Object.keys(cpu1).map((k) => [k, (cpu1[k] ?? 0) - (cpu0[k] ?? 0)]));
    latencies.sort((x, y) => x - y);
    return { queries: (await queries()) - q0, cpu, polls: latencies.length, p95: percentile(latencies, 95) };
  };
  say(`${PAGES} pages polling for ${POLL_SECONDS} s (API status route)`);
  const get = async (path: string) => {
    const res = await fetch(`${api.url}${path}`, { headers: { authorization: `Bearer ${token}` } });
    await res.arrayBuffer();
    if (!res.ok) throw new Error(`${path}: ${res.status}`);
  };
  const pages = await pollPhase(async (pbxId, tick) => {
    await get(`/api/pbxes/${pbxId}/rollout-progress`);
    await get(`/api/pbxes/${pbxId}/status`);
    if (tick % 4 === 0) await get(`/api/pbxes/${pbxId}/overview`);
  });
  say(`the same status reads as Temporal queries (before) for ${POLL_SECONDS} s`);
  const before = await pollPhase(async (pbxId) => {
    await temporal.workflow.getHandle(workflowIds.lifecycle(pbxId)).query(statusQuery);
  });
  const fmtCpu = (c: Record<string, number>) =>
    Object.entries(c)
      .map(([k, v]) => `${k} ${(v / POLL_SECONDS / 10).toFixed(1)} %`)
      .join(', ');
  line();
  line('## 3. Open pages (target: their polling never reaches Temporal)');
  line();
  line(
    `- ${PAGES} pages for ${POLL_SECONDS} s (${pages.polls} ticks: rollout progress + status each tick, overview every 4th): **${pages.queries} QueryWorkflow requests** at the Temporal server (its own metrics); poll p95 ${pages.p95.toFixed(0)} ms; CPU (share of one core): ${fmtCpu(pages.cpu)}.`,
  );
  line(
    `- Baseline, the status read as a workflow query (the route before): ${before.queries} QueryWorkflow requests (${(before.queries / (POLL_SECONDS / 60) / PAGES).toFixed(0)} per page per minute); p95 ${before.p95.toFixed(0)} ms; CPU: ${fmtCpu(before.cpu)}.`,
  );

  // ---- 4. API start-up with many PBXes ------------------------------------------------------------
  say(`${MANY} PBX rows for the start-up`);
  const rows = Array.from({ length: MANY }, (_, i) => ({
    id: `many-${String(i).padStart(6, '0')}`,
    name: `Many ${i}`,
    timeZone: 'Europe/Berlin',
    weeklyCheckDay: i % 7,
    weeklyCheckMinute: (i * 7) % 1080,
    updateDay: (i + 1) % 7,
    updateMinute: 60 + (i % 240),
    provisioningUser: `many-${i}`,
    provisioningSecretHash: hashGeneratedSecret(secret),
    sipDomain: `many-${i}.pbx.test`,
  }));
  for (let i = 0; i < rows.length; i += 1000) await db.insert(pbxes).values(rows.slice(i, i + 1000));
  const rssBefore = rssMiB(worker.child.pid as number);
  const logger = pino({ level: 'silent' });
  // Before: one after another, on a sample of fresh PBXes (the rest are started by the new way below).
  const SAMPLE = Math.min(200, Math.floor(MANY / 10));
  t = performance.now();
  for (const r of rows.slice(0, SAMPLE)) {
    await temporal.workflow.start(LIFECYCLE_WORKFLOW_TYPE, {
      workflowId: workflowIds.lifecycle(r.id),
      taskQueue: config.taskQueues.lifecycle,
      args: [lifecycleArgs(config, { ...r, phonesTaskQueue: null })],
      workflowIdConflictPolicy: 'USE_EXISTING',
    });
  }
  const sequentialMsPerPbx = (performance.now() - t) / SAMPLE;
  t = performance.now();
  const cold = await ensureLifecycles(db, temporal, config, logger);
  const coldSecs = (performance.now() - t) / 1000;
  await until(
    async () => (await ensureLifecycles(db, temporal, config, logger)).started === 0,
    'visibility to list them all',
  );
  t = performance.now();
  const warm = await ensureLifecycles(db, temporal, config, logger);
  const warmSecs = (performance.now() - t) / 1000;
  const total = cold.pbxes;
  line();
  line(`## 4. API start-up with ${total} PBXes (ensureLifecycles)`);
  line();
  line(
    `- None running yet: ${cold.started} started (32 at a time) in **${coldSecs.toFixed(1)} s** (${((coldSecs * 1000) / Math.max(1, cold.started)).toFixed(2)} ms per PBX).`,
  );
  line(
    `- All running (a restart): ${warm.running} listed, ${warm.started} started, in **${warmSecs.toFixed(2)} s**.`,
  );
  line(
    `- Baseline, one after another (before): ${sequentialMsPerPbx.toFixed(2)} ms per PBX, ${((sequentialMsPerPbx * total) / 1000).toFixed(1)} s for ${total} (and ${((sequentialMsPerPbx * 10_000) / 1000).toFixed(0)} s for 10,000).`,
  );

  // ---- 5. worker memory per cached workflow -------------------------------------------------------
  await until(
    async () => {
      const [row] = await db.select({ n: count() }).from(pbxLifecycleStatus);
      return (row?.n ?? 0) >= total;
    },
    'every PBX workflow recording its status (its first tasks ran on the worker)',
    900_000,
  );
  await sleep(3000);
  const rssAfter = rssMiB(worker.child.pid as number);
  const cached = Math.min(total, config.worker.maxCachedWorkflows);
  line();
  line('## 5. Worker memory per cached PBX workflow');
  line();
  line(
    `- Lifecycle worker RSS ${rssBefore} MiB before the ${MANY} start-up PBXes, ${rssAfter} MiB once all ${total} PBX workflows ran (cache ${config.worker.maxCachedWorkflows}, so ${cached} cached): **${((rssAfter - rssBefore) / Math.max(1, Math.min(MANY, cached))).toFixed(2)} MiB per cached PBX** (WORKER_MAX_CACHED_WORKFLOWS).`,
  );

  // ---- 6. listing ---------------------------------------------------------------------------------
  const load = async (path: string): Promise<LoadResult> => {
    const { stdout } = await run(process.execPath, [
      join(repoRoot, 'bench/load.ts'),
      '--url',
      `${api.url}${path}`,
      '--token',
      token,
      '--connections',
      '10',
      '--seconds',
      '5',
    ]);
    return JSON.parse(stdout) as LoadResult;
  };
  const page = await load('/api/pbxes?limit=100');
  const filtered = await load('/api/pbxes?q=many-0001');
  t = performance.now();
  let after: string | null = null;
  let pagesRead = 0;
  do {
    const res = await call('GET', `/api/pbxes?limit=1000${after ? `&after=${after}` : ''}`);
    after = res.body.nextAfter as string | null;
    pagesRead++;
  } while (after);
  const everySecs = (performance.now() - t) / 1000;
  line();
  line(`## 6. GET /api/pbxes with ${total + REGISTER} PBXes (10 clients, 5 s)`);
  line();
  line(
    `- A page of 100: p50 ${page.p50} ms, p95 ${page.p95} ms, ${page.perSecond}/s; filtered (\`q\`): p50 ${filtered.p50} ms, p95 ${filtered.p95} ms.`,
  );
  line(
    `- Baseline, everything (what the unpaged list sent): ${pagesRead} pages of 1,000 in ${(everySecs * 1000).toFixed(0)} ms.`,
  );
  line();
  line(`Machine at the end: ${loadLine()}. Busiest other processes (pid, CPU share since start, command):`);
  line();
  for (const o of otherProcesses(new Set([process.pid, ...[...stack.processes.values()].map((p) => p.pid)])))
    line(`    ${o}`);
  line();
  mkdirSync(dirname(a.report), { recursive: true });
  writeFileSync(a.report, report.join('\n'));
  say(`report written to ${a.report}`);
  await temporal.connection.close();
} finally {
  await stack.stop();
}

function rssMiB(pid: number): number {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Math.round(Number(m[1]) / 1024) : 0;
  } catch {
    return 0;
  }
}

async function until(ok: () => Promise<boolean>, what: string, timeoutMs = 300_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await ok())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(500);
  }
}
