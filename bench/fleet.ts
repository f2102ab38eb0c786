/**
 * `npm run bench:fleet`: the operator's fleet view (GET /api/fleet, R16) over 1,000 PBXes with 100 phones each
 * (BENCH_PBXES, BENCH_PHONES), against a baseline measured in the same run on the same data: GET /api/pbxes, the
 * plain list of the same PBX rows. Real HTTP to the real app on an embedded Postgres (or DATABASE_URL); the
 * numbers are medians and 95th percentiles of BENCH_REQUESTS requests each, one at a time, after a warm-up.
 * Nothing here asks Temporal: the fleet view reads only the database.
 */
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { serve } from '@hono/node-server';
import { Client, Connection } from '@temporalio/client';
import pino from 'pino';
import { createApp } from '../api/app.ts';
import { createApiToken } from '../api/tokens.ts';
import { phoneModels } from '../db/schema.ts';
import { loadConfig } from '../lib/config.ts';
import { PbxLogs } from '../lib/pbx-logs.ts';
import { seedFleet, T54W_NEW } from '../test/support/fleet-seed.ts';
import { benchDatabase } from './stack.ts';

const PBXES = Number(process.env.BENCH_PBXES ?? 1000);
const PHONES = Number(process.env.BENCH_PHONES ?? 100);
const REQUESTS = Number(process.env.BENCH_REQUESTS ?? 40);
const say = (m: string) => process.stdout.write(`${m}\n`);

const dir = mkdtempSync(join(tmpdir(), 'pfd-bench-fleet-'));
chmodSync(dir, 0o755); // embedded Postgres runs as its own user when we are root
const cleanups: Array<() => Promise<void> | void> = [() => rmSync(dir, { recursive: true, force: true })];

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] as number;
}

try {
  const { url: databaseUrl, handle } = await benchDatabase(dir, cleanups, say);
  await handle.db
    .insert(phoneModels)
    .values([
      { id: 'yealink-t54w', vendor: 'yealink', model: 'T54W', provisioningKey: '096' },
      { id: 'snom-d785', vendor: 'snom', model: 'D785', provisioningKey: 'snomD785' },
    ])
    .onConflictDoNothing();
  const seeded = Date.now();
  await seedFleet(handle.db, PBXES, PHONES);
  say(`seeded ${PBXES} PBXes with ${PBXES * (PHONES + 1)} phone accounts in ${Date.now() - seeded} ms`);
  await handle.sql`analyze`;

  const config = loadConfig({ DATABASE_URL: databaseUrl, LOG_DIR: join(dir, 'logs'), LOG_LEVEL: 'silent' });
  // The fleet view never asks Temporal; a lazy connection that is never used proves it (it would fail to connect).
  const temporal = new Client({ connection: Connection.lazy({ address: '127.0.0.1:1' }) });
  const app = createApp({
    config,
    db: handle.db,
    sql: handle.sql,
    temporal,
    logger: pino({ level: 'silent' }),
    logs: new PbxLogs(config.logDir),
  });
  const server = await new Promise<ReturnType<typeof serve>>((resolve) => {
    const s = serve({ fetch: app.fetch, hostname: '127.0.0.1', port: 0 }, () => resolve(s));
  });
  cleanups.push(() => new Promise<void>((r) => server.close(() => r())));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const { token } = await createApiToken(handle.db, { name: 'bench' });

  const measure = async (path: string) => {
    const times: number[] = [];
    let bytes = 0;
    for (let i = 0; i < REQUESTS + 3; i++) {
      const started = performance.now();
      const res = await fetch(`${base}${path}`, { headers: { authorization: `Bearer ${token}` } });
      const body = await res.arrayBuffer();
      if (res.status !== 200) throw new Error(`${path}: ${res.status} ${Buffer.from(body).toString()}`);
      if (i >= 3) times.push(performance.now() - started);
      bytes = body.byteLength;
    }
    times.sort((a, b) => a - b);
    return { median: percentile(times, 50), p95: percentile(times, 95), bytes };
  };

  const baseline = await measure('/api/pbxes');
  const cases: Array<[string, string]> = [
    ['fleet, first page of 50', '/api/fleet?limit=50'],
    ['fleet, 200 per page, sorted by next update', '/api/fleet?limit=200&sort=nextUpdate'],
    ['fleet, T54W below the newest version', `/api/fleet?below=yealink-t54w@${T54W_NEW}&limit=50`],
    ['fleet, failed rollouts this week, by failures', '/api/fleet?failed=true&sort=failures&order=desc'],
  ];
  say(
    `\nload average ${loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}; ${REQUESTS} requests each, one at a time`,
  );
  say(
    `baseline GET /api/pbxes (${PBXES} rows): median ${baseline.median.toFixed(1)} ms, p95 ${baseline.p95.toFixed(1)} ms, ${(baseline.bytes / 1e3).toFixed(0)} kB`,
  );
  for (const [name, path] of cases) {
    const r = await measure(path);
    say(
      `${name}: median ${r.median.toFixed(1)} ms, p95 ${r.p95.toFixed(1)} ms, ${(r.bytes / 1e3).toFixed(0)} kB — ratio to baseline ${(r.median / baseline.median).toFixed(2)}`,
    );
  }
} finally {
  for (const c of cleanups.reverse()) await c();
}
