import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { repoRoot } from '../../lib/config.ts';

/** No Docker engine runs here, so the compose file is checked the way compose itself parses it. */
describe('docker-compose.yml', () => {
  it('is a valid compose file with the services that scale out', () => {
    const out = execFileSync(
      'docker-compose',
      ['-f', join(repoRoot, 'docker-compose.yml'), 'config', '--services'],
      {
        encoding: 'utf8',
        env: { ...process.env, WORKERS: '3' },
      },
    );
    expect(out.trim().split('\n').sort()).toEqual(
      [
        'api',
        'firmware-server',
        'phones-worker',
        'postgres',
        'temporal',
        'temporal-setup',
        'temporal-ui',
        'worker',
      ].sort(),
    );
  });

  it('only sets environment variables the services read (no typos that silently fall back to defaults)', () => {
    const known = new Set(
      [...readFileSync(join(repoRoot, 'lib/config.ts'), 'utf8').matchAll(/^\s{2}([A-Z][A-Z0-9_]+):/gm)].map(
        (m) => m[1],
      ),
    );
    for (const extra of [
      'POSTGRES_USER',
      'POSTGRES_PASSWORD',
      'POSTGRES_DB',
      'DB',
      'DB_PORT',
      'POSTGRES_PWD',
      'POSTGRES_SEEDS',
      'TEMPORAL_ADDRESS',
      'FIRMWARE_SERVER_PORT',
    ]) {
      known.add(extra);
    }
    const config = execFileSync('docker-compose', ['-f', join(repoRoot, 'docker-compose.yml'), 'config'], {
      encoding: 'utf8',
    });
    const used = [...config.matchAll(/^\s{6}([A-Z][A-Z0-9_]+):/gm)].map((m) => m[1]);
    expect(used.length).toBeGreaterThan(10);
    expect(used.filter((v) => !known.has(v))).toEqual([]);
  });
});
