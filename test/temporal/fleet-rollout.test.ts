/**
 * Fleet rollouts (issue 13) under time skipping: one model to one version across PBXes in waves, each wave a set of
 * per-PBX rollouts (the real rollout workflow) under the same thresholds, with in-memory PBXes whose phones fail on
 * purpose. Each PBX's R8, R7 and hold still apply.
 */
import type { WorkflowHandle } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { planWaves, type WaveSize } from '../../domain/fleet-waves.ts';
import type { fleetRollout } from '../../workflows/fleet.ts';
import {
  cancelFleetUpdate,
  type FleetRolloutSummary,
  fleetProgressQuery,
  resumeFleetUpdate,
  workflowIds,
} from '../../workflows/messages.ts';
import { RolloutStatusAttr } from '../../workflows/search-attributes.ts';
import { FakeFleet } from '../support/fake-fleet.ts';
import { createTimeSkippingEnv, uniqueTaskQueue, workflowBundle } from '../support/temporal.ts';
import { until } from '../support/until.ts';

const T54W = 'yealink-t54w';
const OLD = '96.86.0.45';
const NEW = '96.86.0.70';

describe('fleet rollouts in waves (issue 13; R7, R8 per PBX; R12 per PBX and type)', () => {
  let env: TestWorkflowEnvironment;
  beforeEach(async () => {
    env = await createTimeSkippingEnv();
  });
  afterEach(async () => {
    await env?.teardown();
  });

  /** PBXes p1..pN with 10 T54W phones each on the old version and the new one stored. */
  function fleetOf(n: number): FakeFleet {
    const fleet = new FakeFleet();
    for (let i = 1; i <= n; i++) {
      const pbx = fleet.add(`p${i}`);
      pbx.addPhones(T54W, 'T54W', 10, OLD);
      pbx.local.set(T54W, [NEW]);
    }
    return fleet;
  }

  async function runFleet(
    fleet: FakeFleet,
    sizes: WaveSize[],
    body: (handle: WorkflowHandle<typeof fleetRollout>) => Promise<void>,
  ): Promise<void> {
    const taskQueue = uniqueTaskQueue('fleet');
    const queues = { downloads: taskQueue, phones: taskQueue };
    const worker = await Worker.create({
      connection: env.nativeConnection,
      taskQueue,
      workflowBundle: workflowBundle(),
      activities: fleet.allActivities(),
    });
    const fleetRolloutId = `fleet-${taskQueue}`;
    await worker.runUntil(async () => {
      const handle = await env.client.workflow.start<typeof fleetRollout>('fleetRollout', {
        workflowId: workflowIds.fleet(fleetRolloutId),
        taskQueue,
        typedSearchAttributes: [{ key: RolloutStatusAttr, value: 'running' }],
        args: [
          {
            fleetRolloutId,
            modelId: T54W,
            model: 'T54W',
            targetVersion: NEW,
            waves: planWaves([...fleet.pbxes.keys()], sizes).map((w) =>
              w.map((pbxId) => ({ pbxId, queues })),
            ),
            who: 'ops',
            queues,
          },
        ],
      });
      try {
        await body(handle);
      } finally {
        await handle.terminate('test over').catch(() => {});
      }
    });
  }

  const pbxOf = (s: FleetRolloutSummary, pbxId: string) => s.pbxes.find((p) => p.pbxId === pbxId);
  const started = (fleet: FakeFleet, pbxId: string) => fleet.get(pbxId).callsOf('startRollout');

  it('issue 13 waves: a fleet rollout stops at its first failing wave — later PBXes are never touched — and cancel ends every rollout of it', async () => {
    const fleet = fleetOf(5);
    for (const id of fleet.get('p3').phones.keys()) fleet.get('p3').silentPhones.add(id); // bad on p3's phones
    await runFleet(fleet, [1, 2, 'rest'], async (handle) => {
      const halted = await until(
        'the fleet to halt',
        () => handle.query(fleetProgressQuery),
        (s) => s.status === 'halted',
        30_000,
      );
      expect(halted).toMatchObject({
        currentWave: 2,
        waves: 3,
        reason: { code: 'pbx-rollout-halted', params: { pbxId: 'p3' } },
      });
      expect(pbxOf(halted, 'p1')).toMatchObject({ wave: 1, state: 'rollout', status: 'completed' });
      expect(pbxOf(halted, 'p3')).toMatchObject({ wave: 2, status: 'halted' });
      expect(pbxOf(halted, 'p4')).toMatchObject({ wave: 3, state: 'pending' });
      await env.sleep('1 day');
      expect(started(fleet, 'p4')).toHaveLength(0);
      expect(started(fleet, 'p5')).toHaveLength(0);
      const desc = await handle.describe();
      expect(desc.typedSearchAttributes.get(RolloutStatusAttr)).toBe('halted');

      const cancelling = await handle.executeUpdate(cancelFleetUpdate, { args: [{ who: 'ops' }] });
      expect(cancelling).toMatchObject({ status: 'halted', cancelRequestedBy: 'ops' });
      const cancelled = await handle.result();
      expect(cancelled).toMatchObject({
        status: 'cancelled',
        cancelRequestedBy: null,
        reason: { code: 'cancelled-by-admin' },
      });
      expect(pbxOf(cancelled, 'p3')).toMatchObject({ status: 'cancelled' });
      expect(pbxOf(cancelled, 'p4')).toMatchObject({
        state: 'skipped',
        reason: { code: 'cancelled-by-admin' },
      });
    });
    // A wave starts only when the one before it succeeded: p2 and p3 after p1's rollout ended.
    const p1End = fleet.get('p1').callsOf('finishRollout')[0]?.at as number;
    expect(started(fleet, 'p2')[0]?.at).toBeGreaterThanOrEqual(p1End);
    expect(started(fleet, 'p3')[0]?.at).toBeGreaterThanOrEqual(p1End);
    // The canary of p3 only: no further phone of it was touched.
    expect(fleet.get('p3').callsOf('updatePhoneBlock')).toHaveLength(1);
    expect(fleet.records.at(-1)).toMatchObject({ status: 'cancelled' });
    expect([...fleet.get('p3').rollouts.values()][0]).toMatchObject({
      status: 'cancelled',
      reason: { code: 'cancelled-with-fleet' },
      fleetRolloutId: expect.stringMatching(/^fleet-/),
    });
  });

  it("issue 13 waves: each PBX's R8, R7 and hold apply (skipped with the reason); a wave with failures halts the fleet; resume goes on with the next wave", async () => {
    const fleet = fleetOf(6);
    fleet.get('p2').settings.autoDownloadInstall = false; // R8 off there
    fleet.get('p3').autoUpdate.set(T54W, false); // R7 off there
    fleet.get('p4').holds.set(T54W, OLD); // held there
    fleet.get('p5').local.set(T54W, []); // not stored: downloaded from the catalog first
    fleet.get('p5').catalog.push({ releaseId: 'y70', modelIds: [T54W], version: NEW });
    const offline = [...fleet.get('p1').phones.keys()][9] as number;
    fleet.get('p1').offlinePhones.add(offline); // never reachable: parked, p1 completed-with-failures
    await runFleet(fleet, [1, 'rest'], async (handle) => {
      await env.sleep('1 hour'); // p1's unreachable phone has its three attempts
      const halted = await until(
        'wave 1 to fail',
        () => handle.query(fleetProgressQuery),
        (s) => s.status === 'halted',
        30_000,
      );
      expect(halted.reason).toMatchObject({
        code: 'wave-failed',
        params: { wave: 1, pbxes: 'p1 completed-with-failures' },
      });
      expect(started(fleet, 'p5')).toHaveLength(0);
      await handle.executeUpdate(resumeFleetUpdate, { args: [{ who: 'ops' }] });
      const done = await handle.result();
      expect(done).toMatchObject({
        status: 'completed-with-failures',
        reason: { code: 'fleet-pbxes-missed', params: { missed: 4, total: 6 } },
      });
      expect(pbxOf(done, 'p2')).toMatchObject({ state: 'skipped', reason: { code: 'automatic-off' } });
      expect(pbxOf(done, 'p3')).toMatchObject({ state: 'skipped', reason: { code: 'auto-update-off' } });
      expect(pbxOf(done, 'p4')).toMatchObject({
        state: 'skipped',
        reason: { code: 'type-held', params: { version: OLD } },
      });
      expect(pbxOf(done, 'p5')).toMatchObject({ state: 'rollout', status: 'completed' });
      expect(pbxOf(done, 'p6')).toMatchObject({ state: 'rollout', status: 'completed' });
    });
    expect(fleet.get('p5').callsOf('downloadFirmware')).toHaveLength(1);
    for (const id of ['p2', 'p3', 'p4']) {
      expect(fleet.get(id).callsOf('updatePhoneBlock')).toHaveLength(0);
      expect([...fleet.get(id).phones.values()].every((p) => p.version === OLD)).toBe(true);
    }
    expect([...fleet.get('p6').phones.values()].every((p) => p.version === NEW)).toBe(true);
  });

  it('issue 13 waves: a first wave in which no PBX got to the version (its only PBX skipped for R8) halts the fleet before the next wave', async () => {
    const fleet = fleetOf(3);
    fleet.get('p1').settings.autoDownloadInstall = false; // R8 off on the canary PBX
    await runFleet(fleet, [1, 'rest'], async (handle) => {
      const halted = await until(
        'the fleet to halt after wave 1',
        () => handle.query(fleetProgressQuery),
        (s) => s.status === 'halted',
        30_000,
      );
      expect(halted.reason).toMatchObject({
        code: 'wave-failed',
        params: { wave: 1, pbxes: 'p1 skipped (automatic-off)' },
      });
      await env.sleep('1 day');
      expect(started(fleet, 'p2')).toHaveLength(0);
      expect(started(fleet, 'p3')).toHaveLength(0);
      // An admin who accepts that goes on with the next wave.
      await handle.executeUpdate(resumeFleetUpdate, { args: [{ who: 'ops' }] });
      const done = await handle.result();
      expect(done).toMatchObject({ status: 'completed-with-failures' });
      expect(pbxOf(done, 'p2')).toMatchObject({ state: 'rollout', status: 'completed' });
    });
  });
});
