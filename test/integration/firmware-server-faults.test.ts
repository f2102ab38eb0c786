/**
 * Issue 15 defect 8: anyone can rehearse a flaky firmware server (R3) without code: `npm run firmware-server --
 * --error-rate 0.2 --truncate-share 0.1` or FIRMWARE_SERVER_ERROR_RATE / FIRMWARE_SERVER_TRUNCATE_SHARE. The server
 * runs as its own process here, as an operator would start it; the shares are checked within bounds that a correct
 * implementation misses with a probability below 1e-6.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { repoRoot } from '../../lib/config.ts';
import { freePort, waitForPort } from '../../lib/ports.ts';

const children: ChildProcess[] = [];
const dataDir = mkdtempSync(join(tmpdir(), 'pfd-fw-faults-'));
afterAll(() => {
  for (const c of children) c.kill('SIGKILL');
  rmSync(dataDir, { recursive: true, force: true });
});

async function startServer(args: string[], env: NodeJS.ProcessEnv = {}) {
  const port = await freePort();
  const child = spawn(
    process.execPath,
    [
      join(repoRoot, 'firmware-server/main.ts'),
      '--port',
      String(port),
      '--data-dir',
      dataDir,
      '--size-scale',
      '0.0005',
      ...args,
    ],
    { env: { ...process.env, LOG_LEVEL: 'warn', ...env }, stdio: 'ignore' },
  );
  children.push(child);
  await waitForPort(port, 60_000);
  return `http://127.0.0.1:${port}`;
}

describe('firmware server faults by flag and environment (issue 15 defect 8, R3)', () => {
  it('--error-rate answers that share of catalog and file requests with 500, never /health', async () => {
    const url = await startServer(['--error-rate', '0.5']);
    let errors = 0;
    for (let i = 0; i < 200; i++) {
      const res = await fetch(`${url}/catalog.json`);
      await res.arrayBuffer();
      if (res.status === 500) errors++;
      else expect(res.status).toBe(200);
    }
    // Binomial(200, 0.5): outside 60..140 with probability < 1e-8.
    expect(errors).toBeGreaterThan(60);
    expect(errors).toBeLessThan(140);
    for (let i = 0; i < 20; i++) expect((await fetch(`${url}/health`)).status).toBe(200);
    const log = (await (await fetch(`${url}/requests?limit=1000`)).json()) as {
      requests: Array<{ path: string; fault?: string; status: number }>;
    };
    expect(log.requests.filter((r) => r.fault === 'errorRate').length).toBe(errors);
  });

  it('FIRMWARE_SERVER_TRUNCATE_SHARE=1 cuts every file body short; 0 serves it whole', async () => {
    const cut = await startServer([], { FIRMWARE_SERVER_TRUNCATE_SHARE: '1' });
    const catalog = (await (await fetch(`${cut}/catalog.json`)).json()) as { payload: string };
    const release = (JSON.parse(catalog.payload) as { releases: Array<{ fileName: string; size: number }> })
      .releases[0];
    expect(release).toBeDefined();
    const file = `/files/${release?.fileName}`;
    let short = 0;
    for (let i = 0; i < 5; i++) {
      const res = await fetch(`${cut}${file}`);
      expect(res.headers.get('content-length')).toBe(String(release?.size));
      const got = await res.arrayBuffer().then(
        (b) => b.byteLength,
        () => -1,
      );
      if (got < (release?.size ?? 0)) short++;
    }
    expect(short).toBe(5);
    const whole = await startServer(['--truncate-share', '0']);
    const res = await fetch(`${whole}${file}`);
    expect((await res.arrayBuffer()).byteLength).toBe(release?.size);
  });

  it('refuses a share outside 0..1 at start, naming the flag', () => {
    const r = spawnSync(
      process.execPath,
      [
        join(repoRoot, 'firmware-server/main.ts'),
        '--port',
        '0',
        '--data-dir',
        dataDir,
        '--error-rate',
        '1.5',
      ],
      { encoding: 'utf8', env: { ...process.env, LOG_LEVEL: 'info' } },
    );
    expect(r.status).toBe(2);
    expect(r.stdout + r.stderr).toContain('invalid --error-rate');
  });
});
