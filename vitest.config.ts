import { defineConfig } from 'vitest/config';

/**
 * Three groups, run one after another:
 *  0  unit (pure rules, no I/O) and integration (real Postgres, HTTP, UDP on loopback), files in parallel;
 *  1  temporal: workflow tests on the time-skipping server and the dev server, one file at a time;
 *  2  browser: the web page in real headless Chromium, one file at a time.
 * The global setup starts Postgres and the Temporal dev server once and bundles the workflows once.
 */
export default defineConfig({
  test: {
    globalSetup: ['./test/global-setup.ts'],
    setupFiles: ['./test/setup-temporal.ts'],
    pool: 'forks',
    testTimeout: 60_000,
    hookTimeout: 120_000,
    reporters: process.env.CI ? ['default'] : ['default'],
    projects: [
      {
        extends: true,
        test: {
          name: 'unit',
          include: ['test/unit/**/*.test.ts'],
          sequence: { groupOrder: 0 },
          maxWorkers: 2,
        },
      },
      {
        extends: true,
        test: {
          name: 'integration',
          include: ['test/integration/**/*.test.ts'],
          sequence: { groupOrder: 0 },
          maxWorkers: 2,
        },
      },
      {
        extends: true,
        test: {
          name: 'temporal',
          include: ['test/temporal/**/*.test.ts'],
          sequence: { groupOrder: 1 },
          maxWorkers: 1,
        },
      },
      {
        extends: true,
        test: {
          name: 'browser',
          include: ['test/browser/**/*.test.ts'],
          sequence: { groupOrder: 2 },
          maxWorkers: 1,
          // What a page shows settles after its next poll (2 s) and the server's answer: waited for like an admin
          // would, not vitest's 1 s default (a loaded 2-core machine made every browser file flaky at 1 s).
          expect: { poll: { timeout: 15_000, interval: 100 } },
        },
      },
    ],
  },
});
