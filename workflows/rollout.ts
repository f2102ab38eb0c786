/**
 * One type, one target version, one PBX (R12): the phones go out in blocks, one block after another, carefully
 * (issue 13):
 *   canary        the first block is a small one of registered, idle phones; the blocks of 50 start only when it
 *                 succeeded
 *   halt          a block with too many failed phones (default > 10 %), or too many blocks in a row with failures
 *                 (default 2), halts the rollout: status `halted`, journaled with the phones and reasons; nothing
 *                 more of the type is touched until an admin resumes (the next block that had not started) or
 *                 cancels
 *   pause/resume/cancel   Updates with validators; cancel ends it `cancelled` and withdraws every approval
 *   retries       a failed phone is tried again after a backoff in a block of retries (default 3 attempts in
 *                 all), then parked; retry blocks do not count towards the threshold (the phone counted once)
 *   late joiners  phones of the type that report an older version while it runs join the remaining blocks
 *   window        outside the PBX's maintenance window no block starts: `paused` until the window opens (a timer)
 * The rollout records its end on every path, and its word (domain/rollout.ts) is the same in the database, the
 * journal, its result, its current details and the `RolloutStatus` search attribute. A rollout in which no phone
 * reached the target fails as a workflow, so the Temporal UI lists it as failed too.
 */
import { ActivityFailure, ApplicationFailure, TimeoutFailure, TimeoutType } from '@temporalio/common';
import {
  allHandlersFinished,
  CancellationScope,
  condition,
  getExternalWorkflowHandle,
  isCancellation,
  patched,
  setCurrentDetails,
  setHandler,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { FinishRolloutResult, StartRolloutResult } from '../activities/contracts.ts';
import { assertValid, RetryParkedSchema, RolloutControlSchema } from '../domain/contract.ts';
import { formatMinute, type MaintenanceWindow, windowAt } from '../domain/maintenance-window.ts';
import { type Reason, reason } from '../domain/reasons.ts';
import {
  countOutcomes,
  describeCounts,
  doneOf,
  isFinal,
  percentDone,
  type RolloutCounts,
  type RolloutStatus,
  summaryLine,
} from '../domain/rollout.ts';
import {
  admitJoiners,
  type NextStep,
  nextStep,
  type RolloutQueue,
  retryNow,
  scheduleRetries,
  startStep,
} from '../domain/rollout-plan.ts';
import { judgeBlock, type RolloutPolicy } from '../domain/rollout-policy.ts';
import { compareVersions } from '../domain/versions.ts';
import { activitiesFor } from './activities.ts';
import {
  cancelRolloutUpdate,
  DEFAULT_QUEUES,
  fleetControlSignal,
  fleetMemberSignal,
  pauseRolloutUpdate,
  type RolloutArgs,
  type RolloutSummary,
  resumeRolloutUpdate,
  retryParkedUpdate,
  rolloutProgressQuery,
} from './messages.ts';
import { legacyPhoneRollout } from './rollout-legacy.ts';
import { RolloutStatusAttr } from './search-attributes.ts';
import { errorMessage, refuse, rolloutFailed } from './steps.ts';

/** How long a block may wait for a phone edge to pick it up before the rollout says it is waiting for one. */
const EDGE_WAIT = '2 minutes';
/** The marker of rollouts that run with a canary, thresholds, pause/resume/cancel, retries, joiners and windows. */
export const ROLLOUT_SAFETY_PATCH = 'rollout-safety';

type Stop = { status: 'cancelled' | 'failed'; reason: Reason };

export async function phoneRollout(args: RolloutArgs): Promise<RolloutSummary> {
  if (!patched(ROLLOUT_SAFETY_PATCH)) return legacyPhoneRollout(args);
  return new SafeRollout(args).run();
}

/** The state of one rollout run and the steps that change it; `run` is the rollout, the handlers steer it. */
class SafeRollout {
  private readonly acts: ReturnType<typeof activitiesFor>;
  private readonly phones: ReturnType<typeof activitiesFor>;
  private readonly workflowId: string;
  private readonly rolloutId: string;
  private readonly actor: { why: RolloutArgs['why']; who: string };
  private readonly direction: 'upgrade' | 'downgrade';

  private counts: RolloutCounts = countOutcomes(0, []);
  private total = 0;
  private policy: RolloutPolicy | null = null;
  private queue: RolloutQueue = { planned: [], retries: [] };
  private nextPlannedIndex = 0;
  private blocksRun = 0;
  private blocksDone = 0;
  private currentBlock: number | null = null;
  private failedBlocksInRow = 0;
  private timeZone = 'UTC';
  private window: MaintenanceWindow | null = null;

  /** What holds the rollout, if anything; the status is derived from these. */
  private halted: Reason | null = null;
  private pausedBy: { who: string; fleet: boolean } | null = null;
  private windowOpensAt: number | null = null;
  private waitingForEdge: Reason | null = null;
  private cancelRequested: { who: string; fleet: boolean } | null = null;
  private ended: { status: RolloutStatus; reason: Reason | null } | null = null;
  private started = false;
  private blockScope: CancellationScope | null = null;
  /** Bumped whenever an admin steers the rollout, so waits re-check at once. */
  private steered = 0;

  private shownStatus: RolloutStatus | undefined;
  private recorded: { status: RolloutStatus; code: string | null } = { status: 'running', code: null };
  private publishing: Promise<void> = Promise.resolve();
  private readonly args: RolloutArgs;

  constructor(args: RolloutArgs) {
    this.args = args;
    this.acts = activitiesFor(args.queues);
    this.phones = activitiesFor(args.queues, {
      phonesScheduleToStart: EDGE_WAIT,
      waitForBlockCancellation: true,
    });
    const info = workflowInfo();
    this.workflowId = info.workflowId;
    this.rolloutId = info.runId;
    this.actor = { why: args.why, who: args.who };
    this.direction = args.direction ?? 'upgrade';
    this.registerHandlers();
  }

  // ---- what it shows -----------------------------------------------------------------------------

  private status(): RolloutStatus {
    if (this.ended) return this.ended.status;
    if (this.halted) return 'halted';
    if (this.pausedBy || this.windowOpensAt !== null) return 'paused';
    return 'running';
  }

  private why(): Reason | null {
    if (this.ended) return this.ended.reason;
    if (this.halted) return this.halted;
    if (this.pausedBy)
      return reason(this.pausedBy.fleet ? 'fleet-paused' : 'paused-by-admin', { who: this.pausedBy.who });
    if (this.windowOpensAt !== null && this.window) {
      return reason('outside-window', {
        start: formatMinute(this.window.startMinute),
        end: formatMinute(this.window.endMinute),
        timeZone: this.timeZone,
        opensAt: new Date(this.windowOpensAt).toISOString(),
      });
    }
    return this.waitingForEdge;
  }

  summary(): RolloutSummary {
    const status = this.status();
    const why = this.why();
    return {
      rolloutId: this.rolloutId,
      workflowId: this.workflowId,
      pbxId: this.args.pbxId,
      modelId: this.args.modelId,
      model: this.args.model,
      targetVersion: this.args.targetVersion,
      status,
      reason: why,
      ...this.counts,
      retrying: this.queue.retries.length,
      done: doneOf(this.counts),
      blocks: this.blocksRun + this.queue.planned.length,
      blocksDone: this.blocksDone,
      currentBlock: this.currentBlock,
      percent: percentDone(this.counts, status),
      direction: this.direction,
      policy: this.policy,
      fleetRolloutId: this.args.fleet?.fleetRolloutId ?? null,
      summary: summaryLine(this.args, status, this.counts, why),
    };
  }

  /** The search attribute and the current details (Temporal UI). */
  private show(): void {
    const status = this.status();
    if (status !== this.shownStatus) {
      this.shownStatus = status;
      upsertSearchAttributes([{ key: RolloutStatusAttr, value: status }]);
    }
    const s = this.summary();
    const block = this.currentBlock !== null ? `block ${this.currentBlock} running` : 'no block running';
    const policy = this.policy
      ? `canary ${this.policy.canarySize} · halt above ${this.policy.haltFailedPercent} % or after ${this.policy.haltFailedBlocksInRow} failed blocks in a row · ${this.policy.maxAttempts} attempts`
      : '';
    setCurrentDetails(
      `**${this.args.model} → ${this.args.targetVersion}** on ${this.args.pbxId}: **${status}**\n\n` +
        `${block} · ${s.blocksDone} of ${s.blocks} blocks done · ${s.done}/${s.total} phones (${s.percent} %)` +
        `${s.retrying ? ` · ${s.retrying} waiting to be retried` : ''}\n\n` +
        `${describeCounts(this.counts)}${s.reason ? `\n\n${s.reason.text}` : ''}${policy ? `\n\n${policy}` : ''}`,
    );
  }

  /**
   * Brings the database row and the journal in line with the status (paused, halted, running again), once per
   * change, in order; a fleet rollout hears of it too.
   */
  private publish(action: string, who: string, details?: Record<string, unknown>): Promise<void> {
    this.show();
    const status = this.status();
    const why = this.why();
    if (isFinal(status)) return this.publishing;
    const key = { status, code: why?.code ?? null };
    if (key.status === this.recorded.status && key.code === this.recorded.code && !details)
      return this.publishing;
    this.recorded = key;
    const input = {
      rolloutId: this.rolloutId,
      pbxId: this.args.pbxId,
      modelId: this.args.modelId,
      status,
      reason: why,
      action,
      why: who === 'system' ? ('system' as const) : ('manual' as const),
      who,
      ...(details ? { details } : {}),
    };
    this.publishing = this.publishing.then(async () => {
      await this.acts.bookkeeping.noteRolloutState(input);
      await this.tellFleet();
    });
    return this.publishing;
  }

  private async tellFleet(): Promise<void> {
    const parent = workflowInfo().parent;
    if (!this.args.fleet || !parent) return;
    await getExternalWorkflowHandle(parent.workflowId, parent.runId).signal(fleetMemberSignal, {
      pbxId: this.args.pbxId,
      rolloutId: this.rolloutId,
      status: this.status(),
      reason: this.why(),
    });
  }

  // ---- how an admin (or its fleet) steers it ------------------------------------------------------

  private assertOpen(): void {
    if (this.ended || this.cancelRequested) {
      throw refuse(reason('rollout-ended', { status: this.ended?.status ?? 'cancelled' }));
    }
  }

  private pause(who: string, fleet: boolean): Promise<void> {
    this.pausedBy = { who, fleet };
    this.steered++;
    return this.publish(
      'rollout.paused',
      who,
      this.currentBlock ? { blockRunning: this.currentBlock } : undefined,
    );
  }

  private resume(who: string): Promise<void> {
    const wasHalted = this.halted;
    this.halted = null;
    this.pausedBy = null;
    this.failedBlocksInRow = 0;
    this.steered++;
    return this.publish('rollout.resumed', who, wasHalted ? { haltedFor: wasHalted.text } : {});
  }

  private cancel(who: string, fleet: boolean): void {
    if (this.cancelRequested || this.ended) return;
    this.cancelRequested = { who, fleet };
    this.steered++;
    this.blockScope?.cancel();
  }

  private registerHandlers(): void {
    setHandler(rolloutProgressQuery, () => this.summary());
    setHandler(
      pauseRolloutUpdate,
      async (req) => {
        await this.pause(req.who, false);
        return this.summary();
      },
      {
        validator: (req) => {
          assertValid(RolloutControlSchema, req);
          this.assertOpen();
          if (this.halted) throw refuse(reason('rollout-halted-already', { reason: this.halted.text }));
          if (this.pausedBy) throw refuse(reason('rollout-paused-already', { who: this.pausedBy.who }));
        },
      },
    );
    setHandler(
      resumeRolloutUpdate,
      async (req) => {
        await this.resume(req.who);
        return this.summary();
      },
      {
        validator: (req) => {
          assertValid(RolloutControlSchema, req);
          this.assertOpen();
          if (!this.halted && !this.pausedBy) {
            const why = this.why();
            throw refuse(
              this.windowOpensAt !== null && why
                ? why
                : reason('rollout-not-paused', { status: this.status() }),
            );
          }
        },
      },
    );
    setHandler(
      cancelRolloutUpdate,
      async (req) => {
        this.cancel(req.who, false);
        await condition(() => this.ended !== null);
        return this.summary();
      },
      {
        validator: (req) => {
          assertValid(RolloutControlSchema, req);
          this.assertOpen();
        },
      },
    );
    setHandler(
      retryParkedUpdate,
      async (req) => {
        await condition(() => this.started);
        const ids = await this.acts.bookkeeping.unparkPhones({
          rolloutId: this.rolloutId,
          who: req.who,
          ...(req.phoneIds ? { phoneIds: req.phoneIds } : {}),
        });
        this.queue = retryNow(this.queue, ids, Date.now());
        this.counts = {
          ...this.counts,
          parked: Math.max(0, this.counts.parked - ids.length),
          failed: Math.max(0, this.counts.failed - ids.length),
          pending: this.counts.pending + ids.length,
        };
        this.steered++;
        this.show();
        return { rollout: this.summary(), phoneIds: ids };
      },
      {
        validator: (req) => {
          assertValid(RetryParkedSchema, req);
          this.assertOpen();
          if (this.counts.parked === 0) throw refuse(reason('no-parked-phones'));
        },
      },
    );
    setHandler(fleetControlSignal, ({ action, who }) => {
      if (this.ended || this.cancelRequested) return;
      if (action === 'cancel') this.cancel(who, true);
      else if (action === 'pause' && !this.pausedBy && !this.halted) void this.pause(who, true);
      else if (action === 'resume' && (this.pausedBy || this.halted)) void this.resume(who);
    });
  }

  // ---- the rollout ---------------------------------------------------------------------------------

  async run(): Promise<RolloutSummary> {
    this.show();
    const start = await this.acts.bookkeeping.startRollout({
      rolloutId: this.rolloutId,
      workflowId: this.workflowId,
      pbxId: this.args.pbxId,
      modelId: this.args.modelId,
      targetVersion: this.args.targetVersion,
      direction: this.direction,
      ...(this.args.canarySize !== undefined ? { canarySize: this.args.canarySize } : {}),
      ...(this.args.phoneIds ? { phoneIds: this.args.phoneIds } : {}),
      ...(this.args.fleet ? { fleet: this.args.fleet } : {}),
      ...this.actor,
    });
    if (start.ended !== undefined) {
      // R7 refused it, or its firmware is gone (failed): recorded by startRollout, nothing touched.
      this.ended = { status: start.ended, reason: start.reason };
      this.started = true;
      this.show();
      await this.tellFleet();
      await condition(allHandlersFinished);
      if (start.ended === 'failed') throw rolloutFailed(this.summary());
      return this.summary();
    }
    this.begin(start);

    let stopped: Stop | undefined;
    try {
      stopped = await this.runBlocks();
    } catch (err) {
      stopped = isCancellation(err)
        ? {
            status: 'cancelled',
            reason: reason('cancelled-by-admin', {
              who: this.cancelRequested?.who ?? 'Temporal (workflow cancelled)',
            }),
          }
        : { status: 'failed', reason: reason('rollout-error', { error: errorMessage(err) }) };
    }
    if (!stopped && this.cancelRequested) stopped = this.cancelStop();

    // Whatever happened above, the end is recorded (and a cancelled workflow still gets to record it).
    const end: FinishRolloutResult = await CancellationScope.nonCancellable(() =>
      this.acts.bookkeeping.finishRollout({
        rolloutId: this.rolloutId,
        pbxId: this.args.pbxId,
        modelId: this.args.modelId,
        targetVersion: this.args.targetVersion,
        total: this.total,
        ...this.actor,
        ...(stopped ? { stopped } : {}),
      }),
    );
    this.counts = end.counts;
    this.currentBlock = null;
    this.queue = { planned: [], retries: [] };
    this.ended = { status: end.status, reason: end.reason };
    this.show();
    await CancellationScope.nonCancellable(() => this.tellFleet());
    await condition(allHandlersFinished);
    const result = this.summary();
    if (end.status === 'failed') throw rolloutFailed(result);
    return result;
  }

  private begin(start: Extract<StartRolloutResult, { ended?: undefined }>): void {
    const plan = start.plan ?? [];
    this.policy = start.policy ?? null;
    this.timeZone = start.timeZone ?? 'UTC';
    this.window = start.window ?? null;
    this.queue = { planned: plan, retries: [] };
    this.nextPlannedIndex = plan.length;
    this.total = start.total;
    this.counts = countOutcomes(start.total, Array(start.notContacted).fill('not-contacted'));
    this.started = true;
    this.show();
  }

  private cancelStop(): Stop {
    const who = this.cancelRequested?.who ?? 'Temporal (workflow cancelled)';
    return {
      status: 'cancelled',
      reason: reason(this.cancelRequested?.fleet ? 'cancelled-with-fleet' : 'cancelled-by-admin', { who }),
    };
  }

  /** Block after block until the queue is empty; returns why it stopped early, if it did. */
  private async runBlocks(): Promise<Stop | undefined> {
    for (;;) {
      await this.gate();
      if (this.cancelRequested) return this.cancelStop();

      const before = await this.acts.bookkeeping.beforeBlock({
        rolloutId: this.rolloutId,
        pbxId: this.args.pbxId,
        modelId: this.args.modelId,
        targetVersion: this.args.targetVersion,
        direction: this.direction,
        admitJoiners: !this.args.phoneIds,
        lastPlanned: this.queue.planned.at(-1) ?? null,
        nextIndex: this.nextPlannedIndex,
        ...this.actor,
      });
      this.timeZone = before.timeZone;
      this.window = before.window;
      if (!before.autoUpdate) {
        // R7: switched off while the rollout ran; no further phone of the type is touched.
        return { status: 'cancelled', reason: reason('auto-update-switched-off') };
      }
      if (
        before.heldAt &&
        this.direction === 'upgrade' &&
        compareVersions(this.args.targetVersion, before.heldAt) > 0
      ) {
        return {
          status: 'cancelled',
          reason: reason('type-held', { model: this.args.model, version: before.heldAt }),
        };
      }
      if (before.joined.length > 0) {
        const admitted = admitJoiners(
          this.queue,
          before.joined.map((j) => j.phoneId),
          this.nextPlannedIndex,
        );
        this.queue = admitted.queue;
        this.nextPlannedIndex = Math.max(
          this.nextPlannedIndex,
          ...before.joined.map((j) => j.plannedBlock + 1),
        );
        this.total = before.total;
        this.counts = before.counts;
        this.show();
      }

      const step = nextStep(this.queue, Date.now());
      if (step.kind === 'done') return undefined;
      if (step.kind === 'wait') {
        // Failed phones wait for their backoff: a timer, cut short when an admin steers the rollout.
        const seen = this.steered;
        await condition(() => this.steered !== seen, Math.max(1, step.until - Date.now()));
        continue;
      }
      if (this.holding()) continue;
      const stop = await this.runStep(step);
      if (stop) return stop;
    }
  }

  /** Something keeps the next block from starting now: paused, halted, cancelled, or outside the window. */
  private holding(): boolean {
    if (this.cancelRequested || this.halted || this.pausedBy) return true;
    return this.window !== null && !windowAt(Date.now(), this.timeZone, this.window).open;
  }

  /** Waits while the rollout is paused, halted or outside its maintenance window; returns when it may go on. */
  private async gate(): Promise<void> {
    for (;;) {
      if (this.cancelRequested) return;
      if (this.halted || this.pausedBy) {
        const seen = this.steered;
        await condition(() => this.steered !== seen);
        continue;
      }
      const w = this.window ? windowAt(Date.now(), this.timeZone, this.window) : null;
      if (w && !w.open) {
        this.windowOpensAt = w.opensAt;
        await this.publish('rollout.waiting-for-window', 'system');
        const seen = this.steered;
        const steered = await condition(() => this.steered !== seen, Math.max(1, w.opensAt - Date.now()));
        this.windowOpensAt = null;
        if (!steered) await this.publish('rollout.window-opened', 'system');
        continue;
      }
      if (this.windowOpensAt !== null) {
        this.windowOpensAt = null;
        await this.publish('rollout.window-opened', 'system');
      }
      return;
    }
  }

  /** Runs one block, records it, schedules retries and judges it against the threshold. */
  private async runStep(step: Extract<NextStep, { kind: 'block' }>): Promise<Stop | undefined> {
    this.queue = startStep(this.queue, step);
    const index = this.blocksRun++;
    this.currentBlock = index + 1;
    this.show();
    const stop = await this.runBlock(index, step.phoneIds);
    this.currentBlock = null;
    if (stop) return stop;
    const recorded = await this.acts.bookkeeping.recordBlock({
      rolloutId: this.rolloutId,
      pbxId: this.args.pbxId,
      modelId: this.args.modelId,
      block: index,
      total: this.total,
      blocks: this.blocksRun + this.queue.planned.length,
      phoneIds: step.phoneIds,
      ...(this.policy ? { policy: this.policy } : {}),
      at: Date.now(),
    });
    this.counts = recorded.counts;
    this.blocksDone++;
    this.queue = scheduleRetries(this.queue, recorded.retries ?? []);
    if (this.cancelRequested) return this.cancelStop();
    // The threshold judges the release on phones' first attempts: a retried phone counted already, and counting it
    // again would let one dead phone halt every rollout. Its retries end in success or parking.
    if (this.policy && !step.retry) {
      const verdict = judgeBlock(
        this.policy,
        { block: index + 1, canary: step.canary, outcomes: recorded.tally ?? [] },
        this.failedBlocksInRow,
        this.args.targetVersion,
      );
      this.failedBlocksInRow = verdict.failedBlocksInRow;
      if (verdict.halt) {
        this.halted = verdict.reason;
        this.steered++;
        await this.publish('rollout.halted', 'system', {
          block: index + 1,
          canary: step.canary,
          phones: (recorded.failures ?? []).map((f) => ({
            mac: f.mac,
            outcome: f.outcome,
            attempt: f.attempt,
            ...(f.reason ? { reason: f.reason.text, reasonCode: f.reason.code } : {}),
          })),
        });
      }
    }
    this.show();
    return undefined;
  }

  /**
   * Runs one block in a scope an admin's cancel can reach; a block no edge picks up waits (visibly) for one.
   * Infrastructure failures (database, edge crash) are retried by the activity's policy; only a block that cannot
   * run as asked (non-retryable) stops the rollout.
   */
  private async runBlock(index: number, phoneIds: number[]): Promise<Stop | undefined> {
    for (;;) {
      if (this.cancelRequested) return this.cancelStop();
      this.blockScope = new CancellationScope();
      try {
        await this.blockScope.run(() =>
          this.phones
            // The Temporal UI shows this beside the scheduled activity.
            .phonesAs(
              `block ${index + 1}${index === 0 ? ' (canary)' : ''}: ${phoneIds.length} phones of ${this.args.modelId} → ${this.args.targetVersion}`,
            )
            .updatePhoneBlock({
              pbxId: this.args.pbxId,
              modelId: this.args.modelId,
              targetVersion: this.args.targetVersion,
              direction: this.direction,
              phoneIds,
              rolloutId: this.rolloutId,
              block: index,
              ...this.actor,
            }),
        );
        if (this.waitingForEdge) {
          this.waitingForEdge = null;
          this.show();
          await this.acts.bookkeeping.noteRolloutWaiting({ rolloutId: this.rolloutId, reason: this.why() });
        }
        return undefined;
      } catch (err) {
        if (this.cancelRequested && isCancellation(err)) return this.cancelStop();
        if (
          err instanceof ActivityFailure &&
          err.cause instanceof TimeoutFailure &&
          err.cause.timeoutType === TimeoutType.SCHEDULE_TO_START
        ) {
          // The edge that reaches these phones is down: the rollout waits for it, and says so.
          if (this.waitingForEdge?.code !== 'waiting-for-edge') {
            this.waitingForEdge = reason('waiting-for-edge', {
              block: index + 1,
              wait: EDGE_WAIT,
              queue: this.args.queues?.phones ?? DEFAULT_QUEUES.phones,
            });
            this.show();
            await this.acts.bookkeeping.noteRolloutWaiting({
              rolloutId: this.rolloutId,
              reason: this.waitingForEdge,
            });
          }
          continue;
        }
        if (isCancellation(err)) throw err;
        const failure = err instanceof ActivityFailure ? err.cause : err;
        if (failure instanceof ApplicationFailure && failure.type === 'AutoUpdateOff') {
          return { status: 'cancelled', reason: reason('auto-update-switched-off') };
        }
        if (failure instanceof ApplicationFailure && failure.type === 'TypeHeld') {
          return { status: 'cancelled', reason: reason('type-held-meanwhile', { error: failure.message }) };
        }
        return {
          status: 'failed',
          reason: reason('block-failed', { block: index + 1, error: errorMessage(err) }),
        };
      } finally {
        this.blockScope = null;
      }
    }
  }
}
