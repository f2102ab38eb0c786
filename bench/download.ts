/**
 * `npm run bench:download` (issue 14 target 6): a big firmware file from the reference firmware server, through the
 * real downloadFirmware activity (streams to disk while hashing, heartbeats, fsync, verify, rename into the store,
 * Postgres rows) and — the honest baseline, same server, same file, same run — `curl -o file` followed by
 * `sha256sum file` (what an operator would do to get a verified copy; without fsync). `curl -o /dev/null` is printed
 * for reference only (no disk, no hash).
 *
 * Rounds are interleaved (baseline first in odd rounds, activity first in even ones, BENCH_ROUNDS ≥ 3, default 3)
 * and reported as min / median / max, never the best. CPU per MB is the activity's process CPU against curl's and
 * sha256sum's (from the shell's `times`); RSS growth during the activity is shown per file size (BENCH_SIZE_MB, a
 * comma-separated list, default 100,600), so flat memory shows as flat growth.
 *
 * The server runs as its own process (node firmware-server/main.ts), so this process's RSS and CPU are the
 * activity's. Postgres: DATABASE_URL if set, else an embedded server in a temporary directory.
 * Report: test-results/bench-download.md (BENCH_REPORT). BENCH_PROFILE=1 records a V8 CPU profile of the activity
 * runs only (bench-download-activity.cpuprofile beside the report) and adds where its CPU goes to the report.
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { MockActivityEnvironment } from '@temporalio/testing';
import { DefaultLogger } from '@temporalio/worker';
import { eq } from 'drizzle-orm';
import pino from 'pino';
import { request } from 'undici';
import { syncCatalog } from '../activities/catalog.ts';
import type { DownloadResult } from '../activities/contracts.ts';
import { downloadFirmware } from '../activities/download.ts';
import { getRelease } from '../db/queries/catalog.ts';
import { blobs, localFirmware, pbxes, phoneAccounts } from '../db/schema.ts';
import { ensureSigningKeys, ensureState, publishRelease } from '../firmware-server/state.ts';
import { loadConfig, repoRoot } from '../lib/config.ts';
import { PbxLogs } from '../lib/pbx-logs.ts';
import { freePort, waitForPort } from '../lib/ports.ts';
import { startProcess } from '../lib/processes.ts';
import { loadLine, otherProcesses } from './proc.ts';
import { profileMarkdown, summarizeProfile } from './profile-summary.ts';
import { benchDatabase } from './stack.ts';

const run = promisify(execFile);
const sizesMb = (process.env.BENCH_SIZE_MB ?? '100,600').split(',').map(Number);
const rounds = Math.max(3, Number(process.env.BENCH_ROUNDS ?? 3));
const reportPath = process.env.BENCH_REPORT ?? join(repoRoot, 'test-results', 'bench-download.md');
const say = (m: string) => process.stdout.write(`${m}\n`);
const mb = (bytes: number) => (bytes / 1e6).toFixed(1);

interface Run {
  secs: number;
  /** CPU ms of the work (activity: this process; baseline: curl + sha256sum). */
  cpuMs: number;
  /** The activity's: kernel time (socket reads, file writes, fsync) within cpuMs. */
  systemMs?: number;
}
interface BaselineRun extends Run {
  curlCpuMs: number;
  hashCpuMs: number;
}

/** `times` prints the shell's and its children's user/system time: `0m1.250000s 0m0.031000s` per line. */
function childrenCpuMs(times: string): number {
  const line = times.trim().split('\n')[1] ?? '';
  return [...line.matchAll(/(\d+)m([\d.]+)s/g)].reduce(
    (ms, m) => ms + (Number(m[1]) * 60 + Number(m[2])) * 1000,
    0,
  );
}

/** curl to a file, then sha256sum of it: wall time, and curl's and sha256sum's CPU. */
async function curlThenSha256sum(url: string, file: string, sha256: string): Promise<BaselineRun> {
  const started = performance.now();
  const { stdout } = await run('sh', [
    '-c',
    'curl -sS --fail -o "$1" "$2" && times && echo --- && sha256sum "$1" && times',
    'sh',
    file,
    url,
  ]);
  const secs = (performance.now() - started) / 1000;
  const [afterCurl = '', rest = ''] = stdout.split('---\n');
  const [sumLine = '', ...afterHash] = rest.split('\n');
  if (sumLine.split(' ')[0] !== sha256) throw new Error(`sha256sum says ${sumLine}, expected ${sha256}`);
  const curlCpuMs = childrenCpuMs(afterCurl);
  const totalCpuMs = childrenCpuMs(afterHash.join('\n'));
  rmSync(file, { force: true });
  return { secs, cpuMs: totalCpuMs, curlCpuMs, hashCpuMs: totalCpuMs - curlCpuMs };
}

/**
 * The floor of any Node downloader here, for the CPU target: this process reads the same file with undici (the
 * activity's client and body buffer) and hashes it, writing nothing — CPU ms of that alone.
 */
async function nodeFloorCpuMs(fileUrl: string): Promise<number> {
  const cpu = process.cpuUsage();
  const res = await request(fileUrl, { highWaterMark: 1 << 20 });
  const hash = createHash('sha256');
  for await (const chunk of res.body) hash.update(chunk as Buffer);
  hash.digest();
  const used = process.cpuUsage(cpu);
  return (used.user + used.system) / 1000;
}

const stats = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return { min: s[0] as number, median: s[Math.floor(s.length / 2)] as number, max: s.at(-1) as number };
};
const fmt = (x: { min: number; median: number; max: number }, digits = 0) =>
  `${x.min.toFixed(digits)} / **${x.median.toFixed(digits)}** / ${x.max.toFixed(digits)}`;

const dir = mkdtempSync(join(tmpdir(), 'pfd-bench-'));
chmodSync(dir, 0o755); // embedded Postgres runs as its own user when we are root
const cleanups: Array<() => Promise<void> | void> = [() => rmSync(dir, { recursive: true, force: true })];
const profileFiles: string[] = [];
const report: string[] = [];
const loadAtStart = loadLine();
const profiling = process.env.BENCH_PROFILE === '1';
const session = new Session();
if (profiling) {
  session.connect();
  await session.post('Profiler.enable');
}

try {
  const serverDir = join(dir, 'firmware-server');
  const keys = ensureSigningKeys(serverDir);
  await ensureState(serverDir, { sizeScale: 0.001 });
  const releases = [];
  for (const [i, size] of sizesMb.entries()) {
    say(`publishing a ${size} MB release (hashing the generated file once)...`);
    releases.push(
      await publishRelease(serverDir, {
        vendor: 'yealink',
        models: ['T58W'],
        version: `150.86.0.${90 + i}`,
        size: Math.round(size * 1e6),
        notes: 'benchmark image',
      }),
    );
  }
  const port = await freePort();
  const server = startProcess(
    'firmware-server',
    process.execPath,
    [join(repoRoot, 'firmware-server/main.ts'), '--port', String(port), '--data-dir', serverDir],
    { quiet: true, env: { ...process.env, LOG_LEVEL: 'warn' } },
  );
  cleanups.push(() => server.stop());
  await waitForPort(port, 30_000);
  const url = `http://127.0.0.1:${port}`;

  const { handle } = await benchDatabase(dir, cleanups, say);
  const config = loadConfig({
    DATA_DIR: dir,
    FIRMWARE_SERVER_URL: url,
    CATALOG_PUBLIC_KEY: keys.publicKey,
    FIRMWARE_STORE_DIR: join(dir, 'store'),
    LOG_DIR: join(dir, 'logs'),
  });
  const logs = new PbxLogs(config.logDir);
  cleanups.push(() => logs.close());
  const deps = { config, db: handle.db, logs, logger: pino({ level: 'warn' }) };
  const pbxId = `bench-${process.pid}`;
  await handle.db.insert(pbxes).values({
    id: pbxId,
    name: 'Benchmark PBX',
    timeZone: 'Europe/Berlin',
    weeklyCheckDay: 0,
    weeklyCheckMinute: 0,
    provisioningUser: 'bench',
    provisioningSecretHash: 'x',
    sipDomain: `${pbxId}.bench.test`,
  });
  const sync = await syncCatalog(deps);
  if (!sync.ok) throw new Error(`catalog sync failed: ${sync.error}`);
  await handle.db
    .insert(phoneAccounts)
    .values({ pbxId, modelId: 'yealink-t58w', mac: '805ec0000001', extension: '100' });

  report.push(
    `# Download benchmark (${new Date().toISOString()})`,
    '',
    `\`npm run bench:download\` (BENCH_SIZE_MB=${sizesMb.join(',')}, BENCH_ROUNDS=${rounds}), machine: ${loadAtStart} at the start.`,
    '',
    'Throughput MB/s as min / **median** / max over interleaved rounds. Baseline: `curl -o file` then `sha256sum file`',
    '(no fsync); the activity streams to disk while hashing, fsyncs, renames into the store and writes its rows.',
    'Node floor: this process reads the file with undici and hashes it, writing nothing (no Node downloader can use less).',
    '',
    '| file | baseline MB/s | activity MB/s | activity / baseline (medians; worst round) | target | CPU ms per MB: curl · sha256sum · activity · Node floor | activity CPU / curl CPU | RSS growth during the activity | curl → /dev/null MB/s (reference) |',
    '| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
  );

  for (const [i, sizeMb] of sizesMb.entries()) {
    const release = releases[i] as (typeof releases)[number];
    const SIZE = release.size;
    if (!(await getRelease(handle.db, release.id))) throw new Error('release missing after sync');
    const fileUrl = `${url}/files/${release.fileName}`;
    const baseline: BaselineRun[] = [];
    const activity: Run[] = [];
    const devNull: number[] = [];
    const floor: number[] = [];
    let rssGrowth = 0;
    let heartbeats = 0;
    const profiles: object[] = [];

    const runActivity = async () => {
      // Start from an empty store each time, so every run moves every byte.
      await handle.db.delete(localFirmware).where(eq(localFirmware.pbxId, pbxId));
      await handle.db.delete(blobs).where(eq(blobs.sha256, release.sha256));
      rmSync(join(config.firmwareStoreDir, 'blobs'), { recursive: true, force: true });
      const env = new MockActivityEnvironment({}, { logger: new DefaultLogger('WARN') });
      env.on('heartbeat', () => {
        heartbeats++;
      });
      const before = process.memoryUsage.rss();
      let peak = before;
      const sampler = setInterval(() => {
        peak = Math.max(peak, process.memoryUsage.rss());
      }, 20);
      if (profiling) await session.post('Profiler.start');
      const cpu = process.cpuUsage();
      const started = performance.now();
      const result: DownloadResult = await env.run(downloadFirmware, deps, {
        pbxId,
        modelId: 'yealink-t58w',
        releaseId: release.id,
        why: 'manual' as const,
        who: 'bench',
      });
      const secs = (performance.now() - started) / 1000;
      const used = process.cpuUsage(cpu);
      if (profiling) profiles.push((await session.post('Profiler.stop')).profile);
      clearInterval(sampler);
      peak = Math.max(peak, process.memoryUsage.rss());
      if (!result.stored || result.reused || result.bytes !== SIZE) {
        throw new Error(`unexpected result ${JSON.stringify(result)}`);
      }
      rssGrowth = Math.max(rssGrowth, peak - before);
      activity.push({ secs, cpuMs: (used.user + used.system) / 1000, systemMs: used.system / 1000 });
    };

    for (let r = 1; r <= rounds; r++) {
      say(`${sizeMb} MB, round ${r}/${rounds}`);
      const steps = [
        async () => {
          baseline.push(await curlThenSha256sum(fileUrl, join(dir, 'curl.out'), release.sha256));
        },
        runActivity,
      ];
      for (const step of r % 2 ? steps : steps.reverse()) await step();
      const ref = await run('curl', ['-sS', '--fail', '-o', '/dev/null', '-w', '%{time_total}', fileUrl]);
      devNull.push(Number(ref.stdout.trim()));
      floor.push(await nodeFloorCpuMs(fileUrl));
    }

    const rate = (secs: number) => SIZE / 1e6 / secs;
    const b = stats(baseline.map((x) => rate(x.secs)));
    const a = stats(activity.map((x) => rate(x.secs)));
    const worst = Math.min(...activity.map((x, k) => rate(x.secs) / rate((baseline[k] as BaselineRun).secs)));
    const perMb = (ms: number[]) => stats(ms.map((m) => m / (SIZE / 1e6))).median;
    const curlCpu = perMb(baseline.map((x) => x.curlCpuMs));
    const hashCpu = perMb(baseline.map((x) => x.hashCpuMs));
    const activityCpu = perMb(activity.map((x) => x.cpuMs));
    const activitySystem = perMb(activity.map((x) => x.systemMs ?? 0));
    const floorCpu = perMb(floor);
    const ratio = a.median / b.median;
    say(
      `${sizeMb} MB: baseline ${fmt(b)} MB/s, activity ${fmt(a)} MB/s, ratio ${ratio.toFixed(2)} (worst round ${worst.toFixed(2)}); CPU ms/MB curl ${curlCpu.toFixed(2)}, sha256sum ${hashCpu.toFixed(2)}, activity ${activityCpu.toFixed(2)} (${activitySystem.toFixed(2)} of it in the kernel; ${(activityCpu / curlCpu).toFixed(1)}× curl), Node floor (undici + sha256, no disk) ${floorCpu.toFixed(2)} (${(floorCpu / curlCpu).toFixed(1)}× curl); RSS growth ${mb(rssGrowth)} MB; ${heartbeats} heartbeats`,
    );
    if (profiles.length > 0) {
      // One profile of all of this size's activity runs: their samples, one after another.
      const file = join(dirname(reportPath), `bench-download-activity-${sizeMb}mb.cpuprofile`);
      mkdirSync(dirname(file), { recursive: true });
      writeFileSync(file, JSON.stringify(profiles.at(-1)));
      profileFiles.push(file);
    }
    report.push(
      `| ${mb(SIZE)} MB | ${fmt(b)} | ${fmt(a)} | **${ratio.toFixed(2)}** (${worst.toFixed(2)}) | ≥ 0.9 | ${curlCpu.toFixed(2)} · ${hashCpu.toFixed(2)} · ${activityCpu.toFixed(2)} (kernel ${activitySystem.toFixed(2)}) · ${floorCpu.toFixed(2)} | **${(activityCpu / curlCpu).toFixed(1)}** (target ≤ 3; ${(activityCpu / (curlCpu + hashCpu)).toFixed(2)} of curl + sha256sum) | ${mb(rssGrowth)} MB | ${fmt(stats(devNull.map(rate)))} |`,
    );
  }
  for (const f of profileFiles) {
    report.push(
      '',
      `## Where the activity's CPU goes (last round, ${f.split('-').at(-1)?.replace('.cpuprofile', '')})`,
      '',
      profileMarkdown(
        summarizeProfile(f, [
          'fetchToPartial',
          'update (node:internal/crypto/hash)',
          'writev (node:internal/fs/promises)',
          'onBody (undici)',
          'Readable.push',
          '(gc)',
        ]),
      ),
    );
  }
  report.push(
    '',
    `Machine at the end: ${loadLine()}. Busiest other processes (pid, CPU share since start, command):`,
    '',
    ...otherProcesses(new Set([process.pid])).map((o) => `    ${o}`),
    '',
  );
  mkdirSync(dirname(reportPath), { recursive: true });
  writeFileSync(reportPath, report.join('\n'));
  say(`report written to ${reportPath}`);
} finally {
  for (const c of cleanups.reverse()) {
    try {
      await c();
    } catch (err) {
      process.stderr.write(`cleanup: ${err instanceof Error ? err.message : err}\n`);
    }
  }
}
