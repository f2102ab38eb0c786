/**
 * README command 2: everything CI checks, in the order a failure is cheapest to see.
 *   tools      build/find the Temporal dev server and the time-skipping test server (cached after the first run)
 *   system     Chromium (web-page test) and docker-compose (compose file check): Debian packages, installed if missing;
 *              schemathesis (API test from its OpenAPI document) in a Python venv under the tools cache
 *   lint       biome
 *   typecheck  tsc --noEmit
 *   tests      vitest: unit + integration, then Temporal, then browser
 * Extra arguments go to vitest (e.g. `npm test -- test/unit`).
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { repoRoot } from '../lib/config.ts';
import { provisionTools } from './provision-tools.ts';
import { ensureSchemathesis } from './python-tools.ts';
import { ensureSystemPackages } from './system-packages.ts';

if (Number(process.versions.node.split('.')[0]) < 24) {
  console.error(
    `Node ${process.versions.node}: run through npm (npm test), which uses Node 24 from node_modules/.bin`,
  );
  process.exit(1);
}

const bin = (name: string) => join(repoRoot, 'node_modules', '.bin', name);
const timings: Array<[string, number]> = [];

function step(name: string, cmd: string, args: string[]): void {
  const started = Date.now();
  process.stdout.write(`\n\x1b[1m▶ ${name}\x1b[0m\n`);
  const r = spawnSync(cmd, args, { stdio: 'inherit', cwd: repoRoot, env: process.env });
  timings.push([name, Date.now() - started]);
  if (r.status !== 0) {
    process.stdout.write(`\n\x1b[31m✗ ${name} failed\x1b[0m\n`);
    process.exit(r.status ?? 1);
  }
}

const total = Date.now();
let started = Date.now();
process.stdout.write('\x1b[1m▶ tools\x1b[0m\n');
await provisionTools();
timings.push(['tools', Date.now() - started]);
started = Date.now();
process.stdout.write('\n\x1b[1m▶ system packages\x1b[0m\n');
ensureSystemPackages();
process.stderr.write(`[python] schemathesis: ${ensureSchemathesis()}\n`);
timings.push(['system', Date.now() - started]);

step('lint', bin('biome'), ['check', '.']);
step('typecheck', bin('tsc'), ['--noEmit']);
const extra = process.argv.slice(2);
step('tests', bin('vitest'), ['run', ...extra]);

process.stdout.write('\n\x1b[1mwall time\x1b[0m\n');
for (const [name, ms] of timings) process.stdout.write(`  ${name.padEnd(10)} ${(ms / 1000).toFixed(1)} s\n`);
process.stdout.write(`  ${'total'.padEnd(10)} ${((Date.now() - total) / 1000).toFixed(1)} s\n`);
