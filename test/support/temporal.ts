import { randomUUID } from 'node:crypto';
import { temporal } from '@temporalio/proto';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { inject } from 'vitest';
import { SEARCH_ATTRIBUTES } from '../../workflows/search-attributes.ts';
import { clockStart } from './test-clock.ts';

/**
 * The Java time-skipping test server, started from the wrapper the tools step built (or the SDK's download
 * where there is no Java/Maven). One per test; time skips while a test awaits a result through env.client. Its clock
 * starts at the real now, or at TEST_CLOCK_START: tests take every moment from `env.currentTimeMs()`.
 */
export async function createTimeSkippingEnv(): Promise<TestWorkflowEnvironment> {
  const path = inject('testServerPath');
  const env = await TestWorkflowEnvironment.createTimeSkipping({
    server: { executable: path ? { type: 'existing-path', path } : { type: 'cached-download' } },
  });
  // The Java test server knows no custom search attributes until they are added (it implements only Add).
  await env.connection.operatorService.addSearchAttributes({
    namespace: env.namespace ?? 'default',
    searchAttributes: Object.fromEntries(
      Object.keys(SEARCH_ATTRIBUTES).map((k) => [
        k,
        temporal.api.enums.v1.IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD,
      ]),
    ),
  });
  await placeClock(env);
  return env;
}

/** Moves the fresh server's clock to TEST_CLOCK_START (see test-clock.ts); no-op when unset. */
async function placeClock(env: TestWorkflowEnvironment): Promise<void> {
  const now = await env.currentTimeMs();
  const at = clockStart(process.env.TEST_CLOCK_START, now, process.env.TEST_CLOCK_ZONE);
  if (at !== null && at > now) await env.sleep(at - now);
}

/** The dev server the global setup started (real timers, search attributes registered). */
export async function connectDevServer(): Promise<TestWorkflowEnvironment> {
  return TestWorkflowEnvironment.createFromExistingServer({ address: inject('temporalAddress') });
}

/** The workflow bundle built once per run by the global setup. */
export function workflowBundle(): { codePath: string } {
  return { codePath: inject('workflowBundlePath') };
}

/** A task queue of its own for each test, so tests never pick up each other's tasks. */
export function uniqueTaskQueue(prefix = 'test'): string {
  return `${prefix}-${randomUUID().slice(0, 8)}`;
}
