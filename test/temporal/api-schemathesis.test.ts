/**
 * Issue 11, "keep them closed": schemathesis (PyPI, an independent implementation of OpenAPI property-based testing)
 * generates requests from the API's own served OpenAPI document and checks every answer against it — every
 * operation, valid and invalid input, wrong methods, and the stateful links (register a PBX → its accounts → its
 * buttons). The API runs on a real HTTP server over a fresh Postgres and the Temporal dev server (the lifecycle
 * workflow is the contract stand-in of test/support/lifecycle-stub.workflow.ts).
 *
 * Passes only with ≥ 2,000 generated requests, no 5xx and no failed check (schema violations included). The figures
 * are printed and the full output is kept in test-results/schemathesis.txt.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ApiServer, startApiServer } from '../../api/http-server.ts';
import { repoRoot } from '../../lib/config.ts';
import { schemathesisPath } from '../../scripts/python-tools.ts';
import { type ApiHarness, createApiHarness } from '../support/api.ts';
import { lifecycleStubBundle } from '../support/lifecycle-stub.ts';

const MIN_REQUESTS = 2_000;
/** Examples per operation and phase; enough for ≥ 2,000 requests over the 21 operations in a few minutes. */
const MAX_EXAMPLES = Number(process.env.SCHEMATHESIS_MAX_EXAMPLES ?? 30);
const SEED = process.env.SCHEMATHESIS_SEED ?? '20261111';

let h: ApiHarness;
let server: ApiServer;
let token: string;

beforeAll(async () => {
  h = await createApiHarness({ workflowBundle: await lifecycleStubBundle() });
  token = await h.token('schemathesis');
  server = await startApiServer(h.app.fetch, {
    host: '127.0.0.1',
    port: 0,
    headersTimeoutMs: 10_000,
    requestTimeoutMs: 30_000,
  });
});
afterAll(async () => {
  await server?.close();
  await h?.close();
});

interface Figures {
  operations: number;
  requests: number;
  serverErrors: number;
  failures: string[];
}

function run(bin: string, args: string[], outFile: string, cwd: string): Promise<number> {
  return new Promise((resolve, reject) => {
    // In test-results/ (gitignored): schemathesis keeps a cache in its working directory.
    const child = spawn(bin, args, {
      cwd,
      env: { ...process.env, NO_COLOR: '1', SCHEMATHESIS_TELEMETRY: 'false', PYTHONIOENCODING: 'utf-8' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const chunks: Buffer[] = [];
    child.stdout.on('data', (d: Buffer) => chunks.push(d));
    child.stderr.on('data', (d: Buffer) => chunks.push(d));
    child.once('error', reject);
    child.once('close', (code) => {
      writeFileSync(outFile, Buffer.concat(chunks));
      resolve(code ?? 1);
    });
  });
}

interface ScenarioRecorder {
  label: string;
  interactions?: Record<string, { response?: { status_code?: number } }>;
  checks?: Record<string, Array<{ name: string; status: string }>>;
}

/** Reads the figures out of schemathesis' NDJSON event stream: one interaction per generated request. */
function figuresOf(ndjsonPath: string): Figures {
  const figures: Figures = { operations: 0, requests: 0, serverErrors: 0, failures: [] };
  const operations = new Set<string>();
  for (const line of readFileSync(ndjsonPath, 'utf8').split('\n')) {
    if (!line.trim()) continue;
    const recorder = (JSON.parse(line) as { ScenarioFinished?: { recorder?: ScenarioRecorder } })
      .ScenarioFinished?.recorder;
    if (!recorder) continue;
    for (const interaction of Object.values(recorder.interactions ?? {})) {
      figures.requests += 1;
      if ((interaction.response?.status_code ?? 0) >= 500) figures.serverErrors += 1;
    }
    if (Object.keys(recorder.interactions ?? {}).length > 0) operations.add(recorder.label);
    for (const checks of Object.values(recorder.checks ?? {})) {
      for (const check of checks) {
        if (check.status.toLowerCase() !== 'success' && check.status.toLowerCase() !== 'skip') {
          figures.failures.push(`${recorder.label}: ${check.name} (${check.status})`);
        }
      }
    }
  }
  figures.operations = operations.size;
  return figures;
}

describe('the admin API against its own OpenAPI document (issue 11)', () => {
  it('schemathesis: every operation, ≥ 2,000 generated requests, stateful links, 0 × 5xx, 0 failed checks', async () => {
    const bin = schemathesisPath();
    if (!bin) {
      throw new Error(
        'schemathesis is not installed: npm test installs it (scripts/python-tools.ts); or run `node scripts/python-tools.ts`',
      );
    }
    const dir = join(repoRoot, 'test-results');
    mkdirSync(dir, { recursive: true });
    const ndjson = join(dir, 'schemathesis.ndjson');
    const code = await run(
      bin,
      [
        'run',
        `${server.url}/openapi.json`,
        '--checks',
        'all',
        '--phases',
        'examples,coverage,fuzzing,stateful',
        '--header',
        `Authorization: Bearer ${token}`,
        '--max-examples',
        String(MAX_EXAMPLES),
        '--seed',
        SEED,
        '--workers',
        '2',
        '--request-timeout',
        '30',
        '--generation-database',
        'none',
        '--report',
        'ndjson',
        '--report-ndjson-path',
        ndjson,
        '--no-color',
      ],
      join(dir, 'schemathesis.txt'),
      dir,
    );
    const figures = figuresOf(ndjson);
    const doc = (await h.call('GET', '/openapi.json')).body as { paths: Record<string, object> };
    const operations = Object.values(doc.paths).reduce((n, ops) => n + Object.keys(ops).length, 0);
    process.stdout.write(
      `[schemathesis] ${figures.requests} requests over ${operations} operations, ${figures.serverErrors} × 5xx, ` +
        `${figures.failures.length} failed checks (exit ${code}); output in test-results/schemathesis.txt\n`,
    );
    expect(figures.failures).toEqual([]);
    expect(figures.serverErrors).toBe(0);
    expect(code).toBe(0);
    expect(figures.requests).toBeGreaterThanOrEqual(MIN_REQUESTS);
  }, 900_000);
});
