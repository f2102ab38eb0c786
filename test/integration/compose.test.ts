import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { repoRoot } from '../../lib/config.ts';
import { provisionComposeConfig } from '../../scripts/provision-tools.ts';
import { SEARCH_ATTRIBUTES } from '../../workflows/search-attributes.ts';

/**
 * No Docker engine runs here, so the compose file is checked the way `docker compose config` reads it: with
 * compose-go (tools/compose-config), which validates against the Compose Specification schema, interpolates and
 * normalises (issue 15 defect 4: the current compose format, not docker-compose v1).
 */
const bin = await provisionComposeConfig();
const file = join(repoRoot, 'docker-compose.yml');
const config = (env: NodeJS.ProcessEnv = {}) =>
  execFileSync(bin, ['-f', file], { encoding: 'utf8', env: { ...process.env, ...env } });
/** The normalised project, one block of text per service. */
function services(): Record<string, string> {
  const text = config();
  const start = text.indexOf('services:\n');
  const end = text.indexOf('\nvolumes:\n', start);
  const body = `${text.slice(start + 10, end < 0 ? undefined : end)}\n`;
  const out: Record<string, string> = {};
  for (const m of body.matchAll(/^ {2}([a-z-]+):\n((?: {4}.*\n|\n)*)/gm))
    out[m[1] as string] = m[2] as string;
  return out;
}

describe('docker-compose.yml', () => {
  it('is a valid compose file with the services that scale out, in Temporal’s current self-hosted layout', () => {
    const out = execFileSync(bin, ['-f', file, '--services'], {
      encoding: 'utf8',
      env: { ...process.env, WORKERS: '3' },
    });
    expect(out.trim().split('\n')).toEqual(
      [
        'api',
        'firmware-server',
        'phones-worker',
        'postgres',
        'temporal',
        'temporal-namespace',
        'temporal-schema',
        'temporal-ui',
        'worker',
      ].sort(),
    );
    const s = services();
    expect(readFileSync(file, 'utf8')).not.toContain('auto-setup');
    expect(s['temporal-schema']).toContain('image: temporalio/admin-tools:');
    expect(s['temporal-schema']).toContain('temporal-sql-tool');
    expect(s.temporal).toContain('image: temporalio/server:');
    expect(s.temporal).toMatch(/temporal-schema:\n\s+condition: service_completed_successfully/);
    expect(s['temporal-namespace']).toMatch(/temporal:\n\s+condition: service_healthy/);
    expect(s.worker).toMatch(/temporal-namespace:\n\s+condition: service_completed_successfully/);
  });

  it('registers exactly the search attributes the workflows set (a missing one would stop every rollout start)', () => {
    const loop = /for a in ([A-Za-z ]+); do/.exec(readFileSync(file, 'utf8'))?.[1] ?? '';
    expect(loop.trim().split(/\s+/).sort()).toEqual(Object.keys(SEARCH_ATTRIBUTES).sort());
  });

  it('keeps the Temporal UI and frontend off public interfaces (no authentication there)', () => {
    const s = services();
    for (const name of ['temporal-ui', 'temporal']) {
      const published = [...(s[name] ?? '').matchAll(/host_ip: (\S+)/g)].map((m) => m[1]);
      expect(published.length, name).toBeGreaterThan(0);
      expect(
        published.every((ip) => ip === '127.0.0.1'),
        name,
      ).toBe(true);
    }
    expect(s.postgres).not.toContain('published:');
  });

  it('restarts long-running services, checks their health, and lets workers and the API drain', () => {
    const s = services();
    for (const name of [
      'postgres',
      'temporal',
      'temporal-ui',
      'firmware-server',
      'worker',
      'phones-worker',
      'api',
    ]) {
      expect(s[name], name).toContain('restart: unless-stopped');
    }
    for (const name of ['temporal-schema', 'temporal-namespace'])
      expect(s[name], name).toMatch(/restart: on-failure/);
    for (const name of ['postgres', 'temporal', 'firmware-server', 'phones-worker', 'api']) {
      expect(s[name], name).toContain('healthcheck:');
    }
    // Grace periods of lib/config.ts (worker 300 s, API 130 s) plus a margin.
    expect(s.worker).toContain('stop_grace_period: 5m10s');
    expect(s['phones-worker']).toContain('stop_grace_period: 5m10s');
    expect(s.api).toContain('stop_grace_period: 2m15s');
  });

  it('only sets environment variables the services read (no typos that silently fall back to defaults)', () => {
    const known = new Set(
      [...readFileSync(join(repoRoot, 'lib/config.ts'), 'utf8').matchAll(/^\s{2}([A-Z][A-Z0-9_]+):/gm)].map(
        (m) => m[1],
      ),
    );
    // Read by the postgres, temporalio/server (config/docker.yaml), admin-tools and UI images.
    for (const extra of [
      'POSTGRES_USER',
      'POSTGRES_PASSWORD',
      'POSTGRES_DB',
      'DB',
      'DB_PORT',
      'POSTGRES_PORT',
      'POSTGRES_PWD',
      'POSTGRES_SEEDS',
      'BIND_ON_IP',
      'DYNAMIC_CONFIG_FILE_PATH',
      'SQL_PLUGIN',
      'SQL_HOST',
      'SQL_PORT',
      'SQL_USER',
      'SQL_PASSWORD',
      'TEMPORAL_ADDRESS',
    ]) {
      known.add(extra);
    }
    const used = [...config().matchAll(/^\s{6}([A-Z][A-Z0-9_]+):/gm)].map((m) => m[1]);
    expect(used.length).toBeGreaterThan(10);
    expect(used.filter((v) => !known.has(v))).toEqual([]);
  });
});
