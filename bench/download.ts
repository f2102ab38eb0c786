/**
 * `npm run bench:download`: downloads one big firmware file (default 600 MB, BENCH_SIZE_MB) from the reference
 * firmware server twice in the same run — through the real downloadFirmware activity (streams to disk while hashing,
 * heartbeats, verifies, renames into the store, writes Postgres rows) and with `curl -o /dev/null` — and prints both
 * throughputs, their ratio, and the peak RSS of this process during the activity run (memory must stay flat).
 * BENCH_RUNS (default 2) alternates curl and activity runs; the best of each is compared (the box may be busy).
 *
 * The server runs as its own process (node firmware-server/main.ts), so this process's RSS is the activity's.
 * Postgres: DATABASE_URL if set, else an embedded server in a temporary directory.
 */
import { execFile } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { MockActivityEnvironment } from '@temporalio/testing';
import { DefaultLogger } from '@temporalio/worker';
import { eq } from 'drizzle-orm';
import pino from 'pino';
import { syncCatalog } from '../activities/catalog.ts';
import type { DownloadResult } from '../activities/contracts.ts';
import { downloadFirmware } from '../activities/download.ts';
import { connectDb } from '../db/client.ts';
import { spawnEmbeddedPostgres } from '../db/embedded.ts';
import { migrateDatabase } from '../db/migrate.ts';
import { getRelease } from '../db/queries/catalog.ts';
import { blobs, localFirmware, pbxes, phoneAccounts } from '../db/schema.ts';
import { ensureSigningKeys, ensureState, publishRelease } from '../firmware-server/state.ts';
import { loadConfig, repoRoot } from '../lib/config.ts';
import { PbxLogs } from '../lib/pbx-logs.ts';
import { freePort, waitForPort } from '../lib/ports.ts';
import { startProcess } from '../lib/processes.ts';

const run = promisify(execFile);
const sizeMb = Number(process.env.BENCH_SIZE_MB ?? 600);
const SIZE = Math.round(sizeMb * 1e6);
const say = (m: string) => process.stdout.write(`${m}\n`);
const mb = (bytes: number) => (bytes / 1e6).toFixed(1);

const dir = mkdtempSync(join(tmpdir(), 'pfd-bench-'));
chmodSync(dir, 0o755); // embedded Postgres runs as its own user when we are root
const cleanups: Array<() => Promise<void> | void> = [() => rmSync(dir, { recursive: true, force: true })];

try {
  // --- reference server with one big release
  const serverDir = join(dir, 'firmware-server');
  const keys = ensureSigningKeys(serverDir);
  await ensureState(serverDir, { sizeScale: 0.001 });
  say(`publishing a ${mb(SIZE)} MB release (hashing the generated file once)...`);
  const release = await publishRelease(serverDir, {
    vendor: 'yealink',
    models: ['T58W'],
    version: '150.86.0.99',
    size: SIZE,
    notes: 'benchmark image',
  });
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

  // --- Postgres
  let databaseUrl = process.env.DATABASE_URL;
  if (!databaseUrl) {
    say('starting an embedded Postgres...');
    const pg = await spawnEmbeddedPostgres({
      dir: join(dir, 'postgres'),
      port: await freePort(),
      database: 'bench',
    });
    cleanups.push(() => pg.stop());
    databaseUrl = pg.url;
  }
  await migrateDatabase(databaseUrl);
  const handle = connectDb(databaseUrl);
  cleanups.push(() => handle.close());
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
  await handle.db
    .insert(pbxes)
    .values({
      id: pbxId,
      name: 'Benchmark PBX',
      timeZone: 'Europe/Berlin',
      weeklyCheckDay: 0,
      weeklyCheckMinute: 0,
      provisioningUser: 'bench',
      provisioningSecretHash: 'x',
      sipDomain: `${pbxId}.bench.test`,
    })
    .onConflictDoNothing();
  const sync = await syncCatalog(deps);
  if (!sync.ok) throw new Error(`catalog sync failed: ${sync.error}`);
  await handle.db
    .insert(phoneAccounts)
    .values({ pbxId, modelId: 'yealink-t58w', mac: '805ec0000001', extension: '100' });
  if (!(await getRelease(handle.db, release.id))) throw new Error('release missing after sync');
  const fileUrl = `${url}/files/${release.fileName}`;

  // --- alternate curl and activity runs (the machine may be shared: the best run of each is compared)
  const runs = Math.max(1, Number(process.env.BENCH_RUNS ?? 2));
  const curlRuns: number[] = [];
  const curlDiskRuns: number[] = [];
  const activityRuns: number[] = [];
  let rssBefore = 0;
  let rssPeak = 0;
  let heartbeats = 0;
  for (let i = 1; i <= runs; i++) {
    say(`run ${i}/${runs}: curl ${fileUrl} -o /dev/null ...`);
    const curl = await run('curl', [
      '-sS',
      '--fail',
      '-o',
      '/dev/null',
      '-w',
      '%{size_download} %{time_total}',
      fileUrl,
    ]);
    const [curlBytes, curlSecs] = curl.stdout.trim().split(' ').map(Number) as [number, number];
    if (curlBytes !== SIZE) throw new Error(`curl got ${curlBytes} bytes, expected ${SIZE}`);
    curlRuns.push(curlSecs);
    // For reading the ratio: the same transfer when curl has to write to disk too (no hashing, no fsync).
    const toFile = join(dir, 'curl.out');
    const disk = await run('curl', ['-sS', '--fail', '-o', toFile, '-w', '%{time_total}', fileUrl]);
    curlDiskRuns.push(Number(disk.stdout.trim()));
    rmSync(toFile, { force: true });

    say(`run ${i}/${runs}: downloadFirmware activity ...`);
    // Start from an empty store each time, so every run moves every byte.
    await handle.db.delete(localFirmware).where(eq(localFirmware.pbxId, pbxId));
    await handle.db.delete(blobs).where(eq(blobs.sha256, release.sha256));
    rmSync(join(config.firmwareStoreDir, 'blobs'), { recursive: true, force: true });
    const env = new MockActivityEnvironment({}, { logger: new DefaultLogger('WARN') });
    env.on('heartbeat', () => {
      heartbeats++;
    });
    const before = process.memoryUsage().rss;
    let peak = before;
    const sampler = setInterval(() => {
      peak = Math.max(peak, process.memoryUsage().rss);
    }, 20);
    const started = performance.now();
    const result: DownloadResult = await env.run(downloadFirmware, deps, {
      pbxId,
      modelId: 'yealink-t58w',
      releaseId: release.id,
      why: 'manual' as const,
      who: 'bench',
    });
    activityRuns.push((performance.now() - started) / 1000);
    clearInterval(sampler);
    peak = Math.max(peak, process.memoryUsage().rss);
    if (!result.stored || result.reused || result.bytes !== SIZE) {
      throw new Error(`unexpected result ${JSON.stringify(result)}`);
    }
    if (peak - before > rssPeak - rssBefore) {
      rssBefore = before;
      rssPeak = peak;
    }
  }
  const best = (xs: number[]) => Math.min(...xs);
  const rate = (secs: number) => SIZE / 1e6 / secs;
  const list = (xs: number[]) => xs.map((s) => `${rate(s).toFixed(0)}`).join(', ');
  const curlMbps = rate(best(curlRuns));
  const activityMbps = rate(best(activityRuns));

  say('');
  say(`file                 ${release.fileName}, ${mb(SIZE)} MB (sha256 ${release.sha256.slice(0, 16)}…)`);
  say(
    `curl                 ${curlMbps.toFixed(1)} MB/s best of ${runs} (runs: ${list(curlRuns)} MB/s; to /dev/null)`,
  );
  say(
    `curl → file         ${rate(best(curlDiskRuns)).toFixed(1)} MB/s best of ${runs} (runs: ${list(curlDiskRuns)} MB/s; reference only)`,
  );
  say(
    `activity             ${activityMbps.toFixed(1)} MB/s best of ${runs} (runs: ${list(activityRuns)} MB/s; to disk, sha256, fsync, rename, DB rows; ${heartbeats} heartbeats)`,
  );
  say(`ratio activity/curl  ${(activityMbps / curlMbps).toFixed(2)}`);
  say(
    `peak RSS (activity)  ${mb(rssPeak)} MB  (before the run: ${mb(rssBefore)} MB, growth ${mb(rssPeak - rssBefore)} MB for a ${mb(SIZE)} MB file)`,
  );
  say(`process maxRSS       ${mb(process.resourceUsage().maxRSS * 1024)} MB (whole process lifetime)`);
  say(
    `load average         ${loadavg()
      .map((l) => l.toFixed(1))
      .join(' ')} on ${availableParallelism()} CPUs`,
  );
} finally {
  for (const c of cleanups.reverse()) {
    try {
      await c();
    } catch (err) {
      process.stderr.write(`cleanup: ${err instanceof Error ? err.message : err}\n`);
    }
  }
}
