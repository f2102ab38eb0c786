import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { temporal } from '@temporalio/proto';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { BlockInput, CheckInput, DownloadInput } from '../../activities/contracts.ts';
import type { WeeklyMoment } from '../../domain/timing.ts';
import { repoRoot } from '../../lib/config.ts';
import {
  checkNowUpdate,
  pbxEventUpdate,
  rolloutProgressQuery,
  statusQuery,
  updateNowUpdate,
} from '../../workflows/messages.ts';
import { FakePbx } from '../support/fake-pbx.ts';
import { runLifecycle } from '../support/lifecycle.ts';
import { createTimeSkippingEnv, uniqueTaskQueue, workflowBundle } from '../support/temporal.ts';
import { weeklyMomentAfter } from '../support/test-clock.ts';

const TZ = 'Europe/Berlin';
const HISTORIES = join(repoRoot, 'test/fixtures/histories');

describe('manual actions and triggers under time skipping (R7, R13, R5, R12)', () => {
  let env: TestWorkflowEnvironment;
  /** Moments relative to the test server's clock: `in(days, minute)` is local `minute` that many days ahead. */
  let at: (days: number, minute: number) => WeeklyMoment;
  /** The weekly check, far enough ahead that a test about something else never meets it. */
  let weeklyCheck: WeeklyMoment;
  beforeEach(async () => {
    env = await createTimeSkippingEnv();
    const now = await env.currentTimeMs();
    at = (days, minute) => weeklyMomentAfter(now, TZ, days, minute);
    weeklyCheck = at(4, 600);
  });
  afterEach(async () => {
    await env?.teardown();
  });

  it('R7: Update now is refused for a type whose Auto-Update is off, visibly and journaled, while other types go ahead', async () => {
    const pbx = new FakePbx('r7');
    pbx.addPhones('yealink-t54w', 'T54W', 3, '96.86.0.45');
    pbx.addPhones('snom-d785', 'D785', 2, '10.1.33.33');
    pbx.local.set('yealink-t54w', ['96.86.0.70']);
    pbx.local.set('snom-d785', ['10.1.54.13']);
    pbx.autoUpdate.set('yealink-t54w', false);
    await runLifecycle(env, pbx, { weeklyCheck }, async (handle) => {
      const { decisions } = await handle.executeUpdate(updateNowUpdate, { args: [{ who: 'alice' }] });
      expect(decisions).toContainEqual({
        modelId: 'yealink-t54w',
        model: 'T54W',
        status: 'refused',
        reason: { code: 'auto-update-off', params: { model: 'T54W' }, text: 'Auto-Update is off for T54W' },
      });
      const snom = decisions.find((d) => d.modelId === 'snom-d785');
      expect(snom).toMatchObject({ status: 'started', targetVersion: '10.1.54.13', phones: 2 });
      if (snom?.status !== 'started') throw new Error('unreachable');
      const rollout = env.client.workflow.getHandle(snom.workflowId);
      expect(await rollout.result()).toMatchObject({
        status: 'completed',
        updated: 2,
        failed: 0,
        percent: 100,
      });
    });
    const blocks = pbx.callsOf('updatePhoneBlock') as Array<{ input: BlockInput }>;
    expect(blocks.every((b) => b.input.modelId === 'snom-d785')).toBe(true);
    expect(
      [...pbx.phones.values()]
        .filter((p) => p.modelId === 'yealink-t54w')
        .every((p) => p.version === '96.86.0.45'),
    ).toBe(true);
    expect(pbx.journal).toContainEqual(
      expect.objectContaining({
        action: 'rollout.refused',
        modelId: 'yealink-t54w',
        why: 'manual',
        who: 'alice',
      }),
    );
  });

  it('R7: a type switched off is skipped at the scheduled update too', async () => {
    const pbx = new FakePbx('r7-schedule');
    pbx.addPhones('yealink-t54w', 'T54W', 3, '96.86.0.45');
    pbx.local.set('yealink-t54w', ['96.86.0.70']);
    pbx.autoUpdate.set('yealink-t54w', false);
    pbx.settings.updateMoment = at(1, 120);
    await runLifecycle(env, pbx, { weeklyCheck }, async () => {
      await env.sleep('8 days');
    });
    expect(pbx.callsOf('updatePhoneBlock')).toHaveLength(0);
    expect(pbx.journal).toContainEqual(
      expect.objectContaining({ action: 'rollout.refused', why: 'schedule' }),
    );
  });

  it('R12: rollout progress is queryable and a second Update now while it runs reports already-running', async () => {
    const pbx = new FakePbx('progress');
    pbx.addPhones('yealink-t54w', 'T54W', 120, '96.86.0.45');
    pbx.local.set('yealink-t54w', ['96.86.0.70']);
    pbx.silentPhones.add(7);
    await runLifecycle(env, pbx, { weeklyCheck }, async (handle) => {
      const first = await handle.executeUpdate(updateNowUpdate, {
        args: [{ who: 'alice', modelIds: ['yealink-t54w'] }],
      });
      const started = first.decisions[0];
      if (started?.status !== 'started') throw new Error(`expected a start, got ${JSON.stringify(started)}`);
      // R12: one workflow id per PBX and type, so no second rollout of the type can run beside it.
      expect(started.workflowId).toBe(`pbx/progress/rollout/yealink-t54w`);
      const second = await handle.executeUpdate(updateNowUpdate, { args: [{ who: 'bob' }] });
      expect(['already-running', 'nothing-to-do']).toContain(second.decisions[0]?.status);
      const rollout = env.client.workflow.getHandle(started.workflowId);
      const result = await rollout.result();
      // One phone never came back, not in its block nor in two retries: the rollout says so in its word, not only
      // in a count, and the phone is parked.
      expect(result).toMatchObject({
        status: 'completed-with-failures',
        total: 120,
        done: 120,
        blocks: 6,
        blocksDone: 6,
        updated: 119,
        failed: 1,
        parked: 1,
        percent: 100,
        reason: { code: 'phones-failed', params: { failed: 1, total: 120 } },
      });
      expect(await rollout.query(rolloutProgressQuery)).toMatchObject({
        status: 'completed-with-failures',
        percent: 100,
      });
      const desc = await rollout.describe();
      expect(desc.typedSearchAttributes.getAll().map((p) => [p.key.name, p.value])).toEqual(
        expect.arrayContaining([
          ['PbxId', 'progress'],
          ['PhoneModel', 'yealink-t54w'],
          ['FirmwarePhase', 'rollout'],
          ['TargetVersion', '96.86.0.70'],
          ['RolloutStatus', 'completed-with-failures'],
        ]),
      );
    });
    // R12 after the canary of 5: blocks of 50; then the silent phone's two retries.
    expect(
      (pbx.callsOf('updatePhoneBlock') as Array<{ input: BlockInput }>).map((c) => c.input.phoneIds.length),
    ).toEqual([5, 50, 50, 15, 1, 1]);
  });

  it('Check now answers with what the firmware server offers, per type', async () => {
    const pbx = new FakePbx('check-now');
    pbx.addPhones('yealink-t54w', 'T54W', 1, '96.86.0.45');
    pbx.catalog.push({ releaseId: 'r70', modelIds: ['yealink-t54w'], version: '96.86.0.70' });
    await runLifecycle(env, pbx, { weeklyCheck }, async (handle) => {
      const r = await handle.executeUpdate(checkNowUpdate, { args: [{ who: 'alice' }] });
      expect(r).toMatchObject({
        catalogOk: true,
        types: [{ modelId: 'yealink-t54w', newestAvailable: '96.86.0.70', needsDownload: true }],
      });
      expect((await handle.query(statusQuery)).lastCheck?.types).toHaveLength(1);
    });
    // A manual check never schedules an automatic download (R10 follows the automatic check only).
    expect(pbx.callsOf('downloadFirmware')).toHaveLength(0);
  });

  it('rejects a malformed request before it reaches the workflow history', async () => {
    const pbx = new FakePbx('bad-input');
    await runLifecycle(env, pbx, { weeklyCheck }, async (handle) => {
      const refused = (pattern: RegExp) => ({ cause: { message: expect.stringMatching(pattern) } });
      await expect(handle.executeUpdate(updateNowUpdate, { args: [{ who: '' }] })).rejects.toMatchObject(
        refused(/who is required/),
      );
      await expect(
        handle.executeUpdate(updateNowUpdate, { args: [{ who: 'alice', modelIds: ['../etc'] }] }),
      ).rejects.toMatchObject(refused(/modelIds/));
      await expect(
        handle.executeUpdate(pbxEventUpdate, { args: [{ kind: 'upgraded', version: '', who: 'x' }] }),
      ).rejects.toMatchObject(refused(/version is required/));
      // Rejected by the validator: nothing of it is in the history.
      const history = await handle.fetchHistory();
      expect(history.events?.some((e) => e.workflowExecutionUpdateAcceptedEventAttributes)).toBe(false);
    });
    expect(pbx.callsOf('planRollouts')).toHaveLength(0);
  });

  it.each([
    ['upgraded', { kind: 'upgraded' as const, version: '9.1.0', who: 'system' }, undefined],
    ['backup-restored', { kind: 'backup-restored' as const, who: 'admin' }, undefined],
    [
      'first-account-of-type',
      { kind: 'first-account-of-type' as const, modelId: 'snom-d785', who: 'admin' },
      ['snom-d785'],
    ],
  ])('R13 (%s): check, download and update run at once for the right scope', async (_name, event, scope) => {
    const pbx = new FakePbx(`r13-${_name}`);
    pbx.addPhones('yealink-t54w', 'T54W', 4, '96.86.0.45');
    pbx.addPhones('snom-d785', 'D785', 3, '10.1.33.33');
    pbx.catalog.push({ releaseId: 'y70', modelIds: ['yealink-t54w'], version: '96.86.0.70' });
    pbx.catalog.push({ releaseId: 's54', modelIds: ['snom-d785'], version: '10.1.54.13' });
    await runLifecycle(env, pbx, { weeklyCheck }, async (handle) => {
      const r = await handle.executeUpdate(pbxEventUpdate, { args: [event] });
      expect(r.triggerWorkflowId).toMatch(new RegExp(`^pbx/r13-${_name}/trigger/${event.kind}/`));
      const result = await env.client.workflow.getHandle(r.triggerWorkflowId as string).result();
      expect(result.downloaded.length).toBe(scope ? 1 : 2);
      for (const d of result.rollouts)
        if (d.status === 'started') await env.client.workflow.getHandle(d.workflowId).result();
    });
    const checks = pbx.callsOf('checkFirmware') as Array<{ input: CheckInput }>;
    expect(checks[0]?.input).toMatchObject({ why: 'trigger', ...(scope ? { modelIds: scope } : {}) });
    if (!scope) expect(checks[0]?.input.modelIds).toBeUndefined();
    const downloaded = (pbx.callsOf('downloadFirmware') as Array<{ input: DownloadInput }>)
      .map((c) => c.input.modelId)
      .sort();
    const updated = [
      ...new Set(
        (pbx.callsOf('updatePhoneBlock') as Array<{ input: BlockInput }>).map((c) => c.input.modelId),
      ),
    ].sort();
    const want = scope ?? ['snom-d785', 'yealink-t54w'];
    expect(downloaded).toEqual(want);
    expect(updated).toEqual(want);
    const untouched = [...pbx.phones.values()].filter((p) => !want.includes(p.modelId));
    expect(untouched.every((p) => p.version === '96.86.0.45' || p.version === '10.1.33.33')).toBe(true);
  });

  it('R13 with R8 off: the trigger checks but neither downloads nor installs', async () => {
    const pbx = new FakePbx('r13-r8');
    pbx.settings.autoDownloadInstall = false;
    pbx.addPhones('yealink-t54w', 'T54W', 2, '96.86.0.45');
    pbx.catalog.push({ releaseId: 'y70', modelIds: ['yealink-t54w'], version: '96.86.0.70' });
    await runLifecycle(env, pbx, { weeklyCheck }, async (handle) => {
      const r = await handle.executeUpdate(pbxEventUpdate, {
        args: [{ kind: 'backup-restored', who: 'admin' }],
      });
      const result = await env.client.workflow.getHandle(r.triggerWorkflowId as string).result();
      expect(result.skipped).toMatch(/R8/);
    });
    expect(pbx.callsOf('checkFirmware')).toHaveLength(1);
    expect(pbx.callsOf('downloadFirmware')).toHaveLength(0);
    expect(pbx.callsOf('updatePhoneBlock')).toHaveLength(0);
  });

  it('R5: a restart event runs the clean-up and answers with what it removed', async () => {
    const pbx = new FakePbx('r5');
    pbx.addPhones('yealink-t54w', 'T54W', 1, '96.86.0.45');
    pbx.local.set('snom-d785', ['10.1.54.13']); // no account of that type left
    await runLifecycle(env, pbx, { weeklyCheck }, async (handle) => {
      const r = await handle.executeUpdate(pbxEventUpdate, { args: [{ kind: 'restarted', who: 'system' }] });
      expect(r.removed).toEqual([{ modelId: 'snom-d785', version: '10.1.54.13' }]);
    });
  });

  it('history stays bounded: the workflow continues as new every weekly cycle (12 simulated weeks)', async () => {
    const pbx = new FakePbx('bounded');
    pbx.addPhones('yealink-t54w', 'T54W', 60, '96.86.0.45');
    pbx.settings.updateMoment = at(6, 180);
    let version = 70;
    pbx.catalog.push({ releaseId: `v${version}`, modelIds: ['yealink-t54w'], version: `96.86.0.${version}` });
    await runLifecycle(env, pbx, { weeklyCheck }, async (handle) => {
      for (let week = 0; week < 12; week++) {
        await env.sleep('7 days');
        version++;
        pbx.catalog.push({
          releaseId: `v${version}`,
          modelIds: ['yealink-t54w'],
          version: `96.86.0.${version}`,
        });
      }
      const status = await handle.query(statusQuery);
      expect(status.cycle).toBeGreaterThanOrEqual(11);
      const desc = await handle.describe();
      expect(desc.historyLength).toBeLessThan(200);
    });
    // Every week: a check, an evening download, a rollout of two blocks.
    expect(pbx.callsOf('downloadFirmware').length).toBeGreaterThanOrEqual(11);
    expect(pbx.callsOf('finishRollout').length).toBeGreaterThanOrEqual(10);
  });

  it('replays a history recorded in this run without non-determinism (RECORD_HISTORIES=1 saves it as a fixture, RECORD_HISTORY_AS names it)', async () => {
    const pbx = new FakePbx('replay');
    pbx.addPhones('yealink-t54w', 'T54W', 70, '96.86.0.45');
    pbx.local.set('yealink-t54w', ['96.86.0.60']);
    pbx.catalog.push({ releaseId: 'y70', modelIds: ['yealink-t54w'], version: '96.86.0.70' });
    // The first run must hold the scheduled rollout before its weekly check ends the cycle (continue-as-new):
    // the update moment comes tomorrow, the check the day after, whatever weekday the clock starts on.
    pbx.settings.updateMoment = at(1, 180);
    const replayCheck = at(2, 600);
    const taskQueue = uniqueTaskQueue('replay');
    const worker = await Worker.create({
      connection: env.nativeConnection,
      taskQueue,
      workflowBundle: workflowBundle(),
      activities: pbx.allActivities(),
    });
    const history = await worker.runUntil(async () => {
      const handle = await env.client.workflow.start('pbxLifecycle', {
        workflowId: 'pbx/replay',
        taskQueue,
        args: [
          {
            pbxId: 'replay',
            weeklyCheck: replayCheck,
            queues: { downloads: taskQueue, phones: taskQueue },
          },
        ],
      });
      await handle.executeUpdate(checkNowUpdate, { args: [{ who: 'alice' }] });
      await env.sleep('9 days');
      const first = env.client.workflow.getHandle('pbx/replay', handle.firstExecutionRunId);
      const h = await first.fetchHistory();
      await handle.terminate();
      return h;
    });
    const kinds = new Set(history.events?.map((e) => e.eventType));
    // The run holds a manual Update, a scheduled rollout child, the weekly check, the evening download.
    for (const k of [
      temporal.api.enums.v1.EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED,
      temporal.api.enums.v1.EventType.EVENT_TYPE_START_CHILD_WORKFLOW_EXECUTION_INITIATED,
      temporal.api.enums.v1.EventType.EVENT_TYPE_TIMER_STARTED,
      temporal.api.enums.v1.EventType.EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW,
    ]) {
      expect(kinds.has(k)).toBe(true);
    }
    await Worker.runReplayHistory({ workflowBundle: workflowBundle() }, history, 'pbx/replay');
    if (process.env.RECORD_HISTORIES === '1') {
      const { History } = temporal.api.history.v1;
      writeFileSync(
        join(HISTORIES, process.env.RECORD_HISTORY_AS ?? 'pbx-lifecycle-cycle.pb'),
        History.encode(History.fromObject(history)).finish(),
      );
    }
  });

  it('replays every recorded history in test/fixtures/histories: workflow changes stay compatible with running PBXes', async () => {
    const files = readdirSync(HISTORIES).filter((f) => f.endsWith('.pb'));
    expect(files.length).toBeGreaterThan(0);
    for (const f of files) {
      const history = temporal.api.history.v1.History.decode(readFileSync(join(HISTORIES, f)));
      await Worker.runReplayHistory({ workflowBundle: workflowBundle() }, history, f);
    }
  });
});
