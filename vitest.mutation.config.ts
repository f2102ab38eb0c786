import { defineConfig } from 'vitest/config';

/**
 * `npm run mutation`: StrykerJS mutates the pure rules (domain/) and runs the unit tests against each mutant.
 * Only the unit tests: no Postgres, no Temporal, so thousands of mutants run in minutes.
 */
export default defineConfig({
  test: {
    include: ['test/unit/**/*.test.ts'],
    pool: 'forks',
    testTimeout: 30_000,
  },
});
