/**
 * `npm run bench:overview` (issue 14 target 3): the R6 overview of a 10,000-phone PBX under 100 concurrent
 * connections, against the same for a 36-phone PBX in the same run (the baseline), on the real API process
 * (`node api/main.ts`) with Postgres and the Temporal dev server. Rounds alternate the two PBXes; the report gives
 * p50/p95/p99 and requests per second of each round, the ratio of throughputs, and the API's CPU per request. It
 * also times the database work alone: counting the big PBX's phones per type and version (what each request did
 * before) against reading the counts the triggers keep (what it does now).
 *
 *   npm run bench:overview -- [--phones 10000] [--connections 100] [--seconds 10] [--rounds 3]
 *
 * Report: test-results/bench-overview.md (--report).
 */
import { execFile } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { parseArgs, promisify } from 'node:util';
import { sql } from 'drizzle-orm';
import { phonesPerVersion } from '../db/queries/overview.ts';
import { catalogReleases, localFirmware, pbxes, phoneAccounts, phoneModels } from '../db/schema.ts';
import { repoRoot } from '../lib/config.ts';
import type { LoadResult } from './load.ts';
import { loadLine, otherProcesses } from './proc.ts';
import { startStack } from './stack.ts';

const run = promisify(execFile);
const { values: a } = parseArgs({
  options: {
    phones: { type: 'string', default: '10000' },
    connections: { type: 'string', default: '100' },
    seconds: { type: 'string', default: '10' },
    rounds: { type: 'string', default: '3' },
    report: { type: 'string', default: join(repoRoot, 'test-results', 'bench-overview.md') },
  },
});
const say = (m: string) => process.stderr.write(`[bench] ${m}\n`);
const bigPhones = Number(a.phones);
const rounds = Math.max(1, Number(a.rounds));

/** The demo's types (README): Yealink T54W, T46U, Snom D785, Grandstream HT802, Gigaset N670, Snom M900 (R2). */
const MODELS = [
  {
    id: 'yealink-t54w',
    vendor: 'yealink',
    model: 'T54W',
    provisioningKey: '096',
    versions: ['96.86.0.45', '96.86.0.70'],
  },
  {
    id: 'yealink-t46u',
    vendor: 'yealink',
    model: 'T46U',
    provisioningKey: '108',
    versions: ['108.86.0.20', '108.86.0.45'],
  },
  {
    id: 'snom-d785',
    vendor: 'snom',
    model: 'D785',
    provisioningKey: 'snomD785',
    versions: ['10.1.33.33', '10.1.54.13'],
  },
  {
    id: 'grandstream-ht802',
    vendor: 'grandstream',
    model: 'HT802',
    provisioningKey: 'HT802',
    versions: ['1.0.29.8', '1.0.43.11'],
  },
  {
    id: 'gigaset-n670',
    vendor: 'gigaset',
    model: 'N670',
    provisioningKey: 'Nx70',
    versions: ['2.43.0', '2.65.0'],
  },
  {
    id: 'snom-m900',
    vendor: 'snom',
    model: 'M900',
    provisioningKey: 'snomM900',
    versions: ['5.10.0', '5.20.0'],
    image: true,
  },
];

const stack = await startStack(say);
try {
  const db = stack.db.db;
  await db.insert(phoneModels).values(
    MODELS.map((m) => ({
      id: m.id,
      vendor: m.vendor,
      model: m.model,
      provisioningKey: m.provisioningKey,
      imageManaged: Boolean(m.image),
    })),
  );
  await db.insert(catalogReleases).values(
    MODELS.filter((m) => !m.image).flatMap((m) =>
      [...m.versions, `${m.versions[1]}.9`].map((version, i) => ({
        id: `${m.id}-${i}`,
        vendor: m.vendor,
        modelIds: [m.id],
        version,
        fileName: `${m.id}-${version}.bin`,
        size: 1000,
        sha256: 'a'.repeat(64),
        releasedAt: new Date('2026-01-01T00:00:00Z'),
      })),
    ),
  );
  const seedPbx = async (id: string, phones: number) => {
    await db.insert(pbxes).values({
      id,
      name: `${phones} phones`,
      timeZone: 'Europe/Berlin',
      weeklyCheckDay: 2,
      weeklyCheckMinute: 600,
      updateDay: 3,
      updateMinute: 120,
      provisioningUser: id,
      provisioningSecretHash: 'x',
      sipDomain: `${id}.pbx.test`,
    });
    for (let i = 0; i < phones; i += 2000) {
      await db.insert(phoneAccounts).values(
        Array.from({ length: Math.min(2000, phones - i) }, (_, k) => {
          const n = i + k;
          const m = MODELS[n % MODELS.length] as (typeof MODELS)[number];
          // Mostly the old version, a quarter updated, a few not reported yet.
          const version = n % 20 === 0 ? null : (m.versions[n % 4 === 1 ? 1 : 0] as string);
          return {
            pbxId: id,
            modelId: m.id,
            mac: `${id === 'big' ? 'b1' : '51'}${n.toString(16).padStart(10, '0')}`,
            extension: String(1000 + n),
            installedVersion: version,
          };
        }),
      );
    }
    await db.insert(localFirmware).values(
      MODELS.map((m) => ({
        pbxId: id,
        modelId: m.id,
        version: m.versions[1] as string,
        fileName: `${m.id}.bin`,
        source: m.image ? ('image' as const) : ('download' as const),
      })),
    );
  };
  say(`seeding a 36-phone PBX and a ${bigPhones}-phone PBX`);
  await seedPbx('small', 36);
  await seedPbx('big', bigPhones);
  await stack.db.sql`analyze`;

  // The database work alone, before and now.
  const time = async (f: () => Promise<unknown>, n = 100) => {
    const ms: number[] = [];
    for (let i = 0; i < n; i++) {
      const t = performance.now();
      await f();
      ms.push(performance.now() - t);
    }
    return ms.sort((x, y) => x - y)[Math.floor(n / 2)] as number;
  };
  const counting = await time(() =>
    db
      .select({ modelId: phoneAccounts.modelId, version: phoneAccounts.installedVersion, n: sql`count(*)` })
      .from(phoneAccounts)
      .where(sql`${phoneAccounts.pbxId} = 'big'`)
      .groupBy(phoneAccounts.modelId, phoneAccounts.installedVersion),
  );
  const reading = await time(() => phonesPerVersion(db, 'big'));

  say('starting the API');
  const api = await stack.startApi();
  const token = await stack.adminToken();
  const load = async (pbxId: string, seconds: number): Promise<LoadResult & { apiCpuMs: number }> => {
    const before = stack.cpu().api ?? 0;
    const { stdout } = await run(process.execPath, [
      join(repoRoot, 'bench/load.ts'),
      '--url',
      `${api.url}/api/pbxes/${pbxId}/overview`,
      '--token',
      token,
      '--connections',
      a.connections,
      '--seconds',
      String(seconds),
    ]);
    return { ...(JSON.parse(stdout) as LoadResult), apiCpuMs: (stack.cpu().api ?? 0) - before };
  };
  const check = await fetch(`${api.url}/api/pbxes/big/overview`, {
    headers: { authorization: `Bearer ${token}` },
  });
  const body = (await check.json()) as { types: Array<{ accounts: number }> };
  const total = body.types.reduce((n, t) => n + t.accounts, 0);
  if (total !== bigPhones) throw new Error(`the overview counts ${total} phones, expected ${bigPhones}`);
  say('warming up');
  await load('small', 2);
  await load('big', 2);

  const results: Record<'small' | 'big', Array<LoadResult & { apiCpuMs: number }>> = { small: [], big: [] };
  for (let r = 1; r <= rounds; r++) {
    for (const pbx of (r % 2 ? ['small', 'big'] : ['big', 'small']) as Array<'small' | 'big'>) {
      say(`round ${r}/${rounds}: ${pbx} PBX, ${a.connections} connections, ${a.seconds} s`);
      results[pbx].push(await load(pbx, Number(a.seconds)));
    }
  }
  const median = (xs: number[]) => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)] as number;
  const row = (name: string, rs: Array<LoadResult & { apiCpuMs: number }>) =>
    `| ${name} | ${rs.map((x) => x.perSecond).join(', ')} | ${rs.map((x) => `${x.p50} / ${x.p95} / **${x.p99}**`).join('; ')} | ${median(rs.map((x) => x.apiCpuMs / x.requests)).toFixed(2)} ms | ${rs.reduce((n, x) => n + x.errors, 0)} |`;
  const ratio = median(results.big.map((x) => x.perSecond)) / median(results.small.map((x) => x.perSecond));
  const p99 = median(results.big.map((x) => x.p99));
  const report = [
    `# Overview benchmark (${new Date().toISOString()})`,
    '',
    `\`npm run bench:overview -- --phones ${bigPhones} --connections ${a.connections} --seconds ${a.seconds} --rounds ${rounds}\`; ${loadLine()} at the end.`,
    '',
    `| PBX | requests/s per round | p50 / p95 / **p99** ms per round | API CPU per request (median) | errors |`,
    '| --- | --- | --- | ---: | ---: |',
    row(`${bigPhones} phones`, results.big),
    row('36 phones (baseline)', results.small),
    '',
    `- ${bigPhones}-phone PBX: p99 **${p99} ms** (median of rounds; target < 50 ms), throughput **${ratio.toFixed(2)}×** the 36-phone PBX's (target ≥ ${(1 / 1.5).toFixed(2)}, i.e. within 1.5×).`,
    `- Database work per overview of the ${bigPhones}-phone PBX (median of 100): counting its phones per type and version ${counting.toFixed(2)} ms (before), reading the kept counts ${reading.toFixed(2)} ms (now).`,
    '- The load generator is a process of its own on the same 2 cores (its CPU competes with the API and Postgres).',
    '',
    'Busiest other processes at the end (pid, CPU share since start, command):',
    '',
    ...otherProcesses(new Set([process.pid, ...[...stack.processes.values()].map((p) => p.pid)])).map(
      (o) => `    ${o}`,
    ),
    '',
  ].join('\n');
  process.stdout.write(`${report}\n`);
  mkdirSync(dirname(a.report), { recursive: true });
  writeFileSync(a.report, report);
  say(`report written to ${a.report}`);
} finally {
  await stack.stop();
}
