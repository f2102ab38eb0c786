/**
 * Rollout safety (issue 13) under time skipping: the real lifecycle and rollout workflows with an in-memory PBX
 * whose phones fail on purpose — canary and automatic halt, pause/resume/cancel as Updates, retries with backoff
 * and parking, holds, late joiners, and the maintenance window across a daylight-saving change. Every moment is
 * taken from the test server's clock.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { WorkflowHandle } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { BlockInput } from '../../activities/contracts.ts';
import { fromLocal, toLocal } from '../../domain/timing.ts';
import { repoRoot } from '../../lib/config.ts';
import {
  cancelRolloutUpdate,
  pauseRolloutUpdate,
  pbxEventUpdate,
  type RolloutSummary,
  resumeRolloutUpdate,
  retryParkedUpdate,
  rolloutProgressQuery,
  updateNowUpdate,
} from '../../workflows/messages.ts';
import type { pbxLifecycle } from '../../workflows/pbx-lifecycle.ts';
import { type Call, FakePbx } from '../support/fake-pbx.ts';
import { runLifecycle } from '../support/lifecycle.ts';
import { createTimeSkippingEnv, uniqueTaskQueue, workflowBundle } from '../support/temporal.ts';
import { weeklyMomentAfter } from '../support/test-clock.ts';
import { until } from '../support/until.ts';

const TZ = 'Europe/Berlin';
const T54W = 'yealink-t54w';
const OLD = '96.86.0.45';
const NEW = '96.86.0.70';
const MINUTE = 60_000;

type Lifecycle = WorkflowHandle<typeof pbxLifecycle>;
const blockCalls = (pbx: FakePbx) => pbx.callsOf('updatePhoneBlock') as Array<Call & { input: BlockInput }>;
const blockSizes = (pbx: FakePbx) => blockCalls(pbx).map((c) => c.input.phoneIds.length);

/** A PBX with `count` T54W phones on the old version and the new one stored. */
function pbxWith(id: string, count: number): { pbx: FakePbx; ids: number[] } {
  const pbx = new FakePbx(id);
  const ids = pbx.addPhones(T54W, 'T54W', count, OLD);
  pbx.local.set(T54W, [NEW]);
  return { pbx, ids };
}

/** A gate a block waits at until the test opens it (the block is "in progress" meanwhile). */
function blockGate() {
  let open: () => void = () => {};
  const opened = new Promise<void>((r) => {
    open = r;
  });
  return { opened, open: () => open() };
}

describe('rollout safety under time skipping (issue 13, R12, R7)', () => {
  let env: TestWorkflowEnvironment;
  let weeklyCheck: { day: number; minute: number };
  beforeEach(async () => {
    env = await createTimeSkippingEnv();
    weeklyCheck = weeklyMomentAfter(await env.currentTimeMs(), TZ, 4, 600);
  });
  afterEach(async () => {
    await env?.teardown();
  });

  /** Update now for T54W; the rollout's handle. */
  async function updateNow(lifecycle: Lifecycle) {
    const { decisions } = await lifecycle.executeUpdate(updateNowUpdate, {
      args: [{ who: 'alice', modelIds: [T54W] }],
    });
    const d = decisions[0];
    if (d?.status !== 'started') throw new Error(`expected a start, got ${JSON.stringify(d)}`);
    return env.client.workflow.getHandle<() => Promise<RolloutSummary>>(d.workflowId);
  }
  const statusOf = (h: WorkflowHandle) => h.query(rolloutProgressQuery);
  const awaitStatus = (h: WorkflowHandle, status: RolloutSummary['status']) =>
    until(
      `the rollout to be ${status}`,
      () => statusOf(h),
      (p) => p.status === status,
      30_000,
    );
  const searchStatus = async (h: WorkflowHandle) =>
    (await h.describe()).typedSearchAttributes.getAll().find((p) => p.key.name === 'RolloutStatus')?.value;
  const details = async (h: WorkflowHandle) =>
    ((await h.query('__temporal_workflow_metadata')) as { currentDetails: string }).currentDetails;

  it('issue 13 canary + halt: a bad release halts after the canary — no further phone is touched, and the halt is in the query, the current details, the search attribute and the journal with phones and reasons', async () => {
    const { pbx, ids } = pbxWith('bad-release', 120);
    for (const id of ids) pbx.silentPhones.add(id); // the release bricks every phone it reaches
    pbx.offlinePhones.add(ids[0] as number); // offline: never chosen for the canary while others are registered
    await runLifecycle(env, pbx, { weeklyCheck }, async (lifecycle) => {
      const rollout = await updateNow(lifecycle);
      const halted = await awaitStatus(rollout, 'halted');
      expect(halted).toMatchObject({
        status: 'halted',
        reason: { code: 'canary-failed', params: { failed: 5, phones: 5, version: NEW } },
        blocksDone: 1,
        currentBlock: null,
        policy: { canarySize: 5, haltFailedPercent: 10, haltFailedBlocksInRow: 2, maxAttempts: 3 },
      });
      expect(await searchStatus(rollout)).toBe('halted');
      expect(await details(rollout)).toMatch(/\*\*halted\*\*[\s\S]*the canary did not succeed/);
      // Hours pass: no retry, no further block — nothing of the type is touched until an admin decides.
      await env.sleep('6 hours');
      expect((await statusOf(rollout)).status).toBe('halted');
      await rollout.executeUpdate(cancelRolloutUpdate, { args: [{ who: 'alice' }] });
    });
    expect(blockSizes(pbx)).toEqual([5]);
    // The canary: registered phones first (phone 1 is offline), in account order.
    expect(blockCalls(pbx)[0]?.input.phoneIds).toEqual(ids.slice(1, 6));
    const halt = pbx.journal.find((j) => j.action === 'rollout.halted');
    expect(halt).toMatchObject({
      why: 'system',
      details: { status: 'halted', block: 1, canary: true, reason: expect.stringMatching(/canary/) },
    });
    expect(halt?.details?.phones).toHaveLength(5);
    expect(halt?.details?.phones).toContainEqual(
      expect.objectContaining({ outcome: 'no-answer', attempt: 1 }),
    );
  });

  it('issue 13 resume: a halted rollout continues with the next block that had not started (not the canary again); the failed phone is retried later', async () => {
    const { pbx, ids } = pbxWith('resume', 60);
    pbx.failAttempts.set(ids[2] as number, 1); // a canary phone fails once, then takes the firmware
    await runLifecycle(env, pbx, { weeklyCheck }, async (lifecycle) => {
      const rollout = await updateNow(lifecycle);
      await awaitStatus(rollout, 'halted');
      await env.sleep('1 hour');
      expect(blockSizes(pbx)).toEqual([5]);
      const resumed = await rollout.executeUpdate(resumeRolloutUpdate, { args: [{ who: 'bob' }] });
      expect(resumed.status).toBe('running');
      // Resuming something that is not halted or paused is refused, before it reaches the history.
      await expect(
        rollout.executeUpdate(resumeRolloutUpdate, { args: [{ who: 'bob' }] }),
      ).rejects.toMatchObject({ cause: { message: expect.stringMatching(/not paused or halted/) } });
      expect(await rollout.result()).toMatchObject({ status: 'completed', updated: 60, failed: 0 });
    });
    const calls = blockCalls(pbx);
    expect(calls.map((c) => c.input.phoneIds.length)).toEqual([5, 50, 5, 1]);
    expect(calls[1]?.input.phoneIds).toEqual(ids.slice(5, 55));
    expect(calls[3]?.input.phoneIds).toEqual([ids[2]]);
    // Nothing ran while it was halted: the next block came only after the admin's resume.
    expect((calls[1]?.at as number) - (calls[0]?.at as number)).toBeGreaterThanOrEqual(60 * MINUTE);
    expect(pbx.journal.map((j) => j.action)).toEqual(
      expect.arrayContaining(['rollout.halted', 'rollout.resumed']),
    );
    expect(pbx.journal.find((j) => j.action === 'rollout.resumed')).toMatchObject({ who: 'bob' });
  });

  it('issue 13 pause: a pause during a block lets that block finish and starts no further one until resumed', async () => {
    const { pbx } = pbxWith('pause', 120);
    const gate = blockGate();
    pbx.beforeBlock = (input) => (input.block === 1 ? gate.opened : undefined);
    await runLifecycle(env, pbx, { weeklyCheck }, async (lifecycle) => {
      const rollout = await updateNow(lifecycle);
      await until(
        'block 2 to run',
        async () => blockCalls(pbx).length,
        (n) => n === 2,
        30_000,
      );
      const paused = await rollout.executeUpdate(pauseRolloutUpdate, { args: [{ who: 'alice' }] });
      expect(paused).toMatchObject({
        status: 'paused',
        currentBlock: 2,
        reason: { code: 'paused-by-admin', params: { who: 'alice' } },
      });
      expect(await searchStatus(rollout)).toBe('paused');
      gate.open();
      await until(
        'block 2 to be recorded',
        () => statusOf(rollout),
        (p) => p.blocksDone === 2,
        30_000,
      );
      await env.sleep('3 hours');
      expect(blockSizes(pbx)).toEqual([5, 50]);
      await expect(
        rollout.executeUpdate(pauseRolloutUpdate, { args: [{ who: 'alice' }] }),
      ).rejects.toMatchObject({ cause: { message: expect.stringMatching(/paused already/) } });
      await rollout.executeUpdate(resumeRolloutUpdate, { args: [{ who: 'alice' }] });
      expect(await rollout.result()).toMatchObject({ status: 'completed', updated: 120 });
    });
    expect(blockSizes(pbx)).toEqual([5, 50, 50, 15]);
  });

  it('issue 13 cancel: cancelling during a block ends the rollout cancelled and withdraws the approvals of every phone not yet updated', async () => {
    const { pbx, ids } = pbxWith('cancel', 60);
    const gate = blockGate();
    pbx.beforeBlock = (input) => (input.block === 1 ? gate.opened : undefined);
    await runLifecycle(env, pbx, { weeklyCheck }, async (lifecycle) => {
      const rollout = await updateNow(lifecycle);
      await until(
        'block 2 to hold approvals',
        async () => pbx.approvals.size,
        (n) => n === 50,
        30_000,
      );
      const cancelled = await rollout.executeUpdate(cancelRolloutUpdate, { args: [{ who: 'carol' }] });
      expect(cancelled).toMatchObject({
        status: 'cancelled',
        reason: { code: 'cancelled-by-admin', params: { who: 'carol' } },
        updated: 5,
        skipped: 55,
      });
      expect(await searchStatus(rollout)).toBe('cancelled');
      expect(await rollout.result()).toMatchObject({ status: 'cancelled' });
      await expect(
        rollout.executeUpdate(resumeRolloutUpdate, { args: [{ who: 'carol' }] }),
      ).rejects.toThrow();
    });
    gate.open();
    expect(pbx.approvals.size).toBe(0);
    expect(ids.slice(5).every((id) => pbx.phones.get(id)?.version === OLD)).toBe(true);
    expect(pbx.callsOf('finishRollout')[0]?.input).toMatchObject({
      stopped: { status: 'cancelled', reason: { code: 'cancelled-by-admin' } },
    });
  });

  it('issue 13 retries: a failed phone is tried again after 5 and then 15 more minutes (3 attempts), then parked with its last outcome; retry blocks do not halt', async () => {
    const { pbx, ids } = pbxWith('retries', 60);
    const flaky = ids[10] as number; // block 2: fails twice, then updates
    const dead = ids[20] as number; // block 2: never comes back
    pbx.failAttempts.set(flaky, 2);
    pbx.silentPhones.add(dead);
    await runLifecycle(env, pbx, { weeklyCheck }, async (lifecycle) => {
      const rollout = await updateNow(lifecycle);
      expect(await rollout.result()).toMatchObject({
        status: 'completed-with-failures',
        updated: 59,
        failed: 1,
        parked: 1,
        retrying: 0,
      });
    });
    const attempts = (id: number) => blockCalls(pbx).filter((c) => c.input.phoneIds.includes(id));
    expect(attempts(flaky)).toHaveLength(3);
    expect(attempts(dead)).toHaveLength(3);
    const [a1, a2, a3] = attempts(dead).map((c) => c.at) as [number, number, number];
    expect(a2 - a1).toBeGreaterThanOrEqual(5 * MINUTE);
    expect(a2 - a1).toBeLessThan(6 * MINUTE);
    expect(a3 - a2).toBeGreaterThanOrEqual(15 * MINUTE);
    expect(a3 - a2).toBeLessThan(16 * MINUTE);
    const [rollout] = [...pbx.rollouts.values()];
    expect(rollout?.outcomes.get(flaky)).toBe('updated');
    expect(rollout?.outcomes.get(dead)).toBe('parked');
    expect(rollout?.record.get(dead)).toMatchObject({ attempts: 3, lastOutcome: 'no-answer' });
    // One failed phone in a block of 50 (2 %), a clean block after it, then blocks of retries: no halt.
    expect(pbx.journal.some((j) => j.action === 'rollout.halted')).toBe(false);
  });

  it('issue 13 retry parked: the admin retries a parked phone of an open rollout; it gets its attempts afresh and is updated in the same rollout', async () => {
    const { pbx, ids } = pbxWith('retry-parked', 60);
    const dead = ids[20] as number;
    pbx.silentPhones.add(dead);
    // While the dead phone has its third attempt, another phone registers and is offline when its block runs: the
    // rollout stays open (that one waits for its retry) after the dead one is parked.
    pbx.beforeBlock = (input) => {
      const third = pbx.attemptsLog.filter((a) => a.phoneId === dead).length === 2;
      if (input.phoneIds.includes(dead) && third) {
        late = pbx.addPhones(T54W, 'T54W', 1, OLD)[0] as number;
        pbx.offlinePhones.add(late); // its registration lapses before its block: unreachable, retried
      }
    };
    let late = 0;
    await runLifecycle(env, pbx, { weeklyCheck }, async (lifecycle) => {
      const rollout = await updateNow(lifecycle);
      await env.sleep('21 minutes');
      expect(await statusOf(rollout)).toMatchObject({ status: 'running', parked: 1, retrying: 1 });
      pbx.silentPhones.delete(dead); // fixed on site; the admin retries it
      pbx.offlinePhones.delete(late);
      const { phoneIds, rollout: after } = await rollout.executeUpdate(retryParkedUpdate, {
        args: [{ who: 'dave' }],
      });
      expect(phoneIds).toEqual([dead]);
      expect(after).toMatchObject({ parked: 0, retrying: 2 });
      expect(await rollout.result()).toMatchObject({ status: 'completed', updated: 61, parked: 0 });
    });
    expect(blockCalls(pbx).filter((c) => c.input.phoneIds.includes(dead))).toHaveLength(4);
    expect(pbx.callsOf('unparkPhones')[0]?.input).toMatchObject({ who: 'dave' });
  });

  it('issue 13 threshold: exactly 10 % of a block failing is not more than 10 % — the rollout goes on and retries them', async () => {
    const { pbx, ids } = pbxWith('ten-percent', 60);
    for (const id of ids.slice(5, 10)) pbx.failAttempts.set(id, 1);
    await runLifecycle(env, pbx, { weeklyCheck }, async (lifecycle) => {
      const rollout = await updateNow(lifecycle);
      expect(await rollout.result()).toMatchObject({ status: 'completed', updated: 60 });
    });
    expect(pbx.journal.some((j) => j.action === 'rollout.halted')).toBe(false);
    expect(blockSizes(pbx)).toEqual([5, 50, 5, 5]);
  });

  it('issue 13 threshold: more than 10 % of the phones offered the firmware in a block failing halts it; offline phones do not count', async () => {
    const { pbx, ids } = pbxWith('rate', 120);
    for (const id of ids.slice(5, 11)) pbx.silentPhones.add(id); // 6 fail
    for (const id of ids.slice(20, 40)) pbx.offlinePhones.add(id); // 20 unreachable: not the release's fault
    await runLifecycle(env, pbx, { weeklyCheck }, async (lifecycle) => {
      const rollout = await updateNow(lifecycle);
      expect(await awaitStatus(rollout, 'halted')).toMatchObject({
        reason: { code: 'block-failure-rate', params: { failed: 6, phones: 30, block: 2, percent: 10 } },
      });
      const cancelled = await rollout.executeUpdate(cancelRolloutUpdate, { args: [{ who: 'alice' }] });
      // The 26 that failed (and waited for their retry) keep their failure; the blocks never run are skipped.
      expect(cancelled).toMatchObject({ status: 'cancelled', updated: 5 + 24, failed: 26, skipped: 65 });
    });
    expect(blockSizes(pbx)).toEqual([5, 50]);
  });

  it('issue 13 threshold: 2 blocks in a row with failed phones halt the rollout', async () => {
    const { pbx, ids } = pbxWith('in-a-row', 160);
    pbx.silentPhones.add(ids[10] as number); // block 2
    pbx.silentPhones.add(ids[60] as number); // block 3
    await runLifecycle(env, pbx, { weeklyCheck }, async (lifecycle) => {
      const rollout = await updateNow(lifecycle);
      expect(await awaitStatus(rollout, 'halted')).toMatchObject({
        reason: { code: 'failed-blocks-in-row', params: { blocks: 2, first: 2, block: 3 } },
      });
      await rollout.executeUpdate(cancelRolloutUpdate, { args: [{ who: 'alice' }] });
    });
    expect(blockSizes(pbx)).toEqual([5, 50, 50]);
  });

  it('issue 13 canary size: per PBX and per rollout, at most 50', async () => {
    const { pbx } = pbxWith('canary-size', 70);
    pbx.rolloutPolicy = { canarySize: 12 };
    await runLifecycle(env, pbx, { weeklyCheck }, async (lifecycle) => {
      const rollout = await updateNow(lifecycle);
      await rollout.result();
    });
    expect(blockSizes(pbx)).toEqual([12, 50, 8]);
  });

  it('issue 13 hold: a type held at its version never moves — not by Update now, the weekly update, an R13 trigger; a hold set during a rollout stops it before its next block', async () => {
    const { pbx } = pbxWith('held', 60);
    pbx.holds.set(T54W, OLD);
    pbx.catalog.push({ releaseId: 'y80', modelIds: [T54W], version: '96.86.0.80' });
    pbx.settings.updateMoment = weeklyMomentAfter(await env.currentTimeMs(), TZ, 1, 180);
    await runLifecycle(env, pbx, { weeklyCheck }, async (lifecycle) => {
      const { decisions } = await lifecycle.executeUpdate(updateNowUpdate, { args: [{ who: 'alice' }] });
      expect(decisions).toEqual([
        expect.objectContaining({
          status: 'nothing-to-do',
          reason: expect.objectContaining({ code: 'type-held', params: { model: 'T54W', version: OLD } }),
        }),
      ]);
      const event = await lifecycle.executeUpdate(pbxEventUpdate, {
        args: [{ kind: 'backup-restored', who: 'admin' }],
      });
      await env.client.workflow.getHandle(event.triggerWorkflowId as string).result();
      await env.sleep('8 days'); // the weekly update moment, the weekly check and its evening download pass
    });
    expect(pbx.callsOf('downloadFirmware').length).toBeGreaterThan(0);
    expect(blockCalls(pbx)).toHaveLength(0);
    expect([...pbx.phones.values()].every((p) => p.version === OLD)).toBe(true);

    const during = pbxWith('held-during', 120);
    during.pbx.beforeBlock = (input) => {
      if (input.block === 1) during.pbx.holds.set(T54W, OLD);
    };
    await runLifecycle(env, during.pbx, { weeklyCheck }, async (lifecycle) => {
      const rollout = await updateNow(lifecycle);
      expect(await rollout.result()).toMatchObject({
        status: 'cancelled',
        updated: 55,
        reason: { code: 'type-held', params: { version: OLD } },
      });
    });
    expect(blockSizes(during.pbx)).toEqual([5, 50]);
  });

  it('issue 13 late joiners: a phone that reports an older version while the rollout runs is updated in the same rollout', async () => {
    const { pbx } = pbxWith('late', 60);
    const [neverSeen] = pbx.addPhones(T54W, 'T54W', 1, null); // set up, not contacted when the rollout starts
    let late: number | undefined;
    pbx.beforeBlock = (input) => {
      if (input.block !== 0) return;
      late = pbx.addPhones(T54W, 'T54W', 1, OLD)[0]; // registers during the canary
      pbx.phones.set(neverSeen as number, { modelId: T54W, version: OLD }); // and this one reports at last
    };
    await runLifecycle(env, pbx, { weeklyCheck }, async (lifecycle) => {
      const rollout = await updateNow(lifecycle);
      expect(await rollout.result()).toMatchObject({
        status: 'completed',
        total: 62,
        updated: 62,
        notContacted: 0,
      });
    });
    const [rollout] = [...pbx.rollouts.values()];
    expect(rollout?.record.get(late as number)).toMatchObject({ joined: true, attempts: 1, plannedBlock: 2 });
    expect(rollout?.record.get(neverSeen as number)).toMatchObject({ joined: true, attempts: 1 });
    expect(pbx.phones.get(late as number)?.version).toBe(NEW);
    // They filled the last planned block (5 + 50 + 5 → 5 + 50 + 7): no block beyond 50 (R12).
    expect(blockSizes(pbx)).toEqual([5, 50, 7]);
  });

  it('issue 13 window: a rollout outside its maintenance window waits for it; one that reaches the window end pauses and goes on at the next start, across the spring-forward change (Europe/Berlin)', async () => {
    // Place the clock on the Saturday before the next last Sunday of March, 03:57 local.
    const now = await env.currentTimeMs();
    const sunday = nextSpringForwardSunday(now + 2 * 24 * 60 * MINUTE, TZ);
    const saturday0357 = fromLocal({ ...sunday, day: sunday.day - 1, hour: 3, minute: 57 }, TZ);
    await env.sleep(saturday0357 - now);
    const { pbx, ids } = pbxWith('window', 60);
    pbx.window = { startMinute: 3 * 60, endMinute: 4 * 60 }; // 03:00–04:00 local
    pbx.failAttempts.set(ids[10] as number, 1); // its retry is due at 04:02, after the window closed
    const check = weeklyMomentAfter(saturday0357, TZ, 4, 600);
    let pausedFor: RolloutSummary | undefined;
    await runLifecycle(env, pbx, { weeklyCheck: check }, async (lifecycle) => {
      const rollout = await updateNow(lifecycle);
      await env.sleep('10 minutes');
      pausedFor = await awaitStatus(rollout, 'paused');
      expect(await searchStatus(rollout)).toBe('paused');
      // Resume is not for a window: it goes on by itself.
      await expect(
        rollout.executeUpdate(resumeRolloutUpdate, { args: [{ who: 'alice' }] }),
      ).rejects.toMatchObject({ cause: { message: expect.stringMatching(/maintenance window/) } });
      expect(await rollout.result()).toMatchObject({ status: 'completed', updated: 60 });
    });
    const sunday0300 = fromLocal({ ...sunday, hour: 3, minute: 0 }, TZ);
    expect(pausedFor?.reason).toMatchObject({
      code: 'outside-window',
      params: { start: '03:00', end: '04:00', timeZone: TZ, opensAt: new Date(sunday0300).toISOString() },
    });
    const calls = blockCalls(pbx);
    expect(calls.map((c) => c.input.phoneIds.length)).toEqual([5, 50, 5, 1]);
    const retry = calls[3] as Call;
    expect(retry.at).toBeGreaterThanOrEqual(sunday0300);
    expect(retry.at - sunday0300).toBeLessThan(MINUTE);
    // The night is an hour short: Sunday 03:00 (CEST) comes 22 h after Saturday 04:00 (CET), not 23 h.
    expect(sunday0300 - fromLocal({ ...sunday, day: sunday.day - 1, hour: 4, minute: 0 }, TZ)).toBe(
      22 * 60 * MINUTE,
    );
    expect(toLocal(retry.at, TZ)).toMatchObject({ hour: 3, day: sunday.day });
    expect(pbx.journal.map((j) => j.action)).toEqual(
      expect.arrayContaining(['rollout.waiting-for-window', 'rollout.window-opened']),
    );
  });

  it('issue 13 window: Update now outside the window starts no block before the window opens', async () => {
    const now = await env.currentTimeMs();
    const { pbx } = pbxWith('window-closed', 10);
    const l = toLocal(now, TZ);
    // A one-hour window that opens two hours from now (local), whatever the hour.
    const start = (l.hour * 60 + l.minute + 120) % 1440;
    pbx.window = { startMinute: start, endMinute: (start + 60) % 1440 };
    await runLifecycle(env, pbx, { weeklyCheck }, async (lifecycle) => {
      const rollout = await updateNow(lifecycle);
      expect(await awaitStatus(rollout, 'paused')).toMatchObject({ reason: { code: 'outside-window' } });
      await rollout.result();
    });
    const first = blockCalls(pbx)[0]?.at as number;
    expect(first - now).toBeGreaterThanOrEqual(119 * MINUTE);
    expect(first - now).toBeLessThan(122 * MINUTE);
  });

  it('replays a rollout history with halt, resume, retries and a late joiner (RECORD_HISTORIES=1 saves it as a fixture)', async () => {
    const { pbx, ids } = pbxWith('replay-rollout', 70);
    pbx.failAttempts.set(ids[1] as number, 1);
    pbx.silentPhones.add(ids[30] as number);
    pbx.beforeBlock = (input) => {
      if (input.block === 1 && pbx.phones.size === 70) pbx.addPhones(T54W, 'T54W', 1, OLD);
    };
    const taskQueue = uniqueTaskQueue('replay-rollout');
    const worker = await Worker.create({
      connection: env.nativeConnection,
      taskQueue,
      workflowBundle: workflowBundle(),
      activities: pbx.allActivities(),
    });
    const history = await worker.runUntil(async () => {
      const lifecycle = await env.client.workflow.start<typeof pbxLifecycle>('pbxLifecycle', {
        workflowId: 'pbx/replay-rollout',
        taskQueue,
        args: [{ pbxId: 'replay-rollout', weeklyCheck, queues: { downloads: taskQueue, phones: taskQueue } }],
      });
      const rollout = await updateNow(lifecycle);
      await awaitStatus(rollout, 'halted');
      await rollout.executeUpdate(resumeRolloutUpdate, { args: [{ who: 'alice' }] });
      await rollout.result();
      const h = await rollout.fetchHistory();
      await lifecycle.terminate();
      return h;
    });
    const kinds = new Set(history.events?.map((e) => e.eventType));
    for (const k of [
      temporal.api.enums.v1.EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED,
      temporal.api.enums.v1.EventType.EVENT_TYPE_TIMER_STARTED,
      temporal.api.enums.v1.EventType.EVENT_TYPE_MARKER_RECORDED,
    ]) {
      expect(kinds.has(k)).toBe(true);
    }
    await Worker.runReplayHistory({ workflowBundle: workflowBundle() }, history, 'replay-rollout');
    if (process.env.RECORD_HISTORIES === '1') {
      const { History } = temporal.api.history.v1;
      writeFileSync(
        join(repoRoot, 'test/fixtures/histories/phone-rollout-safety.pb'),
        History.encode(History.fromObject(history)).finish(),
      );
    }
  });
});

/** The local date of the next last Sunday of March (the EU spring-forward) after `afterMs`. */
function nextSpringForwardSunday(afterMs: number, timeZone: string) {
  for (let year = toLocal(afterMs, timeZone).year; ; year++) {
    const march31 = new Date(Date.UTC(year, 2, 31));
    const day = 31 - march31.getUTCDay();
    const at = fromLocal({ year, month: 3, day, hour: 0, minute: 0 }, timeZone);
    if (at > afterMs) return { year, month: 3, day };
  }
}
