/**
 * What a rollout says is what its phones did, and every way it can end records its end (R12, R7, R13): the real
 * workflows on the time-skipping server, with an in-memory PBX whose phones can fail on purpose.
 */
import { ApplicationFailure } from '@temporalio/common';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { BlockInput } from '../../activities/contracts.ts';
import {
  pbxEventUpdate,
  resumeRolloutUpdate,
  rolloutProgressQuery,
  type TriggerResult,
  updateNowUpdate,
} from '../../workflows/messages.ts';
import { FakePbx } from '../support/fake-pbx.ts';
import { runLifecycle } from '../support/lifecycle.ts';
import { connectDevServer, createTimeSkippingEnv } from '../support/temporal.ts';
import { weeklyMomentAfter } from '../support/test-clock.ts';
import { until } from '../support/until.ts';

const TZ = 'Europe/Berlin';

describe('rollouts tell the truth (R12, R7, R13)', () => {
  let env: TestWorkflowEnvironment;
  let weeklyCheck: { day: number; minute: number };
  beforeEach(async () => {
    env = await createTimeSkippingEnv();
    weeklyCheck = weeklyMomentAfter(await env.currentTimeMs(), TZ, 4, 600);
  });
  afterEach(async () => {
    await env?.teardown();
  });

  const updateNow = async (pbx: FakePbx, modelIds?: string[]) => {
    let decisions: Awaited<ReturnType<typeof startUpdate>> = [];
    const startUpdate = async (handle: Parameters<Parameters<typeof runLifecycle>[3]>[0]) =>
      (
        await handle.executeUpdate(updateNowUpdate, {
          args: [{ who: 'alice', ...(modelIds ? { modelIds } : {}) }],
        })
      ).decisions;
    return {
      decisions: () => decisions,
      run: (body?: (workflowId: string) => Promise<void>) =>
        runLifecycle(env, pbx, { weeklyCheck }, async (handle) => {
          decisions = await startUpdate(handle);
          for (const d of decisions) if (d.status === 'started') await body?.(d.workflowId);
        }),
    };
  };

  it('R12: a rollout in which no phone came back is failed — in its result, its search attribute, the Temporal execution and the record', async () => {
    const pbx = new FakePbx('all-fail');
    const ids = pbx.addPhones('yealink-t54w', 'T54W', 4, '96.86.0.45');
    pbx.local.set('yealink-t54w', ['96.86.0.70']);
    for (const id of ids) pbx.silentPhones.add(id);
    const u = await updateNow(pbx);
    await u.run(async (workflowId) => {
      const handle = env.client.workflow.getHandle(workflowId);
      // The canary (all four) fails: the rollout halts; the admin lets it go on, every phone fails its three
      // attempts and is parked, and the run ends failed.
      await until(
        'the canary to halt the rollout',
        () => handle.query(rolloutProgressQuery),
        (p) => p.status === 'halted',
      );
      await handle.executeUpdate(resumeRolloutUpdate, { args: [{ who: 'alice' }] });
      const failure = await handle.result().then(
        () => null,
        (err: unknown) => err,
      );
      // The execution itself failed, carrying the same summary as its result would.
      const cause = (failure as { cause?: unknown })?.cause;
      expect(cause).toBeInstanceOf(ApplicationFailure);
      expect((cause as ApplicationFailure).type).toBe('RolloutFailed');
      expect((cause as ApplicationFailure).details?.[0]).toMatchObject({
        status: 'failed',
        updated: 0,
        failed: 4,
        parked: 4,
        total: 4,
        reason: { code: 'no-phone-updated' },
      });
      const desc = await handle.describe();
      expect(desc.status.name).toBe('FAILED');
      expect(desc.typedSearchAttributes.getAll().find((p) => p.key.name === 'RolloutStatus')?.value).toBe(
        'failed',
      );
    });
    expect([...pbx.rollouts.values()].map((r) => r.status)).toEqual(['failed']);
  });

  it('R12: phones never contacted are counted and named as such, never silently left out', async () => {
    const pbx = new FakePbx('uncontacted');
    pbx.addPhones('yealink-t54w', 'T54W', 1, '96.86.0.45');
    pbx.addPhones('yealink-t54w', 'T54W', 1, null); // set up, never seen by the PBX
    pbx.local.set('yealink-t54w', ['96.86.0.70']);
    const u = await updateNow(pbx);
    await u.run(async (workflowId) => {
      const result = await env.client.workflow.getHandle(workflowId).result();
      expect(result).toMatchObject({
        status: 'completed-with-failures',
        total: 2,
        updated: 1,
        notContacted: 1,
        failed: 0,
        reason: { code: 'phones-failed', params: { failed: 1, total: 2 } },
      });
      expect(result.summary).toMatch(/1 updated · 0 failed · 1 not contacted of 2 phones/);
    });
  });

  it('R7: Auto-Update switched off during a rollout stops it before the next block (after the canary); it ends cancelled, the rest skipped', async () => {
    const pbx = new FakePbx('r7-midway');
    pbx.addPhones('yealink-t54w', 'T54W', 120, '96.86.0.45');
    pbx.local.set('yealink-t54w', ['96.86.0.70']);
    let blocks = 0;
    pbx.beforeBlock = () => {
      blocks++;
      if (blocks === 1) pbx.autoUpdate.set('yealink-t54w', false);
    };
    const u = await updateNow(pbx);
    await u.run(async (workflowId) => {
      const result = await env.client.workflow.getHandle(workflowId).result();
      expect(result).toMatchObject({
        status: 'cancelled',
        updated: 5,
        skipped: 115,
        blocksDone: 1,
        reason: { code: 'auto-update-switched-off' },
      });
    });
    expect(pbx.callsOf('updatePhoneBlock')).toHaveLength(1);
    expect([...pbx.phones.values()].filter((p) => p.version === '96.86.0.70')).toHaveLength(5);
  });

  it('R7: a block refused because Auto-Update went off (AutoUpdateOff) ends the rollout cancelled and recorded', async () => {
    const pbx = new FakePbx('r7-refused-block');
    pbx.addPhones('snom-d785', 'D785', 60, '10.1.33.33');
    pbx.local.set('snom-d785', ['10.1.54.13']);
    pbx.beforeBlock = (input: BlockInput) => {
      if (input.block === 1) {
        throw ApplicationFailure.create({
          type: 'AutoUpdateOff',
          message: 'Auto-Update is off',
          nonRetryable: true,
        });
      }
    };
    const u = await updateNow(pbx);
    await u.run(async (workflowId) => {
      expect(await env.client.workflow.getHandle(workflowId).result()).toMatchObject({
        status: 'cancelled',
        updated: 5,
        skipped: 55,
        reason: { code: 'auto-update-switched-off' },
      });
    });
    expect(pbx.callsOf('finishRollout')).toHaveLength(1);
  });

  it('R12: a rollout waits out a long outage of its dependencies and goes on (retries count time, not a few attempts)', async () => {
    const pbx = new FakePbx('outage');
    pbx.addPhones('snom-d785', 'D785', 3, '10.1.33.33');
    pbx.local.set('snom-d785', ['10.1.54.13']);
    let failures = 0;
    pbx.beforeBlock = () => {
      // Postgres away for a dozen attempts (with the 1 min backoff cap: well over the 7.5 min that failed it).
      if (failures++ < 12)
        throw ApplicationFailure.create({ message: 'connect ECONNREFUSED 127.0.0.1:5432' });
    };
    const u = await updateNow(pbx);
    await u.run(async (workflowId) => {
      expect(await env.client.workflow.getHandle(workflowId).result()).toMatchObject({
        status: 'completed',
        updated: 3,
      });
    });
    expect(pbx.callsOf('updatePhoneBlock')).toHaveLength(13);
    const attempts = pbx.callsOf('updatePhoneBlock').map((c) => c.at);
    expect((attempts.at(-1) as number) - (attempts[0] as number)).toBeGreaterThan(7.5 * 60_000);
  });

  it('R12: a block that cannot run ends the rollout failed with the reason, and the record says so (never "running" forever)', async () => {
    const pbx = new FakePbx('invalid-block');
    pbx.addPhones('snom-d785', 'D785', 3, '10.1.33.33');
    pbx.local.set('snom-d785', ['10.1.54.13']);
    pbx.beforeBlock = () => {
      throw ApplicationFailure.create({
        type: 'InvalidBlock',
        message: 'the file is missing',
        nonRetryable: true,
      });
    };
    const u = await updateNow(pbx);
    await u.run(async (workflowId) => {
      await expect(env.client.workflow.getHandle(workflowId).result()).rejects.toThrow();
    });
    const [r] = [...pbx.rollouts.values()];
    expect(r).toMatchObject({ status: 'failed', reason: { code: 'block-failed' } });
    expect(r?.reason?.text).toMatch(/the file is missing/);
  });

  it('R12: a rollout terminated from outside is recorded as ended by the workflow that started it', async () => {
    // On the dev server (the Java test server does not tell a parent that its child was terminated).
    const dev = await connectDevServer();
    const pbx = new FakePbx('terminated');
    pbx.addPhones('snom-d785', 'D785', 3, '10.1.33.33');
    pbx.local.set('snom-d785', ['10.1.54.13']);
    pbx.beforeBlock = () => {
      throw ApplicationFailure.create({ message: 'edge busy' }); // retried; the operator terminates meanwhile
    };
    await runLifecycle(dev, pbx, { weeklyCheck }, async (handle) => {
      const { decisions } = await handle.executeUpdate(updateNowUpdate, { args: [{ who: 'alice' }] });
      const started = decisions[0];
      if (started?.status !== 'started') throw new Error(`expected a start, got ${JSON.stringify(started)}`);
      await expect.poll(() => pbx.callsOf('updatePhoneBlock').length, { timeout: 20_000 }).toBeGreaterThan(0);
      await dev.client.workflow.getHandle(started.workflowId).terminate('operator');
      await expect.poll(() => pbx.callsOf('settleRollout').length, { timeout: 20_000 }).toBe(1);
    });
    expect(pbx.callsOf('settleRollout')[0]?.input).toMatchObject({ closeStatus: 'terminated' });
    expect([...pbx.rollouts.values()][0]).toMatchObject({
      status: 'cancelled',
      reason: { code: 'workflow-closed' },
    });
  });

  it('R12: one rollout per PBX and type whoever starts it — a trigger while a manual rollout runs gets "already running", naming it', async () => {
    const pbx = new FakePbx('one-per-type');
    pbx.addPhones('yealink-t54w', 'T54W', 120, '96.86.0.45');
    pbx.local.set('yealink-t54w', ['96.86.0.70']);
    pbx.catalog.push({ releaseId: 'y80', modelIds: ['yealink-t54w'], version: '96.86.0.80' });
    let inBlocks = 0;
    let maxInBlocks = 0;
    pbx.beforeBlock = async () => {
      inBlocks++;
      maxInBlocks = Math.max(maxInBlocks, inBlocks);
      await new Promise((r) => setTimeout(r, 700)); // a block takes a while: the trigger comes while one runs
      inBlocks--;
    };
    await runLifecycle(env, pbx, { weeklyCheck }, async (handle) => {
      const manual = await handle.executeUpdate(updateNowUpdate, { args: [{ who: 'alice' }] });
      expect(manual.decisions[0]).toMatchObject({ status: 'started', targetVersion: '96.86.0.70' });
      const event = await handle.executeUpdate(pbxEventUpdate, {
        args: [{ kind: 'upgraded', version: '9.1', who: 'system' }],
      });
      const trigger = await env.client.workflow.getHandle(event.triggerWorkflowId as string).result();
      expect((trigger as TriggerResult).rollouts).toEqual([
        expect.objectContaining({
          status: 'already-running',
          workflowId: 'pbx/one-per-type/rollout/yealink-t54w',
          targetVersion: '96.86.0.70',
          reason: expect.objectContaining({ code: 'already-running' }),
        }),
      ]);
      const started = manual.decisions[0];
      if (started?.status === 'started') await env.client.workflow.getHandle(started.workflowId).result();
    });
    const targets = new Set(
      (pbx.callsOf('updatePhoneBlock') as Array<{ input: BlockInput }>).map((c) => c.input.targetVersion),
    );
    expect(targets).toEqual(new Set(['96.86.0.70']));
    expect(maxInBlocks).toBe(1);
  });

  it('R13: five first accounts of five new types at once give five trigger runs', async () => {
    const pbx = new FakePbx('five-new');
    const models = ['yealink-t54w', 'yealink-t46u', 'snom-d785', 'grandstream-ht802', 'gigaset-n670'];
    for (const m of models) pbx.addPhones(m, m.toUpperCase(), 1, '1.0.0.1');
    await runLifecycle(env, pbx, { weeklyCheck }, async (handle) => {
      const results = await Promise.all(
        models.map((modelId) =>
          handle.executeUpdate(pbxEventUpdate, {
            args: [{ kind: 'first-account-of-type', modelId, who: 'admin' }],
          }),
        ),
      );
      const ids = results.map((r) => r.triggerWorkflowId);
      expect(new Set(ids).size).toBe(5);
      for (const id of ids) await env.client.workflow.getHandle(id as string).result();
    });
    const scopes = (pbx.callsOf('checkFirmware') as Array<{ input: { modelIds?: string[] } }>).map(
      (c) => c.input.modelIds?.[0],
    );
    expect(new Set(scopes)).toEqual(new Set(models));
  });

  it('R13 (c): phones of a brand-new type that contact the PBX within the wait are updated by that run; the one that never does is named', async () => {
    const pbx = new FakePbx('new-type-wait');
    const ids = pbx.addPhones('snom-d785', 'D785', 3, null); // accounts just created: no phone seen yet
    pbx.catalog.push({ releaseId: 's54', modelIds: ['snom-d785'], version: '10.1.54.13' });
    await runLifecycle(env, pbx, { weeklyCheck }, async (handle) => {
      const r = await handle.executeUpdate(pbxEventUpdate, {
        args: [{ kind: 'first-account-of-type', modelId: 'snom-d785', who: 'admin' }],
      });
      // Two phones boot a few minutes later and report their firmware; the third stays in its box.
      await env.sleep('4 minutes');
      pbx.phones.set(ids[0] as number, { modelId: 'snom-d785', version: '10.1.33.33' });
      pbx.phones.set(ids[1] as number, { modelId: 'snom-d785', version: '10.1.33.33' });
      const result = (await env.client.workflow
        .getHandle(r.triggerWorkflowId as string)
        .result()) as TriggerResult;
      expect(result.ended).toEqual([
        expect.objectContaining({ modelId: 'snom-d785', status: 'completed-with-failures' }),
      ]);
    });
    const blocks = pbx.callsOf('updatePhoneBlock') as Array<{ at: number; input: BlockInput }>;
    expect(blocks.map((b) => b.input.phoneIds)).toEqual([[ids[0], ids[1]]]);
    // The run waited the bounded time (30 min by default) for the third before it went ahead.
    const triggerStart = pbx.callsOf('checkFirmware')[0]?.at as number;
    expect((blocks[0]?.at as number) - triggerStart).toBeGreaterThanOrEqual(29 * 60_000);
    const [rollout] = [...pbx.rollouts.values()];
    expect(rollout?.outcomes.get(ids[2] as number)).toBe('not-contacted');
  });
});
