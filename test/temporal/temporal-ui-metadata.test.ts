/**
 * The Temporal UI as a tracking tool (issue 12): a lifecycle's history reads "weekly check", "evening download",
 * "update moment" on its timers and names what each activity does, and the current details give the PBX's local
 * times with their zone. Run on the dev server (the Java time-skipping server does not keep user metadata).
 */
import { defaultPayloadConverter } from '@temporalio/common';
import type { temporal } from '@temporalio/proto';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { downloadNowUpdate, updateNowUpdate } from '../../workflows/messages.ts';
import { FakePbx } from '../support/fake-pbx.ts';
import { runLifecycle } from '../support/lifecycle.ts';
import { connectDevServer } from '../support/temporal.ts';
import { weeklyMomentAfter } from '../support/test-clock.ts';
import { until } from '../support/until.ts';

type Event = temporal.api.history.v1.IHistoryEvent;
const summaryOf = (e: Event): string | undefined =>
  e.userMetadata?.summary ? defaultPayloadConverter.fromPayload<string>(e.userMetadata.summary) : undefined;

describe('Temporal UI: summaries and current details (issue 12, R9/R10/R11)', () => {
  let env: TestWorkflowEnvironment;
  beforeAll(async () => {
    env = await connectDevServer();
  });
  afterAll(async () => {
    await env?.teardown();
  });

  it('R9/R11: the lifecycle timer says which step it waits for, in the PBX zone; downloads and blocks say what they do', async () => {
    const pbx = new FakePbx('ui-meta');
    pbx.settings.timeZone = 'America/New_York';
    pbx.addPhones('yealink-t54w', 'T54W', 3, '96.86.0.45');
    pbx.catalog.push({ releaseId: 'r-t54w-70', modelIds: ['yealink-t54w'], version: '96.86.0.70' });
    const now = Date.now();
    // Two days ahead at 10:00 New York time: the next thing this lifecycle waits for is its weekly check.
    const weeklyCheck = weeklyMomentAfter(now, 'America/New_York', 2, 10 * 60);
    await runLifecycle(env, pbx, { weeklyCheck }, async (handle) => {
      await handle.executeUpdate(downloadNowUpdate, { args: [{ who: 'alice' }] });
      const { decisions } = await handle.executeUpdate(updateNowUpdate, { args: [{ who: 'alice' }] });
      const started = decisions.find((d) => d.modelId === 'yealink-t54w');
      if (started?.status !== 'started') throw new Error(`no rollout started: ${JSON.stringify(decisions)}`);
      await env.client.workflow.getHandle(started.workflowId).result();

      const timers = await until(
        'a lifecycle timer with a summary',
        async () =>
          ((await handle.fetchHistory()).events ?? [])
            .filter((e) => e.timerStartedEventAttributes)
            .map(summaryOf),
        (s) => s.length > 0,
      );
      // e.g. "weekly check (R9) at Thu 2026-12-03 10:00 America/New_York (UTC-05:00)"
      expect(timers.at(-1)).toMatch(
        /^weekly check \(R9\) at (Mon|Tue|Wed|Thu|Fri|Sat|Sun) \d{4}-\d\d-\d\d 10:00 America\/New_York \(UTC-0[45]:00\)$/,
      );

      const lifecycleActivities = ((await handle.fetchHistory()).events ?? [])
        .filter((e) => e.activityTaskScheduledEventAttributes)
        .map(summaryOf);
      expect(lifecycleActivities).toContain('download yealink-t54w 96.86.0.70 (manual)');

      const rolloutActivities = (
        (await env.client.workflow.getHandle(started.workflowId).fetchHistory()).events ?? []
      )
        .filter((e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'updatePhoneBlock')
        .map(summaryOf);
      expect(rolloutActivities).toEqual(['block 1 (canary): 3 phones of yealink-t54w → 96.86.0.70']);

      const details = await handle.query<{ currentDetails: string }>('__temporal_workflow_metadata');
      expect(details.currentDetails).toMatch(
        /next weekly check: \w{3} \d{4}-\d\d-\d\d 10:00 America\/New_York \(UTC-0[45]:00\)/,
      );
      expect(details.currentDetails).not.toMatch(/\d{4}-\d\d-\d\dT\d\d:\d\d/);
    });
  });
});
