/**
 * R6 "in use" is read from phone_version_counts, which triggers keep current (migration
 * 0006_phone_version_counts_trigger). These tests hold it against what it replaces — counting the phones — after
 * whatever sequence of writes, from every kind of writer (inserts, the edge's batched version reports, updates of
 * many rows, deletions, a PBX deleted with all its phones), and after the migration on a database with phones.
 */
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { and, eq, sql } from 'drizzle-orm';
import { migrate } from 'drizzle-orm/postgres-js/migrator';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Db } from '../../db/client.ts';
import { migrateDatabase, migrationsFolder } from '../../db/migrate.ts';
import { phonesPerVersion } from '../../db/queries/overview.ts';
import { recordProvisioningFetches } from '../../db/queries/phones.ts';
import { pbxes, phoneAccounts } from '../../db/schema.ts';
import { createTestDatabase, type TestDatabase } from '../support/db.ts';
import { seedModels, seedPbx } from '../support/phone-fixtures.ts';

/** What the overview showed before the counts: every phone of the PBX counted per type and version. */
async function countedPhones(db: Db, pbxId: string) {
  const rows = await db
    .select({
      modelId: phoneAccounts.modelId,
      version: phoneAccounts.installedVersion,
      phones: sql<number>`count(*)::int`,
    })
    .from(phoneAccounts)
    .where(eq(phoneAccounts.pbxId, pbxId))
    .groupBy(phoneAccounts.modelId, phoneAccounts.installedVersion);
  return sorted(rows);
}

function sorted<T extends { modelId: string; version: string | null }>(rows: T[]): T[] {
  return [...rows].sort((a, b) => `${a.modelId}/${a.version}`.localeCompare(`${b.modelId}/${b.version}`));
}

let t: TestDatabase;
beforeAll(async () => {
  t = await createTestDatabase();
  await seedModels(t.db);
  await seedPbx(t.db, 'counts');
  await seedPbx(t.db, 'other');
});
afterAll(async () => {
  await t?.drop();
});

const MODELS = ['yealink-t54w', 'snom-d785', 'gigaset-n670'];
const VERSIONS = [null, '1.0', '1.1', '2.0'];

const op = fc.oneof(
  fc.record({
    kind: fc.constant('insert' as const),
    n: fc.integer({ min: 1, max: 6 }),
    model: fc.constantFrom(...MODELS),
    version: fc.constantFrom(...VERSIONS),
  }),
  fc.record({ kind: fc.constant('report' as const), pick: fc.nat(), version: fc.constantFrom(...VERSIONS) }),
  fc.record({
    kind: fc.constant('update-many' as const),
    model: fc.constantFrom(...MODELS),
    version: fc.constantFrom(...VERSIONS),
  }),
  fc.record({ kind: fc.constant('delete' as const), pick: fc.nat() }),
);

describe('R6: phones per type and version, kept current by the database', () => {
  it('R6: after any sequence of writes the counts equal counting the phones, per PBX', async () => {
    let mac = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(op, { minLength: 1, maxLength: 12 }), async (ops) => {
        await t.db.delete(phoneAccounts);
        for (const o of ops) {
          const ids = (await t.db.select({ id: phoneAccounts.id }).from(phoneAccounts)).map((r) => r.id);
          if (o.kind === 'insert') {
            await t.db.insert(phoneAccounts).values(
              Array.from({ length: o.n }, (_, i) => ({
                pbxId: i % 3 === 2 ? 'other' : 'counts',
                modelId: o.model,
                mac: (++mac).toString(16).padStart(12, '0'),
                extension: `x${mac}`,
                installedVersion: o.version,
              })),
            );
          } else if (o.kind === 'report' && ids.length > 0) {
            // The edge's batched statement: several phones report at once (a null report keeps the version).
            const some = ids.filter((_, i) => (i + o.pick) % 2 === 0);
            await recordProvisioningFetches(
              t.db,
              some.map((phoneId) => ({ phoneId, userAgent: null, version: o.version, at: new Date() })),
            );
          } else if (o.kind === 'update-many') {
            await t.db
              .update(phoneAccounts)
              .set({ installedVersion: o.version })
              .where(eq(phoneAccounts.modelId, o.model));
          } else if (o.kind === 'delete' && ids.length > 0) {
            await t.db.delete(phoneAccounts).where(eq(phoneAccounts.id, ids[o.pick % ids.length] as number));
          }
        }
        for (const pbxId of ['counts', 'other']) {
          expect(sorted(await phonesPerVersion(t.db, pbxId))).toEqual(await countedPhones(t.db, pbxId));
        }
      }),
      { numRuns: 25 },
    );
  });

  it('R16: a PBX deleted with its phones takes its counts along; one registered again under its id starts at zero', async () => {
    await t.db.delete(phoneAccounts);
    await t.db.insert(phoneAccounts).values([
      { pbxId: 'other', modelId: 'snom-d785', mac: 'aaaaaaaaaa01', extension: '1', installedVersion: '1.0' },
      { pbxId: 'other', modelId: 'snom-d785', mac: 'aaaaaaaaaa02', extension: '2', installedVersion: '1.0' },
    ]);
    expect(await phonesPerVersion(t.db, 'other')).toEqual([
      { modelId: 'snom-d785', version: '1.0', phones: 2 },
    ]);
    await t.db.delete(pbxes).where(eq(pbxes.id, 'other'));
    await seedPbx(t.db, 'other');
    expect(await phonesPerVersion(t.db, 'other')).toEqual([]);
    await t.db.insert(phoneAccounts).values({
      pbxId: 'other',
      modelId: 'snom-d785',
      mac: 'aaaaaaaaaa03',
      extension: '3',
    });
    expect(await phonesPerVersion(t.db, 'other')).toEqual([
      { modelId: 'snom-d785', version: null, phones: 1 },
    ]);
  });
});

describe('R6: the migration that introduces the counts', () => {
  let old: TestDatabase;
  let folder: string;
  beforeAll(async () => {
    old = await createTestDatabase({ migrate: false });
    // The database as it was before: every migration before 0006 applied.
    folder = mkdtempSync(join(tmpdir(), 'pfd-migrations-'));
    cpSync(migrationsFolder, folder, { recursive: true });
    const journalPath = join(folder, 'meta', '_journal.json');
    const journal = JSON.parse(readFileSync(journalPath, 'utf8')) as { entries: Array<{ tag: string }> };
    const upTo = journal.entries.findIndex((e) => e.tag === '0006_phone_version_counts_trigger');
    journal.entries = journal.entries.slice(0, upTo);
    writeFileSync(journalPath, JSON.stringify(journal));
    await migrate(old.db, { migrationsFolder: folder });
  });
  afterAll(async () => {
    await old?.drop();
    rmSync(folder, { recursive: true, force: true });
  });

  it('R6: counts the phones that exist when it runs, and follows them from then on', async () => {
    await seedModels(old.db);
    await seedPbx(old.db, 'legacy');
    await old.db.insert(phoneAccounts).values(
      Array.from({ length: 7 }, (_, i) => ({
        pbxId: 'legacy',
        modelId: i < 4 ? 'yealink-t54w' : 'gigaset-n670',
        mac: `cccccccc${i.toString(16).padStart(4, '0')}`,
        extension: `l${i}`,
        installedVersion: i % 2 ? '1.0' : null,
      })),
    );
    await migrateDatabase(old.url);
    expect(sorted(await phonesPerVersion(old.db, 'legacy'))).toEqual(await countedPhones(old.db, 'legacy'));
    await old.db
      .update(phoneAccounts)
      .set({ installedVersion: '2.0' })
      .where(and(eq(phoneAccounts.pbxId, 'legacy'), eq(phoneAccounts.modelId, 'gigaset-n670')));
    expect(sorted(await phonesPerVersion(old.db, 'legacy'))).toEqual(await countedPhones(old.db, 'legacy'));
  });
});
