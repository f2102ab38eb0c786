/**
 * `npm run bench:rollout` (issue 14 target 2): fleet-wide rollout rate on the real stack — Postgres, the Temporal
 * dev server, a lifecycle/downloads worker process, the API process, the simulated phones of every PBX in one
 * simulator process (instant flash) — and, in this process, the `phones` worker: the phone edge (provisioning
 * HTTP, SIP) and the block activity, exactly as worker/main.ts runs them.
 *
 * The same fleet is updated three times, to a new version each time:
 *  - bare: the block activity called directly (runBlockUpdate), blocks of 50, those of one PBX and type one after
 *    another (R12), at most WORKER_MAX_CONCURRENT_BLOCKS (20) at once — the baseline;
 *  - orchestrated: "Update now" through the API for every PBX; the lifecycle workflows start a rollout per type,
 *    whose blocks run on this process's phones worker with the same limit;
 *  - bare again: the machine is shared, so the baseline is the mean of the bare runs before and after.
 * For each: phones updated per second, per-block p50/p95 (from the per-phone record), each process's CPU, and the
 * phones updated over time as an SVG plot in the report (test-results/bench-rollout.md, bench-rollout.svg).
 *
 *   npm run bench:rollout -- [--pbxes 40] [--phones 500] [--boot-spread-ms 30000]
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { Client, Connection } from '@temporalio/client';
import proto from '@temporalio/proto';
import { DefaultLogger, NativeConnection, Runtime, Worker } from '@temporalio/worker';
import { and, eq, inArray, sql } from 'drizzle-orm';
import { createPhoneActivities } from '../activities/index.ts';
import { runBlockUpdate } from '../activities/update-block.ts';
import { insertRollout } from '../db/queries/rollouts.ts';
import { blobs, localFirmware, pbxes, phoneModels, rolloutResults, rollouts } from '../db/schema.ts';
import { modelIdOf, type Vendor } from '../domain/vendors.ts';
import { loadConfig, repoRoot } from '../lib/config.ts';
import { createLogger } from '../lib/logger.ts';
import { PbxLogs } from '../lib/pbx-logs.ts';
import { generateSecret, hashGeneratedSecret } from '../lib/secrets.ts';
import { blobPath } from '../lib/store-paths.ts';
import { startPhoneEdge } from '../phones/edge.ts';
import { createSimulatedFleet, fleetSpecOf, type SimulatedFleetAccounts } from '../simulator/accounts.ts';
import { simulatedFirmwareImage } from '../simulator/firmware-image.ts';
import { workflowIds } from '../workflows/messages.ts';
import { percentile } from './load.ts';
import { loadLine, otherProcesses, peakRssMiBOf } from './proc.ts';
import { startStack } from './stack.ts';

const { values: a } = parseArgs({
  options: {
    pbxes: { type: 'string', default: '40' },
    phones: { type: 'string', default: '500' },
    'boot-spread-ms': { type: 'string', default: '30000' },
    'firmware-kib': { type: 'string', default: '16' },
    report: { type: 'string', default: join(repoRoot, 'test-results', 'bench-rollout.md') },
  },
});
const PBXES = Number(a.pbxes);
const PHONES = Number(a.phones);
const say = (m: string) => process.stderr.write(`[bench] ${m}\n`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const MODELS: Array<{
  vendor: Vendor;
  model: string;
  provisioningKey: string;
  versions: [string, string, string, string];
}> = [
  {
    vendor: 'yealink',
    model: 'T54W',
    provisioningKey: '096',
    versions: ['96.86.0.45', '96.86.0.70', '96.86.0.80', '96.86.0.90'],
  },
  {
    vendor: 'snom',
    model: 'D785',
    provisioningKey: 'snomD785',
    versions: ['10.1.33.33', '10.1.54.13', '10.1.84.12', '10.1.90.1'],
  },
  // Not Grandstream: the same simulated HT802 takes no second update in one run (its device path is the fixed
  // ht802fw.bin for every version and the simulated device skips a URL it applied before).
  {
    vendor: 'yealink',
    model: 'T46U',
    provisioningKey: '108',
    versions: ['108.86.0.20', '108.86.0.45', '108.86.0.70', '108.86.0.90'],
  },
  {
    vendor: 'gigaset',
    model: 'N670',
    provisioningKey: 'Nx70',
    versions: ['2.43.0', '2.52.0', '2.65.0', '2.70.0'],
  },
];

const stack = await startStack(say);
try {
  const config = loadConfig({ ...stack.env, LOG_LEVEL: 'warn' });
  const db = stack.db.db;
  const logs = new PbxLogs(config.logDir);
  const { connectDb } = await import('../db/client.ts');
  const edgeDb = connectDb(stack.env.DATABASE_URL as string, { max: 20 });
  const deps = { config, db: edgeDb.db, logs, logger: createLogger('bench-phones', 'warn') };

  // ---- the fleet: PBXes, phone accounts, firmware (two new versions per type) --------------------------
  say(`${PBXES} PBXes × ${PHONES} phones (${MODELS.length} types)`);
  await db
    .insert(phoneModels)
    .values(
      MODELS.map((m) => ({
        id: modelIdOf(m.vendor, m.model),
        vendor: m.vendor,
        model: m.model,
        provisioningKey: m.provisioningKey,
      })),
    )
    .onConflictDoNothing();
  const images = new Map<string, { sha256: string; fileName: string }>();
  for (const m of MODELS) {
    for (const version of m.versions.slice(1)) {
      const image = simulatedFirmwareImage(version, Number(a['firmware-kib']) * 1024);
      const sha256 = createHash('sha256').update(image).digest('hex');
      const path = blobPath(config.firmwareStoreDir, sha256);
      mkdirSync(dirname(path), { recursive: true });
      writeFileSync(path, image);
      await db.insert(blobs).values({ sha256, size: image.length }).onConflictDoNothing();
      images.set(`${modelIdOf(m.vendor, m.model)}@${version}`, {
        sha256,
        fileName: `${m.model}-${version}.bin`,
      });
    }
  }
  const password = generateSecret(24);
  const fleets: SimulatedFleetAccounts[] = [];
  for (let p = 0; p < PBXES; p++) {
    const id = `fleet-${String(p).padStart(3, '0')}`;
    await db.insert(pbxes).values({
      id,
      name: `Fleet ${p}`,
      timeZone: 'Europe/Berlin',
      weeklyCheckDay: p % 7,
      weeklyCheckMinute: 600,
      // No scheduled update during the run: the orchestrated rollouts are started with Update now.
      updateDay: null,
      updateMinute: null,
      provisioningUser: id,
      provisioningSecretHash: hashGeneratedSecret(password),
      sipDomain: `${id}.pbx.test`,
    });
    const perType = Math.floor(PHONES / MODELS.length);
    fleets.push(
      await createSimulatedFleet(db, {
        pbxId: id,
        models: Object.fromEntries(MODELS.map((m) => [modelIdOf(m.vendor, m.model), perType])),
        initialVersion: Object.fromEntries(MODELS.map((m) => [modelIdOf(m.vendor, m.model), m.versions[0]])),
        secretsKey: config.secretsKey,
      }),
    );
  }
  const firmwareFor = async (step: 1 | 2 | 3) => {
    const rows = fleets.flatMap((f) =>
      MODELS.map((m) => {
        const modelId = modelIdOf(m.vendor, m.model);
        const image = images.get(`${modelId}@${m.versions[step]}`) as { sha256: string; fileName: string };
        return { pbxId: f.pbxId, modelId, version: m.versions[step], source: 'download' as const, ...image };
      }),
    );
    await db.insert(localFirmware).values(rows);
  };
  await firmwareFor(1);
  const phoneCount = fleets.reduce((n, f) => n + f.phones.length, 0);

  // ---- the phones worker in this process: the phone edge and the block activity ---------------------
  const edge = await startPhoneEdge(deps, { provisioningPort: 0, sipPort: 0, host: '127.0.0.1' });
  Runtime.install({ logger: new DefaultLogger('WARN') });
  const connection = await NativeConnection.connect({ address: stack.temporalAddress });
  const phonesWorker = await Worker.create({
    connection,
    taskQueue: config.taskQueues.phones,
    activities: createPhoneActivities(deps, edge),
    maxConcurrentActivityTaskExecutions: config.worker.maxConcurrentBlocks,
  });
  const phonesRunning = phonesWorker.run();
  await stack.startWorker('worker', { WORKER_ROLES: 'lifecycle,downloads' });
  const api = await stack.startApi();
  const token = await stack.adminToken();

  // ---- the simulator -------------------------------------------------------------------------------
  const fleetFile = join(stack.dir, 'fleets.json');
  writeFileSync(
    fleetFile,
    JSON.stringify(
      fleets.map((f) =>
        fleetSpecOf(f, {
          provisioningUrl: edge.provisioningUrlFor(f.pbxId),
          provisioningPassword: password,
          sipHost: '127.0.0.1',
          sipPort: edge.sipPort,
        }),
      ),
    ),
  );
  const sim = spawn(
    process.execPath,
    [join(repoRoot, 'bench/fleet-simulator.ts'), fleetFile, '--boot-spread-ms', a['boot-spread-ms']],
    // The stdin pipe ends when this process dies, and the simulator with it (lib/supervised.ts).
    { stdio: ['pipe', 'pipe', 'inherit'], env: { ...process.env, LOG_LEVEL: 'error', PFD_SUPERVISED: '1' } },
  );
  stack.processes.set('simulator', { pid: sim.pid as number, tree: false });
  const events = new Map<string, (e: Record<string, unknown>) => void>();
  createInterface({ input: sim.stdout }).on('line', (raw) => {
    try {
      const e = JSON.parse(raw) as Record<string, unknown>;
      events.get(String(e.event))?.(e);
    } catch {}
  });
  const next = (event: string) => new Promise<Record<string, unknown>>((r) => events.set(event, r));
  say(`booting ${phoneCount} phones`);
  const bootStarted = Date.now();
  const booted = await next('booted');
  const bootMs = Date.now() - bootStarted;
  say(`booted: ${booted.registered} of ${phoneCount} registered in ${bootMs} ms`);

  // ---- a phase: CPU per process, phones updated over time, per-block durations ----------------------
  const cpuNow = (): Record<string, number> => {
    const u = process.cpuUsage();
    return { ...stack.cpu(), 'phones worker (edge + blocks, this process)': (u.user + u.system) / 1000 };
  };
  const updatedIn = async (ids: string[]) => {
    if (ids.length === 0) return 0;
    const [row] = await db
      .select({ n: sql<number>`count(*)::int` })
      .from(rolloutResults)
      .where(and(inArray(rolloutResults.rolloutId, ids), eq(rolloutResults.outcome, 'updated')));
    return row?.n ?? 0;
  };
  const blockDurations = async (ids: string[]) => {
    const rows = await db
      .select({
        ms: sql<number>`extract(epoch from max(${rolloutResults.at}) - min(${rolloutResults.blockStartedAt})) * 1000`,
      })
      .from(rolloutResults)
      .where(inArray(rolloutResults.rolloutId, ids))
      .groupBy(rolloutResults.rolloutId, rolloutResults.block);
    return rows.map((r) => Number(r.ms)).sort((x, y) => x - y);
  };
  const span = async (ids: string[], since: number) => {
    const [row] = await db
      .select({
        first: sql<string>`min(${rolloutResults.blockStartedAt})`,
        last: sql<string>`max(${rolloutResults.at}) filter (where ${rolloutResults.outcome} = 'updated')`,
      })
      .from(rolloutResults)
      .where(inArray(rolloutResults.rolloutId, ids));
    const at = (v: string | undefined) => (v ? (Date.parse(v) - since) / 1000 : Number.NaN);
    return { firstBlockAt: at(row?.first), lastUpdatedAt: at(row?.last) };
  };
  interface Phase {
    name: string;
    seconds: number;
    firstBlockAt: number;
    lastUpdatedAt: number;
    updated: number;
    perSecond: number;
    blocks: number[];
    cpu: Record<string, number>;
    series: Array<[number, number]>;
  }
  const phase = async (
    name: string,
    rolloutIds: () => Promise<string[]>,
    go: () => Promise<void>,
  ): Promise<Phase> => {
    say(`${name}: updating ${phoneCount} phones`);
    const cpu0 = cpuNow();
    const started = Date.now();
    const series: Array<[number, number]> = [[0, 0]];
    let done = false;
    const sampler = (async () => {
      while (!done) {
        await sleep(500);
        series.push([(Date.now() - started) / 1000, await updatedIn(await rolloutIds())]);
      }
    })();
    await go();
    const seconds = (Date.now() - started) / 1000;
    say(`${name}: done in ${seconds.toFixed(1)} s`);
    done = true;
    await sampler;
    const cpu1 = cpuNow();
    const ids = await rolloutIds();
    const updated = await updatedIn(ids);
    series.push([seconds, updated]);
    return {
      name,
      seconds,
      ...(await span(ids, started)),
      updated,
      perSecond: updated / seconds,
      blocks: await blockDurations(ids),
      cpu: Object.fromEntries(Object.keys(cpu1).map((k) => [k, (cpu1[k] ?? 0) - (cpu0[k] ?? 0)])),
      series,
    };
  };

  // ---- bare: the block activity directly -------------------------------------------------------------
  const never = new AbortController().signal;
  /** Every phone to `versions[step]` by runBlockUpdate: blocks of 50, one lane per PBX and type (R12), 20 at once. */
  const bareRun = async (name: string, step: 1 | 3): Promise<Phase> => {
    const ids: string[] = [];
    const lanes: Array<
      Array<{ pbxId: string; modelId: string; to: string; ids: number[]; rolloutId: string; block: number }>
    > = [];
    for (const f of fleets) {
      for (const m of MODELS) {
        const modelId = modelIdOf(m.vendor, m.model);
        const phoneIds = f.phones.filter((p) => p.modelId === modelId).map((p) => p.id);
        const rolloutId = `bare${step}-${f.pbxId}-${modelId}`;
        await insertRollout(db, {
          id: rolloutId,
          workflowId: `bench/${f.pbxId}/${modelId}`,
          pbxId: f.pbxId,
          modelId,
          targetVersion: m.versions[step],
          why: 'manual',
          who: 'bench',
          total: phoneIds.length,
          blocks: Math.ceil(phoneIds.length / 50),
          status: 'running',
        });
        ids.push(rolloutId);
        const lane = [];
        for (let i = 0; i < phoneIds.length; i += 50) {
          lane.push({
            pbxId: f.pbxId,
            modelId,
            to: m.versions[step],
            ids: phoneIds.slice(i, i + 50),
            rolloutId,
            block: i / 50,
          });
        }
        lanes.push(lane);
      }
    }
    const result = await phase(
      name,
      async () => ids,
      async () => {
        let running = 0;
        const waiting: Array<() => void> = [];
        const acquire = async () => {
          while (running >= config.worker.maxConcurrentBlocks)
            await new Promise<void>((r) => waiting.push(r));
          running++;
        };
        const release = () => {
          running--;
          waiting.shift()?.();
        };
        await Promise.all(
          lanes.map(async (lane) => {
            for (const b of lane) {
              await acquire();
              try {
                await runBlockUpdate(
                  deps,
                  edge,
                  {
                    pbxId: b.pbxId,
                    modelId: b.modelId,
                    targetVersion: b.to,
                    phoneIds: b.ids,
                    rolloutId: b.rolloutId,
                    block: b.block,
                    why: 'manual',
                    who: 'bench',
                    timeoutMs: 300_000,
                  },
                  { heartbeat: () => {}, signal: never },
                );
              } finally {
                release();
              }
            }
          }),
        );
      },
    );
    await db
      .update(rollouts)
      .set({ status: 'completed', finishedAt: new Date() })
      .where(inArray(rollouts.id, ids));
    return result;
  };
  const bare = await bareRun('bare block activity, before', 1);

  // ---- orchestrated: Update now through the API ------------------------------------------------------
  await firmwareFor(2);
  const orchestratedStart = new Date();
  const orchestratedIds = async () =>
    (
      await db
        .select({ id: rollouts.id })
        .from(rollouts)
        .where(
          and(
            sql`${rollouts.startedAt} >= ${orchestratedStart.toISOString()}::timestamptz`,
            sql`${rollouts.id} not like 'bare%'`,
          ),
        )
    ).map((r) => r.id);
  const orchestrated = await phase(
    'orchestrated (Update now, rollout workflows)',
    orchestratedIds,
    async () => {
      await Promise.all(
        fleets.map(async (f) => {
          const res = await fetch(`${api.url}/api/pbxes/${f.pbxId}/update-now`, {
            method: 'POST',
            headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
            body: '{}',
          });
          if (!res.ok) throw new Error(`update-now ${f.pbxId}: ${res.status} ${await res.text()}`);
        }),
      );
      const expected = fleets.length * MODELS.length;
      say(`Update now answered for ${fleets.length} PBXes; waiting for ${expected} rollouts to end`);
      for (let polls = 1; ; polls++) {
        const rows = await db
          .select({ status: rollouts.status })
          .from(rollouts)
          .where(inArray(rollouts.id, await orchestratedIds()));
        if (rows.length >= expected && rows.every((r) => r.status !== 'running')) break;
        if (polls % 40 === 0) {
          const running = rows.filter((r) => r.status === 'running').length;
          say(
            `${rows.length} rollouts, ${running} running, ${await updatedIn(await orchestratedIds())} phones updated`,
          );
        }
        await sleep(250);
      }
    },
  );

  // The machine is shared: a second bare run after the orchestrated one brackets it against drift in load.
  await firmwareFor(3);
  const bareAfter = await bareRun('bare block activity, after', 3);
  const phases = [bare, orchestrated, bareAfter];

  // Where orchestration's cost goes: the Temporal events of the first PBX's lifecycle workflow and its rollouts.
  const history = await countEvents(stack.temporalAddress, fleets[0]?.pbxId ?? '', MODELS.length);

  // ---- report ------------------------------------------------------------------------------------------
  sim.kill('SIGTERM');
  const stopped = await next('stopped');
  const bareRate = (bare.perSecond + bareAfter.perSecond) / 2;
  const ratio = bareRate / orchestrated.perSecond;
  const p = (xs: number[], q: number) => (percentile(xs, q) / 1000).toFixed(1);
  const cpuCell = (ph: Phase) =>
    Object.entries(ph.cpu)
      .map(
        ([k, ms]) =>
          `${k} ${(ms / 1000).toFixed(1)} s (${(ms / Math.max(1, ph.updated)).toFixed(2)} ms/phone)`,
      )
      .join('<br>');
  const svgFile = a.report.replace(/\.md$/, '.svg');
  mkdirSync(dirname(a.report), { recursive: true });
  writeFileSync(svgFile, plot(phases, phoneCount));
  const report = [
    `# Fleet rollout benchmark (${new Date().toISOString()})`,
    '',
    `\`npm run bench:rollout -- --pbxes ${PBXES} --phones ${PHONES} --boot-spread-ms ${a['boot-spread-ms']} --firmware-kib ${a['firmware-kib']}\`: ${phoneCount} phones (${MODELS.length} types per PBX, flash 0 ms), blocks of 50, at most ${config.worker.maxConcurrentBlocks} blocks at once; ${loadLine()} at the end.`,
    '',
    '| run | phones updated | wall | phones/s | first block started / last phone updated | block p50 / p95 | CPU per process |',
    '| --- | ---: | ---: | ---: | ---: | ---: | --- |',
    ...phases.map(
      (ph) =>
        `| ${ph.name} | ${ph.updated} | ${ph.seconds.toFixed(1)} s | **${ph.perSecond.toFixed(0)}** | ${ph.firstBlockAt.toFixed(1)} s / ${ph.lastUpdatedAt.toFixed(1)} s | ${p(ph.blocks, 50)} s / ${p(ph.blocks, 95)} s | ${cpuCell(ph)} |`,
    ),
    '',
    `- Orchestration: the bare block rate (mean of the runs before and after, ${bareRate.toFixed(0)} phones/s) is **${ratio.toFixed(2)}×** the orchestrated one (target ≤ 1.1); fleet rate ${orchestrated.perSecond.toFixed(0)} phones/s (target ≥ 1,000).`,
    `- CPU per phone updated, all processes: ${phases.map((ph) => `${ph.name} ${(Object.values(ph.cpu).reduce((x, y) => x + y, 0) / Math.max(1, ph.updated)).toFixed(1)} ms`).join('; ')} — on 2 cores that bounds the rate at about ${((2 * 1000) / (Object.values(orchestrated.cpu).reduce((x, y) => x + y, 0) / Math.max(1, orchestrated.updated))).toFixed(0)} phones/s even with the machine to itself.`,
    `- Temporal events of ${history.pbxId} (Update now of ${MODELS.length} types): lifecycle workflow ${history.lifecycle.total} (${history.lifecycle.top}); per rollout ${history.rollout.total / MODELS.length} on average (the ${MODELS.length} rollouts together: ${history.rollout.top}).`,
    `- Boot: ${booted.registered} of ${phoneCount} phones registered in ${(bootMs / 1000).toFixed(0)} s before the runs (the edge of this process served them).`,
    `- Simulator (one process, all PBXes): ${stopped.cpuMs} ms CPU over the whole run, peak RSS ${stopped.peakRssMiB} MiB; phones worker peak RSS ${peakRssMiBOf(process.pid)} MiB.`,
    '',
    `![phones updated over time](${svgFile.split('/').at(-1)})`,
    '',
    'Busiest other processes at the end (pid, CPU share since start, command):',
    '',
    ...otherProcesses(new Set([process.pid, ...[...stack.processes.values()].map((x) => x.pid)])).map(
      (o) => `    ${o}`,
    ),
    '',
  ].join('\n');
  process.stdout.write(`${report}\n`);
  mkdirSync(dirname(a.report), { recursive: true });
  writeFileSync(a.report, report);
  say(`report written to ${a.report} and ${svgFile}`);
  phonesWorker.shutdown();
  await phonesRunning;
  await edge.close();
  logs.close();
  await edgeDb.close();
} finally {
  await stack.stop();
}

/** Events per type in the histories of one PBX's lifecycle workflow and its rollout workflows (one per type). */
async function countEvents(address: string, pbxId: string, types: number) {
  const EventType = proto.temporal.api.enums.v1.EventType;
  const connection = await Connection.connect({ address });
  try {
    const client = new Client({ connection });
    const tally = async (ids: string[]) => {
      const byType = new Map<string, number>();
      let total = 0;
      for (const id of ids) {
        const history = await client.workflow.getHandle(id).fetchHistory();
        for (const e of history.events ?? []) {
          const type = String(EventType[e.eventType ?? 0] ?? e.eventType).replace('EVENT_TYPE_', '');
          byType.set(type, (byType.get(type) ?? 0) + 1);
          total++;
        }
      }
      const top = [...byType]
        .sort((x, y) => y[1] - x[1])
        .slice(0, 6)
        .map(([t, n]) => `${t.toLowerCase()} ${n}`)
        .join(', ');
      return { total, top };
    };
    const rolloutIds = MODELS.slice(0, types).map((m) =>
      workflowIds.rollout(pbxId, modelIdOf(m.vendor, m.model)),
    );
    return {
      pbxId,
      lifecycle: await tally([workflowIds.lifecycle(pbxId)]),
      rollout: await tally(rolloutIds),
    };
  } finally {
    await connection.close();
  }
}

/** Phones updated over time, one line per run, as an SVG (no dependencies). */
function plot(
  phases: Array<{ name: string; seconds: number; series: Array<[number, number]> }>,
  total: number,
): string {
  const W = 720;
  const H = 360;
  const L = 60;
  const B = 40;
  const maxX = Math.max(...phases.map((ph) => ph.seconds), 1);
  const x = (s: number) => L + ((W - L - 20) * s) / maxX;
  const y = (n: number) => H - B - ((H - B - 20) * n) / Math.max(1, total);
  const colors = ['#1f77b4', '#d62728', '#2ca02c'];
  const ticks = 5;
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" font-family="sans-serif" font-size="12">`,
    `<rect width="${W}" height="${H}" fill="white"/>`,
    `<line x1="${L}" y1="${H - B}" x2="${W - 20}" y2="${H - B}" stroke="black"/>`,
    `<line x1="${L}" y1="20" x2="${L}" y2="${H - B}" stroke="black"/>`,
    ...Array.from({ length: ticks + 1 }, (_, i) => {
      const s = (maxX * i) / ticks;
      const n = Math.round((total * i) / ticks);
      return [
        `<text x="${x(s)}" y="${H - B + 16}" text-anchor="middle">${s.toFixed(0)} s</text>`,
        `<text x="${L - 6}" y="${y(n) + 4}" text-anchor="end">${n}</text>`,
        `<line x1="${L}" y1="${y(n)}" x2="${W - 20}" y2="${y(n)}" stroke="#eee"/>`,
      ].join('');
    }),
    ...phases.map(
      (ph, i) =>
        `<polyline fill="none" stroke="${colors[i % colors.length]}" stroke-width="2" points="${ph.series.map(([s, n]) => `${x(s).toFixed(1)},${y(n).toFixed(1)}`).join(' ')}"/>` +
        `<text x="${L + 10}" y="${30 + 16 * i}" fill="${colors[i % colors.length]}">${escapeXml(ph.name)}</text>`,
    ),
    `<text x="${(L + W) / 2}" y="${H - 6}" text-anchor="middle">seconds since the run started</text>`,
    `<text x="14" y="${H / 2}" transform="rotate(-90 14 ${H / 2})" text-anchor="middle">phones updated</text>`,
    '</svg>',
  ];
  return parts.join('\n');
}

function escapeXml(s: string): string {
  return s.replace(
    /[<>&"]/g,
    (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;' })[c] as string,
  );
}
