import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migrateDatabase } from '../../db/migrate.ts';
import { pbxes } from '../../db/schema.ts';
import { createTestDatabase, type TestDatabase } from '../support/db.ts';

describe('database migrations on real Postgres', () => {
  let t: TestDatabase;
  beforeAll(async () => {
    t = await createTestDatabase({ migrate: false });
  });
  afterAll(async () => {
    await t.drop();
  });

  it('applies every migration on an empty database, from several processes at once', async () => {
    await Promise.all([migrateDatabase(t.url), migrateDatabase(t.url), migrateDatabase(t.url)]);
    const tables = await t.sql<{ table_name: string }[]>`
      select table_name from information_schema.tables where table_schema = 'public' order by table_name`;
    expect(tables.map((r) => r.table_name)).toEqual(
      expect.arrayContaining([
        'api_tokens',
        'blobs',
        'catalog_releases',
        'catalog_state',
        'journal',
        'local_firmware',
        'pbxes',
        'phone_accounts',
        'phone_models',
        'rollout_results',
        'rollouts',
        'type_settings',
      ]),
    );
    const applied = await t.sql`select count(*)::int as n from drizzle.__drizzle_migrations`;
    expect(applied[0]?.n).toBeGreaterThan(0);
  });

  it('is idempotent: a second start applies nothing and keeps data', async () => {
    await t.db.insert(pbxes).values({
      id: 'kept',
      name: 'Kept',
      timeZone: 'Europe/Berlin',
      weeklyCheckDay: 2,
      weeklyCheckMinute: 600,
      provisioningUser: 'prov',
      provisioningSecretHash: 'x',
      sipDomain: 'kept.pbx.test',
    });
    const before = await t.sql`select count(*)::int as n from drizzle.__drizzle_migrations`;
    await migrateDatabase(t.url);
    const after = await t.sql`select count(*)::int as n from drizzle.__drizzle_migrations`;
    expect(after[0]?.n).toBe(before[0]?.n);
    expect(await t.db.select().from(pbxes)).toHaveLength(1);
  });

  it('R9: refuses a weekly check moment outside the week', async () => {
    await expect(
      t.db.insert(pbxes).values({
        id: 'bad',
        name: 'Bad',
        timeZone: 'Europe/Berlin',
        weeklyCheckDay: 7,
        weeklyCheckMinute: 1440,
        provisioningUser: 'prov',
        provisioningSecretHash: 'x',
        sipDomain: 'bad.pbx.test',
      }),
    ).rejects.toMatchObject({
      cause: { constraint_name: expect.stringMatching(/^weekly_check_(day|minute)_range$/) },
    });
  });
});
