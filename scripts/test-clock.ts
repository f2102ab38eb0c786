/**
 * `npm run test:clock`: the time-skipping tests with the test server's clock placed on each weekday, early in the
 * morning and late in the evening (TEST_CLOCK_START, see test/support/test-clock.ts). A test that fixed a weekday
 * or read the real clock fails on some of these starts; all of them must pass.
 *
 *   npm run test:clock                       every weekday at 09:00 and at 23:30 local (Europe/Berlin)
 *   npm run test:clock -- "sunday 02:59"     only the given start(s)
 *   TEST_CLOCK_FILES="test/temporal"         which test files (default: every file that uses the time-skipping server)
 */
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { WEEKDAYS } from '../domain/timing.ts';
import { repoRoot } from '../lib/config.ts';

const starts =
  process.argv.length > 2
    ? process.argv.slice(2)
    : WEEKDAYS.flatMap((day) => [`${day} 09:00`, `${day} 23:30`]);

function timeSkippingFiles(): string[] {
  const dir = join(repoRoot, 'test/temporal');
  return readdirSync(dir)
    .filter((f) => f.endsWith('.test.ts'))
    .map((f) => join(dir, f))
    .filter((f) => readFileSync(f, 'utf8').includes('createTimeSkippingEnv('))
    .map((f) => relative(repoRoot, f));
}

const files = process.env.TEST_CLOCK_FILES?.split(/\s+/).filter(Boolean) ?? timeSkippingFiles();
const failed: string[] = [];
const started = Date.now();
for (const start of starts) {
  process.stdout.write(
    `\n\x1b[1m▶ clock starts ${start} (${process.env.TEST_CLOCK_ZONE ?? 'Europe/Berlin'})\x1b[0m\n`,
  );
  const r = spawnSync(join(repoRoot, 'node_modules/.bin/vitest'), ['run', ...files], {
    stdio: 'inherit',
    cwd: repoRoot,
    env: { ...process.env, TEST_CLOCK_START: start },
  });
  if (r.status !== 0) failed.push(start);
}
const took = ((Date.now() - started) / 1000).toFixed(0);
if (failed.length > 0) {
  process.stdout.write(
    `\n\x1b[31m✗ failed with the clock starting ${failed.join(', ')}\x1b[0m (${took} s)\n`,
  );
  process.exit(1);
}
process.stdout.write(`\n✓ ${starts.length} clock starts, all green (${took} s)\n`);
