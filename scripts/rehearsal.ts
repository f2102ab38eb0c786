/**
 * `npm run rehearsal`: the production topology, proven. Runs the commands of the README's "Scaling out" section
 * (scripts/rehearsal/topology.ts) as separate processes on loopback — PostgreSQL, the Temporal server built from
 * go.temporal.io/server on it, two lifecycle/download workers, a phone edge for each of two sites, two API replicas,
 * the reference firmware server (with injected faults) — plus simulated phones behind a SIP tap, and performs a
 * 1,000-phone rollout across both sites. During it: SIGKILL a worker, SIGKILL a phone edge and restart it, restart
 * PostgreSQL, restart the Temporal server; every API call alternates between the replicas. It then proves:
 *   - every phone reports the target version;
 *   - no phone is sent a NOTIFY after its block completed (the SIP tap's record of the wire);
 *   - every rollout ends with its true status (database, API and Temporal agree; completed only if all updated).
 * Prints the wall time, the recovery time after each fault and the Temporal server build time; exits non-zero
 * when anything fails. `npm run rehearsal -- --print` prints the commands as the README shows them;
 * `npm run rehearsal -- --worst-case` restarts PostgreSQL at a block's first NOTIFY.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { appendFileSync, chmodSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import postgres from 'postgres';
import { countOutcomes, describeCounts, endOfCompletedRun, type PhoneOutcome } from '../domain/rollout.ts';
import { repoRoot } from '../lib/config.ts';
import { waitForPort } from '../lib/ports.ts';
import { type ManagedProcess, startProcess } from '../lib/processes.ts';
import { provisionTemporalServer, provisionTools } from './provision-tools.ts';
import { type SipTap, startSipTap } from './rehearsal/sip-tap.ts';
import { type Command, PORTS, renderTopology, SITES, topology } from './rehearsal/topology.ts';

const PHONES_PER_SITE = 500;
const MODEL = 'yealink-t54w';
const TARGET = '96.86.0.99';
const FLASH_MS = 3000;
const DEADLINE_MS = 25 * 60_000;
/** --worst-case: restart PostgreSQL at a block's first NOTIFY (else at whatever moment block 9 ends). */
const WORST_CASE = process.argv.includes('--worst-case');

const t0 = Date.now();
const since = (t: number) => `${((Date.now() - t) / 1000).toFixed(1)} s`;
const say = (msg: string) => process.stdout.write(`[rehearsal ${since(t0).padStart(8)}] ${msg}\n`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const tools = await provisionTools();
if (!tools.temporalCli) throw new Error('the rehearsal needs the temporal CLI (Go toolchain): npm run tools');
const serverBuildStarted = Date.now();
const server = await provisionTemporalServer();
const serverBuild =
  server.buildSeconds === null
    ? 'cached'
    : `${server.buildSeconds} s (${since(serverBuildStarted)} with config)`;

const data = process.env.REHEARSAL_DIR ?? mkdtempSync(join(tmpdir(), 'pfd-rehearsal-'));
mkdirSync(data, { recursive: true });
chmodSync(data, 0o755);
const dirs = { data, server: join(server.server, '..'), cli: tools.temporalCli };
const topo = topology(dirs);
if (process.argv.includes('--print')) {
  process.stdout.write(`${renderTopology(topo, dirs)}\n`);
  process.exit(0);
}
const logDir = join(data, 'process-logs');
mkdirSync(logDir, { recursive: true });

// ---------------------------------------------------------------------------------------------------------------
// Processes

const running = new Map<string, ManagedProcess>();
const byName = new Map(topo.commands.map((c) => [c.name, c]));

function envOf(c: Command): NodeJS.ProcessEnv {
  return { ...process.env, ...(c.app ? topo.appEnv : {}), ...c.env, LOG_LEVEL: c.env.LOG_LEVEL ?? 'info' };
}
function argvOf(c: Command): [string, string[]] {
  const [cmd, ...args] = c.argv as [string, ...string[]];
  return cmd === 'node' ? [process.execPath, args] : [cmd, args];
}

function start(name: string, onLine?: (line: string) => void): ManagedProcess {
  const c = byName.get(name);
  if (!c) throw new Error(`no command ${name}`);
  const [cmd, args] = argvOf(c);
  const file = join(logDir, `${name}.log`);
  const p = startProcess(name, cmd, args, {
    env: envOf(c),
    cwd: repoRoot,
    quiet: true,
    onLine: (line) => {
      appendFileSync(file, `${line}\n`);
      onLine?.(line);
    },
  });
  running.set(name, p);
  return p;
}

function once(name: string): string {
  const c = byName.get(name);
  if (!c) throw new Error(`no command ${name}`);
  const [cmd, args] = argvOf(c);
  const r = spawnSync(cmd, args, { env: envOf(c), cwd: repoRoot, encoding: 'utf8' });
  appendFileSync(join(logDir, `${name}.log`), `${r.stdout}${r.stderr}`);
  if (r.status !== 0) throw new Error(`${name} failed (${r.status}): ${r.stderr.slice(-500)}`);
  return r.stdout;
}

async function retry<T>(what: string, fn: () => T | Promise<T>, ms = 60_000): Promise<T> {
  const until = Date.now() + ms;
  for (;;) {
    try {
      return await fn();
    } catch (err) {
      if (Date.now() > until) throw new Error(`${what}: ${err instanceof Error ? err.message : err}`);
      await sleep(1000);
    }
  }
}

async function startPostgres(): Promise<void> {
  let ready!: () => void;
  const up = new Promise<void>((r) => {
    ready = r;
  });
  const p = start('postgres', (line) => {
    if (line.startsWith('{"url"')) ready();
  });
  await Promise.race([
    up,
    p.exited.then(() => {
      throw new Error('postgres exited during start');
    }),
  ]);
}

function temporalServing(): boolean {
  const r = spawnSync(
    tools.temporalCli as string,
    ['operator', 'cluster', 'health', '--address', `127.0.0.1:${PORTS.temporal}`],
    { encoding: 'utf8' },
  );
  return r.status === 0 && r.stdout.includes('SERVING');
}

async function startTemporal(): Promise<void> {
  const p = start('temporal');
  await retry(
    'the Temporal server to serve',
    async () => {
      if (p.child.exitCode !== null) throw new Error('exited');
      if (!temporalServing()) throw new Error('not serving yet');
    },
    90_000,
  );
}

async function startWorker(name: string, port?: number): Promise<void> {
  let ready!: () => void;
  const up = new Promise<void>((r) => {
    ready = r;
  });
  const p = start(name, (line) => {
    if (line.includes('worker running')) ready();
  });
  await Promise.race([
    up,
    p.exited.then((code) => {
      throw new Error(`${name} exited during start (${code}); see ${logDir}/${name}.log`);
    }),
    sleep(120_000).then(() => {
      throw new Error(`${name} did not start within 120 s`);
    }),
  ]);
  if (port) await waitForPort(port, 10_000);
}

// ---------------------------------------------------------------------------------------------------------------
// API, alternating replicas

let token = '';
let nextReplica = 0;
const apiCalls = [0, 0];
// biome-ignore lint/suspicious/noExplicitAny: API answers are checked where they are used
async function api<T = any>(method: string, path: string, body?: unknown, replica?: number): Promise<T> {
  const i = replica ?? nextReplica++ % 2;
  apiCalls[i] = (apiCalls[i] ?? 0) + 1;
  const res = await fetch(`http://127.0.0.1:${PORTS.api[i]}${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    signal: AbortSignal.timeout(150_000),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`${method} ${path} via replica ${i} → ${res.status} ${text.slice(0, 300)}`);
  return JSON.parse(text) as T;
}

// ---------------------------------------------------------------------------------------------------------------
// The run

/** `at`: wall clock of the fault; `firstResultMs`: to the first per-phone result recorded after it (in its scope). */
const faults: Array<{ fault: string; at: number; pbx?: string; healthMs: number; firstResultMs?: number }> =
  [];
const failures: string[] = [];
const taps: SipTap[] = [];
let exitCode = 1;

try {
  say(`data in ${data}; Temporal server build: ${serverBuild}`);
  await startPostgres();
  for (const step of topo.commands.filter((c) => c.name.startsWith('schema-'))) once(step.name);
  await startTemporal();
  await retry('namespace', () => once('namespace'));
  for (const c of topo.commands.filter((x) => x.name.startsWith('search-attribute-'))) {
    await retry(c.name, () => once(c.name));
  }
  start('firmware-server');
  await waitForPort(PORTS.firmwareServer, 120_000);
  say('PostgreSQL, Temporal server (schema, namespace, search attributes) and firmware server up');
  await Promise.all([startWorker('worker-a'), startWorker('worker-b')]);
  await Promise.all(SITES.map((s) => startWorker(`edge-${s.pbx}`, s.provisioningPort)));
  start('api-a');
  start('api-b');
  await Promise.all(PORTS.api.map((p) => waitForPort(p, 60_000)));
  token = once('token').trim();
  say('2 workers, 2 phone edges, 2 API replicas up; admin token created');

  // Two sites, 500 phones each; their phones behind a SIP tap.
  const sql = postgres(topo.appEnv.DATABASE_URL as string, { max: 2, onnotice: () => {} });
  const simulators: ManagedProcess[] = [];
  for (const [i, site] of SITES.entries()) {
    await retry(
      'phone models from the catalog',
      async () => {
        const { models } = await api<{ models: Array<{ id: string }> }>('GET', '/api/phone-models');
        if (!models.some((m) => m.id === MODEL)) throw new Error(`${MODEL} not in the catalog yet`);
      },
      120_000,
    );
    const reg = await api('POST', '/api/pbxes', {
      id: site.pbx,
      name: `Site ${site.pbx}`,
      timeZone: 'Europe/Berlin',
      phonesTaskQueue: site.queue,
    });
    await api('PATCH', `/api/pbxes/${site.pbx}/settings`, { autoDownloadInstall: false });
    const accounts = Array.from({ length: PHONES_PER_SITE }, (_, n) => ({
      mac: `805ec0${(i * 0x10000 + n).toString(16).padStart(6, '0')}`,
      model: MODEL,
      extension: String(1000 + n),
    }));
    await api('POST', `/api/pbxes/${site.pbx}/accounts/bulk`, { accounts });
    const tap = await startSipTap({ listenPort: site.publicSipPort, edgePort: site.sipPort });
    taps.push(tap);
    const sim = startProcess(
      `phones-${site.pbx}`,
      process.execPath,
      [
        'simulator/main.ts',
        '--pbx',
        site.pbx,
        '--existing',
        '--sip',
        `127.0.0.1:${tap.port}`,
        '--provisioning-url',
        `http://127.0.0.1:${site.provisioningPort}/p/${site.pbx}/`,
        '--flash-ms',
        String(FLASH_MS),
        '--stats-every',
        '30',
      ],
      {
        env: {
          ...process.env,
          DATABASE_URL: topo.appEnv.DATABASE_URL,
          SIM_PROVISIONING_PASSWORD: reg.provisioning.password,
          LOG_LEVEL: 'info',
        },
        cwd: repoRoot,
        quiet: true,
        onLine: (line) => appendFileSync(join(logDir, `phones-${site.pbx}.log`), `${line}\n`),
      },
    );
    simulators.push(sim);
    running.set(`phones-${site.pbx}`, sim);
  }
  const overview = (pbx: string) =>
    api<{
      types: Array<{
        modelId: string;
        inUse: Array<{ version: string | null; phones: number }>;
        newestLocal: string | null;
      }>;
    }>('GET', `/api/pbxes/${pbx}/overview`);
  for (const site of SITES) {
    await retry(
      `the ${PHONES_PER_SITE} phones of ${site.pbx} to report their version`,
      async () => {
        const t = (await overview(site.pbx)).types.find((x) => x.modelId === MODEL);
        const known = (t?.inUse ?? []).filter((u) => u.version !== null).reduce((a, u) => a + u.phones, 0);
        if (known < PHONES_PER_SITE) throw new Error(`${known} reported`);
      },
      240_000,
    );
  }
  say(`${SITES.length * PHONES_PER_SITE} phones registered with their versions`);

  execFileSync(process.execPath, [
    join(repoRoot, 'firmware-server/cli.ts'),
    'publish',
    '--data-dir',
    join(data, 'firmware-server'),
    '--vendor',
    'yealink',
    '--models',
    'T54W',
    '--version',
    TARGET,
    '--size',
    '128KB',
    '--notes',
    'rehearsal release',
  ]);
  for (const site of SITES) {
    await retry('Check now', () => api('POST', `/api/pbxes/${site.pbx}/check-now`, {}), 120_000);
    await retry('Download now', () => api('POST', `/api/pbxes/${site.pbx}/download-now`, {}), 120_000);
  }
  for (const site of SITES) {
    await retry(
      `${TARGET} stored for ${site.pbx}`,
      async () => {
        const t = (await overview(site.pbx)).types.find((x) => x.modelId === MODEL);
        if (t?.newestLocal !== TARGET) throw new Error(`newest local ${t?.newestLocal}`);
      },
      300_000,
    );
  }
  say(`${TARGET} published, checked and downloaded for both sites`);

  const rolloutStarted = Date.now();
  for (const site of SITES) {
    const up = await api('POST', `/api/pbxes/${site.pbx}/update-now`, {});
    say(`Update now ${site.pbx}: ${JSON.stringify(up.decisions ?? up)}`);
  }

  // Progress, and the faults at chosen moments of it.
  type Progress = {
    pbx: string;
    status: string;
    blocksDone: number;
    blocks: number;
    updated: number;
    failed: number;
  };
  const progress = async (): Promise<Progress[]> => {
    const all: Progress[] = [];
    for (const site of SITES) {
      const r = await api<{ rollouts: Progress[] }>('GET', `/api/pbxes/${site.pbx}/rollout-progress`);
      for (const x of r.rollouts) all.push({ ...x, pbx: site.pbx });
    }
    return all;
  };
  const blocksDone = (p: Progress[], pbx?: string) =>
    p.filter((x) => !pbx || x.pbx === pbx).reduce((a, x) => a + x.blocksDone, 0);
  let last: Progress[] = [];
  let lastOkAt = Date.now();
  const poll = async () => {
    try {
      last = await progress();
      lastOkAt = Date.now();
    } catch {
      // A replica may not answer while PostgreSQL or Temporal restarts; the time shows in the recovery figures.
    }
    return last;
  };
  /** Waits until `pbx`'s (or any) finished blocks exceed `after`; returns ms from `from`. */
  const progressAfter = async (after: number, from: number, pbx?: string) => {
    for (;;) {
      const p = await poll();
      if (blocksDone(p, pbx) > after || (p.length > 0 && p.every((x) => x.status !== 'running'))) {
        return Date.now() - from;
      }
      if (Date.now() - from > 10 * 60_000) throw new Error('no progress for 10 minutes after a fault');
      await sleep(500);
    }
  };
  const waitBlocks = async (n: number) => {
    while (blocksDone(await poll()) < n) {
      if (last.length > 0 && last.every((x) => x.status !== 'running')) return;
      await sleep(500);
    }
  };
  const healthy = async (from: number) => {
    for (;;) {
      const ok = await Promise.all(
        PORTS.api.map((p) =>
          fetch(`http://127.0.0.1:${p}/health`, { signal: AbortSignal.timeout(5000) }).then(
            (r) => r.ok,
            () => false,
          ),
        ),
      );
      if (ok.every(Boolean)) return Date.now() - from;
      await sleep(500);
    }
  };

  const fault = async (name: string, blocksAtLeast: number, act: () => Promise<void>, pbx?: string) => {
    await waitBlocks(blocksAtLeast);
    const before = blocksDone(await poll(), pbx);
    const at = Date.now();
    say(`fault: ${name} (blocks done: ${blocksDone(last)})`);
    await act();
    const healthMs = await healthy(at);
    // Go on once the rollouts move again; the recovery figure is taken from the recorded results at the end.
    await progressAfter(before, at, pbx);
    faults.push({ fault: name, at, ...(pbx ? { pbx } : {}), healthMs });
    say(`  /health ok ${(healthMs / 1000).toFixed(1)} s after the fault; rollouts moving again`);
  };

  await fault('SIGKILL worker-a (lifecycle/downloads)', 2, async () => {
    (running.get('worker-a') as ManagedProcess).child.kill('SIGKILL');
    await running.get('worker-a')?.exited;
  });
  await fault(
    `SIGKILL edge-${SITES[0].pbx}, restart it`,
    5,
    async () => {
      const edge = running.get(`edge-${SITES[0].pbx}`) as ManagedProcess;
      process.kill(-(edge.child.pid as number), 'SIGKILL');
      await edge.exited;
      await sleep(2000);
      await startWorker(`edge-${SITES[0].pbx}`, SITES[0].provisioningPort);
    },
    SITES[0].pbx,
  );
  await fault('restart PostgreSQL', 9, async () => {
    if (WORST_CASE) {
      // The worst moment: the first NOTIFY of a block (after a quiet second while the previous block's phones
      // flash), so its phones fetch their provisioning files while PostgreSQL is down.
      const seen = () => taps.reduce((n, t) => n + t.notifies().length, 0);
      let count = seen();
      let quietSince = Date.now();
      for (;;) {
        await sleep(10);
        const now = seen();
        if (now > count && Date.now() - quietSince >= 1000) break;
        if (now > count) quietSince = Date.now();
        count = now;
      }
    }
    await running.get('postgres')?.stop('SIGTERM', 60_000);
    await startPostgres();
  });
  await fault('restart the Temporal server', 12, async () => {
    await running.get('temporal')?.stop('SIGTERM', 60_000);
    await startTemporal();
  });
  // The killed worker comes back (as a supervisor would restart it); the rollout goes on with both.
  await startWorker('worker-a');

  for (;;) {
    const p = await poll();
    if (p.length >= SITES.length && p.every((x) => x.status !== 'running')) break;
    if (Date.now() - t0 > DEADLINE_MS) {
      failures.push(`rollouts still running after ${DEADLINE_MS / 60_000} min: ${JSON.stringify(p)}`);
      break;
    }
    if (Date.now() - lastOkAt > 120_000) failures.push('no API replica answered for 2 minutes');
    await sleep(1000);
  }
  const rolloutMs = Date.now() - rolloutStarted;
  say(`rollouts ended after ${(rolloutMs / 1000).toFixed(1)} s: ${JSON.stringify(last)}`);

  // 1. Every phone on the target version.
  for (const site of SITES) {
    const t = (await overview(site.pbx)).types.find((x) => x.modelId === MODEL);
    const onTarget = t?.inUse.find((u) => u.version === TARGET)?.phones ?? 0;
    if (onTarget !== PHONES_PER_SITE) {
      failures.push(
        `${site.pbx}: ${onTarget}/${PHONES_PER_SITE} phones on ${TARGET} (${JSON.stringify(t?.inUse)})`,
      );
    }
  }
  // 2. No NOTIFY after the phone's block completed (the tap's record against the recorded block results).
  const results = await sql<
    Array<{
      pbx: string;
      extension: string;
      domain: string;
      block: number;
      rollout: string;
      at: Date;
      outcome: string;
    }>
  >`
    select r.pbx_id as pbx, a.extension, p.sip_domain as domain, rr.block, rr.rollout_id as rollout, rr.at, rr.outcome
    from rollout_results rr
    join rollouts r on r.id = rr.rollout_id
    join phone_accounts a on a.id = rr.phone_account_id
    join pbxes p on p.id = r.pbx_id`;
  const blockEnd = new Map<string, number>();
  for (const r of results) {
    const k = `${r.rollout}/${r.block}`;
    blockEnd.set(k, Math.max(blockEnd.get(k) ?? 0, r.at.getTime()));
  }
  const doneAt = new Map(
    results.map((r) => [`${r.extension}@${r.domain}`, blockEnd.get(`${r.rollout}/${r.block}`) ?? 0]),
  );
  const notifies = taps.flatMap((t) => t.notifies());
  const perPhone = new Map<string, number>();
  for (const n of notifies)
    perPhone.set(`${n.extension}@${n.domain}`, (perPhone.get(`${n.extension}@${n.domain}`) ?? 0) + 1);
  const late = notifies.filter((n) => {
    const end = doneAt.get(`${n.extension}@${n.domain}`);
    return end !== undefined && n.at > end + 1000;
  });
  if (late.length > 0) {
    failures.push(
      `${late.length} NOTIFYs after the phone's block completed, e.g. ${JSON.stringify(late.slice(0, 5))}`,
    );
  }
  const twice = [...perPhone.values()].filter((c) => c > 1).length;
  // The witness must be on the wire: every phone was notified at least once through the tap.
  if (perPhone.size < SITES.length * PHONES_PER_SITE) {
    failures.push(
      `the SIP tap saw NOTIFYs for ${perPhone.size} of ${SITES.length * PHONES_PER_SITE} phones: it is not on the wire`,
    );
  }
  for (const f of faults) {
    const next = results
      .filter((r) => r.at.getTime() > f.at && (!f.pbx || r.pbx === f.pbx))
      .reduce((m, r) => Math.min(m, r.at.getTime()), Number.POSITIVE_INFINITY);
    if (Number.isFinite(next)) f.firstResultMs = next - f.at;
  }
  // Evidence for whoever reads a failure: the phones not updated, and results that call an update "already current".
  const notUpdated = results.filter((r) => r.outcome !== 'updated' && r.outcome !== 'already-current');
  const alreadyCurrent = results.filter((r) => r.outcome === 'already-current');
  // 3. True status: database, API and Temporal agree, and completed means every phone updated.
  const rows = await sql<
    Array<{
      id: string;
      workflow_id: string;
      pbx_id: string;
      status: string;
      total: number;
      updated: number;
      already_current: number;
      failed: number;
      not_contacted: number;
      skipped: number;
    }>
  >`
    select id, workflow_id, pbx_id, status, total, updated, already_current, failed, not_contacted, skipped
    from rollouts where target_version = ${TARGET}`;
  if (rows.length !== SITES.length) failures.push(`expected ${SITES.length} rollouts, found ${rows.length}`);
  for (const r of rows) {
    // The word the per-phone results call for (domain/rollout.ts), against the word the rollout recorded.
    const counted = countOutcomes(
      r.total,
      results.filter((x) => x.rollout === r.id && x.outcome).map((x) => x.outcome as PhoneOutcome),
    );
    const truth = endOfCompletedRun(counted);
    if (r.status !== truth)
      failures.push(`rollout ${r.workflow_id}: status ${r.status}, results say ${truth}`);
    const sum = r.updated + r.already_current + r.failed + r.not_contacted + r.skipped;
    if (sum !== r.total) failures.push(`rollout ${r.workflow_id}: counts add up to ${sum}, not ${r.total}`);
    if (truth !== 'completed') failures.push(`rollout ${r.workflow_id}: ${describeCounts(counted)}`);
    const described = spawnSync(
      tools.temporalCli,
      [
        'workflow',
        'describe',
        '--address',
        `127.0.0.1:${PORTS.temporal}`,
        '--workflow-id',
        r.workflow_id,
        '--run-id',
        r.id,
        '-o',
        'json',
      ],
      { encoding: 'utf8' },
    );
    const wfStatus =
      /"status":\s*"?([A-Z_]+)/.exec(described.stdout)?.[1] ?? `unknown (${described.stderr.trim()})`;
    // A rollout no phone survived fails as an execution; every other word completes it.
    const expected = r.status === 'failed' ? /FAILED/ : /COMPLETED/;
    if (!expected.test(wfStatus))
      failures.push(`rollout ${r.workflow_id}: Temporal says ${wfStatus}, database ${r.status}`);
  }
  await sql.end();

  const wall = (Date.now() - t0) / 1000;
  process.stdout.write(`
Rehearsal summary
  Temporal server build            ${serverBuild}
  phones                           ${SITES.length * PHONES_PER_SITE} across ${SITES.length} sites (flash ${FLASH_MS / 1000} s each)
  rollout time                     ${(rolloutMs / 1000).toFixed(1)} s (Update now → every rollout ended)
  NOTIFY transactions on the wire  ${notifies.length}; phones notified more than once: ${twice}; after their block: ${late.length}
  API calls                        replica a ${apiCalls[0]}, replica b ${apiCalls[1]}
  faults (time after Update now → first phone result recorded after it, /health ok again):
${faults.map((f) => `    ${f.fault.padEnd(44)} at ${((f.at - rolloutStarted) / 1000).toFixed(1).padStart(6)} s → ${f.firstResultMs === undefined ? 'none' : `${(f.firstResultMs / 1000).toFixed(1)} s`}, /health ${(f.healthMs / 1000).toFixed(1)} s`).join('\n')}
  rollouts                         ${rows.map((r) => `${r.pbx_id} ${r.status} ${r.updated}/${r.total}`).join(', ')}
  wall time                        ${wall.toFixed(1)} s
`);
  if (notUpdated.length > 0) {
    process.stdout.write(
      `  phones not updated: ${notUpdated.map((r) => `${r.pbx}/${r.extension} block ${r.block} ${r.outcome}`).join(', ')}\n`,
    );
  }
  if (alreadyCurrent.length > 0) {
    const blocks = [...new Set(alreadyCurrent.map((r) => `${r.pbx} block ${r.block}`))];
    process.stdout.write(
      `  results "already-current" (every phone started on an older version): ${alreadyCurrent.length} in ${blocks.join(', ')}\n`,
    );
  }
  for (const f of failures) process.stdout.write(`  ✗ ${f}\n`);
  const checks = 3 + rows.length;
  process.stdout.write(
    `rehearsal: ${checks - Math.min(checks, failures.length)} passed, ${failures.length} failed\n`,
  );
  exitCode = failures.length === 0 ? 0 : 1;
} catch (err) {
  process.stdout.write(
    `rehearsal failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`,
  );
  process.stdout.write(`process logs: ${logDir}\n`);
} finally {
  for (const tap of taps) await tap.close().catch(() => {});
  const order = [
    ...SITES.map((s) => `phones-${s.pbx}`),
    'api-a',
    'api-b',
    ...SITES.map((s) => `edge-${s.pbx}`),
    'worker-a',
    'worker-b',
    'firmware-server',
    'temporal',
    'postgres',
  ];
  for (const name of order)
    await running
      .get(name)
      ?.stop('SIGTERM', 30_000)
      .catch(() => {});
  if (exitCode === 0 && !process.env.REHEARSAL_DIR) rmSync(data, { recursive: true, force: true });
  else process.stdout.write(`data and process logs kept in ${data}\n`);
}
process.exit(exitCode);
