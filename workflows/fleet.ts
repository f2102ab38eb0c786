/**
 * A fleet rollout (issue 13): one model to one version across selected PBXes, in waves (e.g. 1 PBX, then 10 %,
 * then the rest). Each wave is a set of per-PBX rollouts — child workflows with the usual id per PBX and type (R12),
 * each under the same canary and thresholds — and a wave starts only when the one before it succeeded. Each PBX's
 * own R8 and R7 (and its hold) still apply: such a PBX is skipped, with the reason. A per-PBX rollout that halts,
 * or a wave that does not succeed, halts the fleet rollout: no further wave starts until an admin resumes it (the
 * halted rollouts resume with it) or cancels it (every open rollout of it is cancelled). Pause, resume and cancel
 * are Updates on this workflow and reach every per-PBX rollout of it.
 */
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/common';
import {
  allHandlersFinished,
  type ChildWorkflowHandle,
  condition,
  patched,
  setCurrentDetails,
  setHandler,
  upsertSearchAttributes,
} from '@temporalio/workflow';
import { assertValid, RolloutControlSchema } from '../domain/contract.ts';
import { endOfFleet, type FleetPbxState, waveOver, waveSucceeded } from '../domain/fleet-waves.ts';
import { type Reason, reason } from '../domain/reasons.ts';
import { isFinal, type RolloutStatus } from '../domain/rollout.ts';
import { activitiesFor } from './activities.ts';
import {
  cancelFleetUpdate,
  type FleetArgs,
  type FleetMember,
  type FleetRolloutSummary,
  fleetControlSignal,
  fleetMemberSignal,
  fleetProgressQuery,
  pauseFleetUpdate,
  type RolloutArgs,
  resumeFleetUpdate,
  workflowIds,
} from './messages.ts';
import type { phoneRollout } from './rollout.ts';
import { RolloutStatusAttr } from './search-attributes.ts';
import { errorMessage, refuse, startRolloutChild } from './steps.ts';

/** A wave in which no PBX got to the version halts the fleet rollout (fleet rollouts started before: not). */
export const WAVE_NEEDS_EVIDENCE_PATCH = 'wave-needs-evidence';
/** Pause, resume and cancel reach every open rollout of the fleet, whatever status it last reported. */
export const FLEET_TELLS_EVERY_MEMBER_PATCH = 'fleet-tells-every-member';

export async function fleetRollout(args: FleetArgs): Promise<FleetRolloutSummary> {
  const acts = activitiesFor(args.queues);
  const workflowId = workflowIds.fleet(args.fleetRolloutId);
  const states: FleetPbxState[] = args.waves.flatMap((members, i) =>
    members.map((m) => ({
      pbxId: m.pbxId,
      wave: i + 1,
      state: 'pending' as const,
      status: null,
      rolloutId: null,
      reason: null,
    })),
  );
  const stateOf = (pbxId: string) => states.find((s) => s.pbxId === pbxId) as FleetPbxState;
  const children = new Map<string, ChildWorkflowHandle<typeof phoneRollout>>();
  let currentWave = 0;
  let pausedBy: string | null = null;
  let halted: Reason | null = null;
  let cancelRequested: string | null = null;
  let ended: { status: RolloutStatus; reason: Reason | null } | null = null;
  let steered = 0;
  let shownStatus: RolloutStatus | undefined;

  const status = (): RolloutStatus =>
    ended ? ended.status : halted ? 'halted' : pausedBy ? 'paused' : 'running';
  const why = (): Reason | null =>
    ended ? ended.reason : halted ? halted : pausedBy ? reason('paused-by-admin', { who: pausedBy }) : null;
  const summary = (): FleetRolloutSummary => ({
    fleetRolloutId: args.fleetRolloutId,
    workflowId,
    modelId: args.modelId,
    targetVersion: args.targetVersion,
    status: status(),
    reason: why(),
    waves: args.waves.length,
    currentWave: currentWave + 1,
    cancelRequestedBy: ended ? null : cancelRequested,
    pbxes: states.map((s) => ({ ...s })),
  });

  let recording: Promise<void> = Promise.resolve();
  /** The search attribute, the current details, and the fleet's record (in order). */
  const record = (): Promise<void> => {
    const s = summary();
    if (s.status !== shownStatus) {
      shownStatus = s.status;
      upsertSearchAttributes([{ key: RolloutStatusAttr, value: s.status }]);
    }
    const count = (f: (p: FleetPbxState) => boolean) => states.filter(f).length;
    setCurrentDetails(
      `**Fleet rollout ${args.model} → ${args.targetVersion}**: **${s.status}**\n\n` +
        `wave ${s.currentWave} of ${s.waves} · ${count((p) => p.status === 'completed')} PBXes completed · ` +
        `${count((p) => p.state === 'rollout' && p.status !== null && !isFinal(p.status))} running · ` +
        `${count((p) => p.state === 'skipped')} skipped · ${count((p) => p.state === 'pending')} pending` +
        `${s.reason ? `\n\n${s.reason.text}` : ''}`,
    );
    const input = {
      fleetRolloutId: args.fleetRolloutId,
      status: s.status,
      reason: s.reason,
      currentWave,
      pbxStates: s.pbxes,
    };
    recording = recording.then(() => acts.bookkeeping.recordFleet(input));
    return recording;
  };

  const tellMembers = async (action: 'pause' | 'resume' | 'cancel', who: string, only?: RolloutStatus[]) => {
    // A member's status here is what its last signal said, and that may lag behind it (a rollout that just paused
    // has not told us yet): every open member is told, and each acts only if the action applies to it (a resume
    // reaches a paused rollout even before its "paused" arrived). Fleet rollouts started before: by the status.
    const everyOpen = patched(FLEET_TELLS_EVERY_MEMBER_PATCH);
    for (const [pbxId, handle] of children) {
      const s = stateOf(pbxId);
      if (s.status !== null && isFinal(s.status)) continue;
      if (everyOpen) {
        // One that ended meanwhile cannot be signalled; it has nothing to pause or resume.
        await handle.signal(fleetControlSignal, { action, who }).catch(() => undefined);
        continue;
      }
      if (s.status === null) continue;
      if (only && !only.includes(s.status)) continue;
      await handle.signal(fleetControlSignal, { action, who });
    }
  };

  const assertOpen = () => {
    if (ended || cancelRequested)
      throw refuse(reason('rollout-ended', { status: ended?.status ?? 'cancelled' }));
  };
  setHandler(fleetProgressQuery, summary);
  setHandler(
    pauseFleetUpdate,
    async ({ who }) => {
      pausedBy = who;
      steered++;
      await tellMembers('pause', who, ['running']);
      await record();
      return summary();
    },
    {
      validator: (req) => {
        assertValid(RolloutControlSchema, req);
        assertOpen();
        if (halted) throw refuse(reason('rollout-halted-already', { reason: halted.text }));
        if (pausedBy) throw refuse(reason('rollout-paused-already', { who: pausedBy }));
      },
    },
  );
  setHandler(
    resumeFleetUpdate,
    async ({ who }) => {
      pausedBy = null;
      halted = null;
      steered++;
      await tellMembers('resume', who, ['paused', 'halted']);
      await record();
      return summary();
    },
    {
      validator: (req) => {
        assertValid(RolloutControlSchema, req);
        assertOpen();
        if (!halted && !pausedBy) throw refuse(reason('rollout-not-paused', { status: status() }));
      },
    },
  );
  setHandler(
    cancelFleetUpdate,
    async ({ who }) => {
      // Answers once every open rollout of it was told; the fleet ends `cancelled` when the last one recorded its end.
      cancelRequested = who;
      steered++;
      await tellMembers('cancel', who);
      await record();
      return summary();
    },
    {
      validator: (req) => {
        assertValid(RolloutControlSchema, req);
        assertOpen();
      },
    },
  );
  setHandler(fleetMemberSignal, (m) => {
    const s = stateOf(m.pbxId);
    if (!s || (s.rolloutId !== null && s.rolloutId !== m.rolloutId)) return;
    s.state = 'rollout';
    s.rolloutId = m.rolloutId;
    s.status = m.status;
    s.reason = m.reason;
    if (m.status === 'halted' && !halted && !ended) {
      halted = reason('pbx-rollout-halted', { pbxId: m.pbxId, reason: m.reason?.text ?? 'halted' });
    }
    steered++;
    void record();
  });

  /** One PBX of a wave: R8/R7/hold/phones checked, firmware downloaded if needed, its rollout started. */
  async function startMember(m: FleetMember, wave: number): Promise<void> {
    const s = stateOf(m.pbxId);
    const skip = (r: Reason) => {
      s.state = 'skipped';
      s.reason = r;
    };
    const prep = await acts.bookkeeping.prepareFleetMember({
      pbxId: m.pbxId,
      modelId: args.modelId,
      targetVersion: args.targetVersion,
    });
    if (prep.skip) return skip(prep.skip);
    if (prep.download) {
      try {
        await acts.downloads.downloadFirmware({
          pbxId: m.pbxId,
          modelId: args.modelId,
          releaseId: prep.download.releaseId,
          why: 'manual',
          who: args.who,
        });
      } catch (err) {
        return skip(
          reason('fleet-download-failed', { version: args.targetVersion, error: errorMessage(err) }),
        );
      }
    }
    if (cancelRequested) return skip(reason('cancelled-by-admin', { who: cancelRequested }));
    const rolloutArgs: RolloutArgs = {
      pbxId: m.pbxId,
      queues: m.queues,
      modelId: args.modelId,
      model: prep.model,
      targetVersion: args.targetVersion,
      why: 'manual',
      who: args.who,
      fleet: { fleetRolloutId: args.fleetRolloutId, wave },
      ...(args.canarySize !== undefined ? { canarySize: args.canarySize } : {}),
    };
    try {
      const child = await startRolloutChild(
        acts,
        rolloutArgs,
        workflowIds.rollout(m.pbxId, args.modelId),
        `Fleet rollout ${prep.model} → ${args.targetVersion} on ${m.pbxId} (wave ${wave + 1}, ${prep.phones} phones)`,
      );
      children.set(m.pbxId, child.handle);
      s.state = 'rollout';
      s.rolloutId = child.handle.firstExecutionRunId;
      s.status ??= 'running';
      if (pausedBy) await child.handle.signal(fleetControlSignal, { action: 'pause', who: pausedBy });
      void child.ended.then((end) => {
        s.status = end;
        steered++;
        void record();
      });
    } catch (err) {
      if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
      skip(reason('already-running', { model: prep.model, version: args.targetVersion }));
    }
  }

  function fleetEnd(): { status: RolloutStatus; reason: Reason | null } {
    const end = endOfFleet(states);
    const missed = states.filter(
      (p) =>
        !(p.state === 'rollout' && p.status === 'completed') &&
        !(p.state === 'skipped' && p.reason?.code.startsWith('all-current')),
    ).length;
    return {
      status: end,
      reason:
        end === 'completed'
          ? null
          : reason('fleet-pbxes-missed', { missed, total: states.length, version: args.targetVersion }),
    };
  }

  /** Waits while the fleet is paused or halted; returns at once when it is cancelled. */
  async function gate(): Promise<void> {
    while (!cancelRequested && (pausedBy || halted)) {
      const seen = steered;
      await condition(() => steered !== seen);
    }
  }

  await record();
  for (const [index, members] of args.waves.entries()) {
    await gate();
    if (cancelRequested) break;
    currentWave = index;
    await record();
    await Promise.all(members.map((m) => startMember(m, index)));
    await record();
    const ofWave = () => states.filter((p) => p.wave === index + 1);
    await condition(() => waveOver(ofWave()) || cancelRequested !== null);
    if (cancelRequested) break;
    if (
      index < args.waves.length - 1 &&
      !halted &&
      !waveSucceeded(ofWave(), patched(WAVE_NEEDS_EVIDENCE_PATCH))
    ) {
      const failed = ofWave().filter((p) => p.state === 'rollout' && p.status !== 'completed');
      // No rollout failed: no PBX of the wave got to the version (each was skipped, and says why).
      const shown = failed.length > 0 ? failed : ofWave();
      halted = reason('wave-failed', {
        wave: index + 1,
        pbxes: shown
          .map((p) =>
            p.state === 'rollout' ? `${p.pbxId} ${p.status}` : `${p.pbxId} skipped (${p.reason?.code})`,
          )
          .join(', '),
      });
      await record();
    }
  }
  // Every rollout of it ends before the fleet rollout does (children die with their parent).
  await condition(() =>
    states.every((p) => p.state !== 'rollout' || (p.status !== null && isFinal(p.status))),
  );
  for (const p of states) {
    if (p.state === 'pending') {
      p.state = 'skipped';
      p.reason = reason('cancelled-by-admin', { who: cancelRequested ?? 'system' });
    }
  }
  ended = cancelRequested
    ? { status: 'cancelled', reason: reason('cancelled-by-admin', { who: cancelRequested }) }
    : fleetEnd();
  halted = null;
  await record();
  await condition(allHandlersFinished);
  return summary();
}
