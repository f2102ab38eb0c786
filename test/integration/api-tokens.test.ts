import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { authenticateToken, listApiTokens } from '../../db/queries/api-tokens.ts';
import { pbxes } from '../../db/schema.ts';
import { hashToken } from '../../lib/secrets.ts';
import { createTestDatabase, type TestDatabase } from '../support/db.ts';

const run = promisify(execFile);
const cli = fileURLToPath(new URL('../../api/tokens.ts', import.meta.url));
let database: TestDatabase;

const token = (...args: string[]) =>
  run(process.execPath, [cli, ...args], {
    env: { ...process.env, DATABASE_URL: database.url, LOG_LEVEL: 'silent' },
  });

beforeAll(async () => {
  database = await createTestDatabase();
  await database.db.insert(pbxes).values({
    id: 'acme',
    name: 'ACME',
    timeZone: 'Europe/Berlin',
    weeklyCheckDay: 0,
    weeklyCheckMinute: 0,
    provisioningUser: 'acme',
    provisioningSecretHash: 'scrypt$x$y',
    sipDomain: 'acme.pbx.local',
  });
});
afterAll(async () => {
  await database?.drop();
});

describe('the token command (R16)', () => {
  it('creates deployment and PBX tokens, prints each once and stores only its hash', async () => {
    const wide = await token('create', '--name', 'alice');
    const scoped = await token('create', '--name', 'bob', '--pbx', 'acme');
    const wideToken = wide.stdout.trim();
    const scopedToken = scoped.stdout.trim();
    expect(wideToken).toMatch(/^pfd_[A-Za-z0-9_-]{40,}$/);
    expect(scoped.stderr).toContain('PBX acme');
    expect(await authenticateToken(database.db, hashToken(wideToken), new Date())).toMatchObject({
      name: 'alice',
      pbxId: null,
    });
    expect(await authenticateToken(database.db, hashToken(scopedToken), new Date())).toMatchObject({
      name: 'bob',
      pbxId: 'acme',
    });
    const stored = JSON.stringify(await listApiTokens(database.db));
    expect(stored).not.toContain(wideToken);
    expect(stored).not.toContain(scopedToken);
  });

  it('a token use is recorded at most once a minute (one statement per request, issue 14); revoked ends it', async () => {
    await token('create', '--name', 'carol');
    const [carol] = (await listApiTokens(database.db)).filter((t) => t.name === 'carol');
    expect(carol?.lastUsedAt).toBeNull();
    const hash = carol!.tokenHash;
    const lastUsed = async () =>
      (await listApiTokens(database.db)).find((t) => t.name === 'carol')?.lastUsedAt?.toISOString();
    const t0 = new Date('2026-12-01T10:00:00.000Z');
    expect(await authenticateToken(database.db, hash, t0)).toMatchObject({ id: carol!.id, name: 'carol' });
    expect(await lastUsed()).toBe(t0.toISOString());
    await authenticateToken(database.db, hash, new Date(t0.getTime() + 59_000));
    expect(await lastUsed()).toBe(t0.toISOString());
    const t1 = new Date(t0.getTime() + 61_000);
    await authenticateToken(database.db, hash, t1);
    expect(await lastUsed()).toBe(t1.toISOString());
    await token('revoke', '--name', 'carol');
    expect(await authenticateToken(database.db, hash, new Date())).toBeUndefined();
    expect(await authenticateToken(database.db, hashToken('pfd_unknown'), new Date())).toBeUndefined();
  });

  it('lists and revokes tokens', async () => {
    const list = await token('list');
    expect(list.stdout).toMatch(/\talice\t\*\tlive/);
    expect(list.stdout).toMatch(/\tbob\tacme\tlive/);
    const revoked = await token('revoke', '--name', 'alice');
    expect(revoked.stdout).toContain('revoked 1 token');
    expect((await token('list')).stdout).toMatch(/\talice\t\*\trevoked/);
  });

  it('refuses bad input with a message and changes nothing', async () => {
    const before = await listApiTokens(database.db);
    await expect(token('create', '--name', 'eve', '--pbx', 'nope')).rejects.toMatchObject({
      code: 2,
      stderr: expect.stringContaining('--pbx'),
    });
    await expect(token('create')).rejects.toMatchObject({ stderr: expect.stringContaining('--name') });
    await expect(token('create', '--name', 'has space')).rejects.toMatchObject({ code: 2 });
    await expect(token('frobnicate')).rejects.toMatchObject({ stderr: expect.stringContaining('usage') });
    expect(await listApiTokens(database.db)).toEqual(before);
  });
});
