/**
 * The lifecycle workflow records its status (phase, next moments R9/R10/R11, running rollouts, last check)
 * through a bookkeeping activity whenever it changes, so the API's status route reads the database and a page
 * polling a PBX never queries Temporal (issue 14 item 4). Real workflow code on the time-skipping server.
 */
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { checkNowUpdate, statusQuery, updateNowUpdate } from '../../workflows/messages.ts';
import { FakePbx } from '../support/fake-pbx.ts';
import { runLifecycle } from '../support/lifecycle.ts';
import { createTimeSkippingEnv } from '../support/temporal.ts';
import { weeklyMomentAfter } from '../support/test-clock.ts';
import { until } from '../support/until.ts';

const TZ = 'Europe/Berlin';

describe('the lifecycle workflow records its status for the API', () => {
  let env: TestWorkflowEnvironment;
  beforeEach(async () => {
    env = await createTimeSkippingEnv();
  });
  afterEach(async () => {
    await env?.teardown();
  });

  it('R9/R11: reports at start what the status query answers, and again after each change (Check now, a rollout)', async () => {
    const now = await env.currentTimeMs();
    const pbx = new FakePbx('status');
    pbx.settings = { ...pbx.settings, timeZone: TZ, updateMoment: weeklyMomentAfter(now, TZ, 2, 180) };
    pbx.addPhones('snom-d785', 'D785', 2, '10.1.33.33');
    pbx.local.set('snom-d785', ['10.1.54.13']);
    await runLifecycle(env, pbx, { weeklyCheck: weeklyMomentAfter(now, TZ, 4, 600) }, async (handle) => {
      const latest = () => pbx.statuses.at(-1);
      const first = await until('a first status report', async () => latest(), Boolean, 30_000);
      expect(first).toMatchObject({ pbxId: 'status', seq: 1, status: { pbxId: 'status', phase: 'idle' } });
      expect(first?.status).toEqual(await handle.query(statusQuery));
      expect(first?.status.nextScheduledUpdate).not.toBeNull();

      await handle.executeUpdate(checkNowUpdate, { args: [{ who: 'alice' }] });
      const checked = await until(
        'a report with the check',
        async () => latest(),
        (s) => s?.status.lastCheck != null && s.status.phase === 'idle',
        30_000,
      );
      expect(checked?.status).toEqual(await handle.query(statusQuery));

      const { decisions } = await handle.executeUpdate(updateNowUpdate, { args: [{ who: 'alice' }] });
      expect(decisions).toMatchObject([{ modelId: 'snom-d785', status: 'started' }]);
      // The running rollout shows in a report; its end shows in a later one.
      await until(
        'a report naming the running rollout',
        async () => pbx.statuses.some((s) => s.status.runningRollouts.length === 1),
        Boolean,
        30_000,
      );
      const ended = await until(
        'a report after the rollout ended',
        async () => latest(),
        (s) => s?.status.runningRollouts.length === 0 && s.status.phase === 'idle',
        60_000,
      );
      expect(ended?.status).toEqual(await handle.query(statusQuery));
    });
    // One run, numbered in order, never the same status twice in a row.
    expect(new Set(pbx.statuses.map((s) => s.runStartedAt)).size).toBe(1);
    expect(pbx.statuses.map((s) => s.seq)).toEqual(pbx.statuses.map((_, i) => i + 1));
    for (let i = 1; i < pbx.statuses.length; i++) {
      expect(pbx.statuses[i]?.status).not.toEqual(pbx.statuses[i - 1]?.status);
    }
  });
});
