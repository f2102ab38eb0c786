/**
 * Benchmark of the phone edge (issue 14 target 1) and of the fleet simulator at fleet size: N phones (default
 * 20,000) in ONE simulator process (a child, so its CPU time and peak RSS are its own) against a real phone edge
 * (this process: provisioning HTTP, SIP, and the block activity that drives updates, as in a `phones` worker) and
 * a real Postgres. The phones boot (REGISTER with digest + boot provisioning), then a share of them is updated in
 * blocks of 50 (NOTIFY, provisioning, firmware download, flash 0 ms, reboot, re-REGISTER).
 *
 * Per phase (boot, update) it prints the edge's CPU per phone, the statements it sent and the commits Postgres
 * made per phone, Postgres's CPU, and — the baseline of the same run — the simulator's CPU for the same phones
 * (the other end of the same SIP and HTTP exchanges), with the ratio. `--profile` records a V8 CPU profile of
 * each phase (with the profiler on, CPU figures are a little higher) and adds where the time goes to the report.
 *
 *   npm run bench:simulator -- [--phones 20000] [--update-share 0.1] [--boot-spread-ms 20000] [--blocks-at-once 20]
 *                              [--profile] [--report test-results/bench-edge.md]
 *
 * Uses DATABASE_URL when set (a fresh PBX per run), else an embedded Postgres in a temporary folder.
 */
import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { drizzle } from 'drizzle-orm/postgres-js';
import postgres from 'postgres';
import type { BlockResult } from '../activities/contracts.ts';
import { runBlockUpdate } from '../activities/update-block.ts';
import { connectDb } from '../db/client.ts';
import { spawnEmbeddedPostgres } from '../db/embedded.ts';
import { migrateDatabase } from '../db/migrate.ts';
import { insertRollout } from '../db/queries/rollouts.ts';
import * as schema from '../db/schema.ts';
import { blobs, localFirmware, pbxes, phoneModels } from '../db/schema.ts';
import { modelIdOf, type Vendor } from '../domain/vendors.ts';
import { loadConfig, repoRoot } from '../lib/config.ts';
import { createLogger } from '../lib/logger.ts';
import { PbxLogs } from '../lib/pbx-logs.ts';
import { freePort } from '../lib/ports.ts';
import { hashSecret } from '../lib/secrets.ts';
import { blobPath } from '../lib/store-paths.ts';
import { startPhoneEdge } from '../phones/edge.ts';
import { createSimulatedFleet, fleetSpecOf } from '../simulator/accounts.ts';
import { simulatedFirmwareImage } from '../simulator/firmware-image.ts';
import { cpuMsOf, loadLine, otherProcesses, peakRssMiBOf } from './proc.ts';
import { profileMarkdown, summarizeProfile } from './profile-summary.ts';

const { values: a } = parseArgs({
  options: {
    phones: { type: 'string', default: '20000' },
    'update-share': { type: 'string', default: '0.1' },
    'boot-spread-ms': { type: 'string', default: '20000' },
    'blocks-at-once': { type: 'string', default: '20' },
    'firmware-kib': { type: 'string', default: '64' },
    profile: { type: 'boolean', default: false },
    report: { type: 'string', default: join(repoRoot, 'test-results', 'bench-edge.md') },
  },
});
const phoneCount = Number(a.phones);
const updateShare = Number(a['update-share']);
const bootSpreadMs = Number(a['boot-spread-ms']);
const blocksAtOnce = Number(a['blocks-at-once']);
const firmwareBytes = Number(a['firmware-kib']) * 1024;
if (![phoneCount, bootSpreadMs, blocksAtOnce, firmwareBytes].every((n) => Number.isInteger(n) && n >= 0)) {
  throw new Error('--phones, --boot-spread-ms, --blocks-at-once, --firmware-kib take whole numbers');
}
if (!(updateShare >= 0 && updateShare <= 1)) throw new Error('--update-share must be within 0..1');

const say = (m: string) => process.stderr.write(`[bench] ${m}\n`);
const work = mkdtempSync(join(tmpdir(), 'pfd-bench-sim-'));
chmodSync(work, 0o755); // Postgres runs as its own user when we are root
const MODELS: Array<{
  vendor: Vendor;
  model: string;
  provisioningKey: string;
  from: string;
  to: string;
  file: string;
}> = [
  {
    vendor: 'yealink',
    model: 'T54W',
    provisioningKey: '096',
    from: '96.86.0.45',
    to: '96.86.0.70',
    file: 'T54W-96.86.0.70.rom',
  },
  {
    vendor: 'snom',
    model: 'D785',
    provisioningKey: 'snomD785',
    from: '10.1.33.33',
    to: '10.1.84.12',
    file: 'snomD785-10.1.84.12-SIP-r.bin',
  },
  {
    vendor: 'grandstream',
    model: 'HT802',
    provisioningKey: 'HT802',
    from: '1.0.29.8',
    to: '1.0.43.11',
    file: 'ht802fw.bin',
  },
  {
    vendor: 'gigaset',
    model: 'N670',
    provisioningKey: 'Nx70',
    from: '2.43.0',
    to: '2.65.0',
    file: 'Gigaset-Nx70-V2.65.0.bin',
  },
];

let stopPostgres = async () => {};
let dbUrl = process.env.DATABASE_URL;
if (!dbUrl) {
  say('starting an embedded Postgres');
  const pg = await spawnEmbeddedPostgres({
    dir: join(work, 'postgres'),
    port: await freePort(),
    database: 'bench_simulator',
  });
  stopPostgres = () => pg.stop();
  dbUrl = pg.url;
}
await migrateDatabase(dbUrl);
if (process.env.BENCH_ASYNC_COMMIT === '1') {
  const h = connectDb(dbUrl, { max: 1 });
  await h.sql.unsafe(`alter database ${new URL(dbUrl).pathname.slice(1)} set synchronous_commit = off`);
  await h.close();
}
// The edge's database handle, as connectDb makes it, counting the statements it sends.
let statements = 0;
const client = postgres(dbUrl, {
  max: 20,
  onnotice: () => {},
  debug: () => {
    statements++;
  },
});
const db = drizzle(client, { schema });
const handle = { close: () => client.end({ timeout: 5 }) };
// Commits as Postgres counts them (every autocommit statement is one), read on a connection of its own.
const stats = connectDb(dbUrl, { max: 1 });
const commits = async () => {
  // Backends publish their counts within about a second of going idle.
  await new Promise((r) => setTimeout(r, 1_500));
  const [row] = await stats.sql<{ n: string }[]>`
    select xact_commit::text as n from pg_stat_database where datname = current_database()`;
  return Number(row?.n ?? 0);
};
const config = loadConfig({ ...process.env, DATA_DIR: work, LOG_LEVEL: 'warn' });
const logs = new PbxLogs(config.logDir);
const deps = { config, db, logs, logger: createLogger('bench-edge', 'warn') };

const pbxId = `bench-${randomBytes(3).toString('hex')}`;
const password = randomBytes(12).toString('base64url');
await db.insert(pbxes).values({
  id: pbxId,
  name: 'Simulator benchmark',
  timeZone: 'Europe/Berlin',
  weeklyCheckDay: 0,
  weeklyCheckMinute: 60,
  provisioningUser: 'bench',
  provisioningSecretHash: await hashSecret(password),
  sipDomain: `${pbxId}.pbx.test`,
});
for (const m of MODELS) {
  const id = modelIdOf(m.vendor, m.model);
  await db
    .insert(phoneModels)
    .values({ id, vendor: m.vendor, model: m.model, provisioningKey: m.provisioningKey })
    .onConflictDoNothing();
  const image = simulatedFirmwareImage(m.to, firmwareBytes);
  const sha256 = createHash('sha256').update(image).digest('hex');
  const path = blobPath(config.firmwareStoreDir, sha256);
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, image);
  await db.insert(blobs).values({ sha256, size: image.length }).onConflictDoNothing();
  await db
    .insert(localFirmware)
    .values({ pbxId, modelId: id, version: m.to, fileName: m.file, sha256, source: 'download' });
}
say(`creating ${phoneCount} phone accounts on ${pbxId}`);
const perModel = Math.floor(phoneCount / MODELS.length);
const accounts = await createSimulatedFleet(db, {
  pbxId,
  models: Object.fromEntries(
    MODELS.map((m, i) => [
      modelIdOf(m.vendor, m.model),
      i === 0 ? phoneCount - perModel * (MODELS.length - 1) : perModel,
    ]),
  ),
  initialVersion: Object.fromEntries(MODELS.map((m) => [modelIdOf(m.vendor, m.model), m.from])),
});

const edge = await startPhoneEdge(deps, { provisioningPort: 0, sipPort: 0, host: '127.0.0.1' });
const fleetFile = join(work, 'fleet.json');
writeFileSync(
  fleetFile,
  JSON.stringify(
    fleetSpecOf(accounts, {
      provisioningUrl: edge.provisioningUrlFor(pbxId),
      provisioningPassword: password,
      sipHost: '127.0.0.1',
      sipPort: edge.sipPort,
    }),
  ),
);

// ---- the simulator process ----------------------------------------------------------------------
const loadAtStart = loadLine();
const edgeUsageBefore = process.resourceUsage();
const session = new Session();
if (a.profile) {
  session.connect();
  await session.post('Profiler.enable');
}
const profiles: string[] = [];
async function profilePhase(name: string, start: boolean) {
  if (!a.profile) return;
  if (start) {
    await session.post('Profiler.start');
    return;
  }
  const { profile } = await session.post('Profiler.stop');
  const file = join(dirname(a.report), `bench-edge-${name}.cpuprofile`);
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, JSON.stringify(profile));
  profiles.push(file);
}
interface Sample {
  at: number;
  edgeCpuMs: number;
  simCpuMs: number;
  pgCpuMs: number;
  statements: number;
  commits: number;
}
let simPid = 0;
const sample = async (): Promise<Sample> => {
  const u = process.cpuUsage();
  const edgeCpuMs = (u.user + u.system) / 1000;
  const simCpuMs = simPid ? cpuMsOf(simPid, true) : 0;
  // Postgres (and its small node wrapper) is the rest of this process's tree.
  const pgCpuMs = cpuMsOf(process.pid, true) - cpuMsOf(process.pid) - simCpuMs;
  return { at: Date.now(), edgeCpuMs, simCpuMs, pgCpuMs, statements, commits: await commits() };
};
const child = spawn(
  process.execPath,
  [
    join(repoRoot, 'simulator/main.ts'),
    '--fleet',
    fleetFile,
    '--flash-ms',
    '0',
    '--stats-every',
    '0',
    '--boot-spread-ms',
    String(bootSpreadMs),
  ],
  { stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, LOG_LEVEL: 'info', LOG_PRETTY: '0' } },
);
simPid = child.pid ?? 0;
const lines = createInterface({ input: child.stdout });
const waiters = new Map<string, (line: Record<string, unknown>) => void>();
lines.on('line', (raw) => {
  let line: Record<string, unknown>;
  try {
    line = JSON.parse(raw);
  } catch {
    return;
  }
  waiters.get(String(line.msg))?.(line);
});
const nextLine = (msg: string) =>
  new Promise<Record<string, unknown>>((resolve) => waiters.set(msg, resolve));

const bootStarted = Date.now();
const s0 = await sample();
await profilePhase('boot', true);
say(`simulator booting ${phoneCount} phones (spread over ${bootSpreadMs} ms)`);
const booted = await nextLine('fleet booted');
const bootMs = Date.now() - bootStarted;
await profilePhase('boot', false);
const s1 = await sample();
say(`booted: ${booted.registered} registered in ${bootMs} ms`);

// ---- block updates for a share of the phones ------------------------------------------------------
const blocks: Array<{ modelId: string; to: string; ids: number[]; rolloutId: string; block: number }> = [];
for (const m of MODELS) {
  const modelId = modelIdOf(m.vendor, m.model);
  const ids = accounts.phones.filter((p) => p.modelId === modelId).map((p) => p.id);
  const chosen = ids.slice(0, Math.round(ids.length * updateShare));
  // Blocks record their phones' outcomes under a rollout, as the rollout workflow's would.
  const rolloutId = `bench-${modelId}`;
  await insertRollout(deps.db, {
    id: rolloutId,
    workflowId: `bench/${modelId}`,
    pbxId,
    modelId,
    targetVersion: m.to,
    why: 'manual',
    who: 'bench',
    total: chosen.length,
    blocks: Math.ceil(chosen.length / 50),
    status: 'running',
  });
  for (let i = 0; i < chosen.length; i += 50)
    blocks.push({ modelId, to: m.to, ids: chosen.slice(i, i + 50), rolloutId, block: i / 50 });
}
const s2 = await sample();
await profilePhase('update', true);
const updateStarted = Date.now();
const outcomes: Record<string, number> = {};
let next = 0;
const never = new AbortController().signal;
await Promise.all(
  Array.from({ length: Math.min(blocksAtOnce, blocks.length) }, async () => {
    while (next < blocks.length) {
      const b = blocks[next++] as (typeof blocks)[number];
      const result: BlockResult = await runBlockUpdate(
        deps,
        edge,
        {
          pbxId,
          modelId: b.modelId,
          targetVersion: b.to,
          phoneIds: b.ids,
          rolloutId: b.rolloutId,
          block: b.block,
          why: 'manual',
          who: 'bench',
          timeoutMs: 120_000,
        },
        { heartbeat: () => {}, signal: never },
      );
      for (const r of result.results) outcomes[r.outcome] = (outcomes[r.outcome] ?? 0) + 1;
    }
  }),
);
const updateMs = Date.now() - updateStarted;
await profilePhase('update', false);
const s3 = await sample();
const updated = outcomes.updated ?? 0;
say(`updated ${updated} phones in ${blocks.length} blocks in ${updateMs} ms`);
const loadAtEnd = loadLine();
const others = otherProcesses(new Set([process.pid, simPid]));
const simPeakRssMiB = peakRssMiBOf(simPid);

child.kill('SIGTERM');
const stopped = await nextLine('fleet stopped');
const edgeUsage = process.resourceUsage();
const summary = {
  phones: phoneCount,
  simulator: {
    cpuUserMs: stopped.cpuUserMs,
    cpuSystemMs: stopped.cpuSystemMs,
    peakRssMiB: stopped.peakRssMiB,
    sip: stopped.sip,
  },
  boot: {
    ms: bootMs,
    registered: booted.registered,
    registrationsPerSecond: Math.round((Number(booted.registered) / bootMs) * 1000),
  },
  update: {
    phones: blocks.reduce((n, b) => n + b.ids.length, 0),
    blocks: blocks.length,
    blocksAtOnce,
    ms: updateMs,
    phonesPerSecond: Math.round((updated / updateMs) * 1000),
    outcomes,
    firmwareKiB: firmwareBytes / 1024,
  },
  edge: {
    cpuUserMs: Math.round((edgeUsage.userCPUTime - edgeUsageBefore.userCPUTime) / 1000),
    cpuSystemMs: Math.round((edgeUsage.systemCPUTime - edgeUsageBefore.systemCPUTime) / 1000),
    peakRssMiB: Math.round(edgeUsage.maxRSS / 1024),
    sip: edge.sip.stats,
    // Optional: the same bench runs against an edge without the store (before, for comparison).
    statementsByKind: (edge as { store?: { stats: unknown } }).store?.stats,
  },
};
// Ratios against the baseline of the same run: the phone edge serving the same phones (the PBX side's cost).
const simulatorCpuMs = Number(stopped.cpuUserMs) + Number(stopped.cpuSystemMs);
const edgeCpuMs = summary.edge.cpuUserMs + summary.edge.cpuSystemMs;
const perPhone = {
  simulatorCpuMs: +(simulatorCpuMs / phoneCount).toFixed(3),
  edgeCpuMs: +(edgeCpuMs / phoneCount).toFixed(3),
  simulatorRssKiB: Math.round((Number(stopped.peakRssMiB) * 1024) / phoneCount),
  simulatorCpuVsEdge: +(simulatorCpuMs / edgeCpuMs).toFixed(2),
};
// Target 1 (issue 14): edge CPU per phone boot and per phone update, against the simulator's for the same phones.
const phase = (from: Sample, to: Sample, phones: number) => {
  const per = (x: number) => +(x / Math.max(1, phones)).toFixed(3);
  const edge = to.edgeCpuMs - from.edgeCpuMs;
  const sim = to.simCpuMs - from.simCpuMs;
  return {
    phones,
    seconds: +((to.at - from.at) / 1000).toFixed(1),
    edgeCpuMsPerPhone: per(edge),
    simulatorCpuMsPerPhone: per(sim),
    edgeVsSimulator: +(edge / Math.max(1, sim)).toFixed(2),
    postgresCpuMsPerPhone: per(to.pgCpuMs - from.pgCpuMs),
    statementsPerPhone: per(to.statements - from.statements),
    commitsPerPhone: per(to.commits - from.commits),
  };
};
const phases = { boot: phase(s0, s1, Number(booted.registered)), update: phase(s2, s3, updated) };
process.stdout.write(`${JSON.stringify({ ...summary, perPhone, phases }, null, 2)}\n`);

const row = (name: string, p: ReturnType<typeof phase>, target: number) =>
  `| ${name} | ${p.phones} | ${p.seconds} s | **${p.edgeCpuMsPerPhone} ms** | ≤ ${target} ms | ${p.simulatorCpuMsPerPhone} ms | ${p.edgeVsSimulator} | ${p.statementsPerPhone} | ${p.commitsPerPhone} | ${p.postgresCpuMsPerPhone} ms |`;
const report = [
  `# Phone edge benchmark (${new Date().toISOString()})`,
  '',
  `\`npm run bench:simulator -- --phones ${phoneCount} --update-share ${updateShare} --boot-spread-ms ${bootSpreadMs} --blocks-at-once ${blocksAtOnce} --firmware-kib ${firmwareBytes / 1024}${a.profile ? ' --profile' : ''}\``,
  '',
  `Machine: ${loadAtStart} at the start, ${loadAtEnd} at the end.${a.profile ? ' CPU profiler on (figures a little higher).' : ''}`,
  '',
  '| phase | phones | wall | edge CPU per phone | target | simulator CPU per phone (baseline) | edge / simulator | statements per phone | commits per phone | Postgres CPU per phone |',
  '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
  row('boot (REGISTER ×2, boot provisioning)', phases.boot, 1),
  row('update (NOTIFY, provisioning, firmware, reboot, REGISTER, provisioning)', phases.update, 2),
  '',
  `Boot: ${summary.boot.registered} phones in ${bootMs} ms (${summary.boot.registrationsPerSecond}/s); update: ${updated} phones in ${blocks.length} blocks, ${blocksAtOnce} at once, in ${updateMs} ms (${summary.update.phonesPerSecond}/s), outcomes ${JSON.stringify(outcomes)}.`,
  `Simulator peak RSS ${simPeakRssMiB} MiB; edge peak RSS ${summary.edge.peakRssMiB} MiB.`,
  '',
  'Busiest other processes at the end (pid, CPU share since start, command):',
  '',
  ...others.map((o) => `    ${o}`),
  ...profiles.flatMap((f) => [
    '',
    `## Where the edge's CPU goes: ${f.includes('boot') ? 'boot' : 'update'} phase`,
    '',
    profileMarkdown(
      summarizeProfile(f, [
        'nextWrite (postgres)',
        'handle (postgres)',
        'execute (drizzle-orm)',
        'serveProvisioningFile',
        'serveFirmware',
        '#register',
        'notify (phones/sip-endpoint.ts)',
        'runBlockUpdate',
        'write (pino)',
        'parse (sip',
      ]),
    ),
  ]),
  '',
].join('\n');
mkdirSync(dirname(a.report), { recursive: true });
writeFileSync(a.report, report);
say(`report written to ${a.report}`);

await edge.close();
logs.close();
await handle.close();
await stats.close();
await stopPostgres();
rmSync(work, { recursive: true, force: true });
