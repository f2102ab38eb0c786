/**
 * The rollout as it ran before issue 13 (no canary, threshold, pause or retries), kept unchanged so that rollouts
 * started then replay: `phoneRollout` runs it only for histories without the `rollout-safety` marker. Remove it
 * (with `deprecatePatch`) once no such rollout can be open any more.
 *
 * One type, one target version, one PBX: the phones below the target go out in blocks of 50 (R12), one block
 * after another. The run records its end on every path — every block ran, Auto-Update switched off (R7), a block
 * that cannot run, a cancel request — and its word (domain/rollout.ts) is the same in the database, the journal,
 * its result, its current details and the `RolloutStatus` search attribute. A rollout in which no phone reached
 * the target fails as a workflow, so the Temporal UI lists it as failed too.
 */
import { ActivityFailure, ApplicationFailure, TimeoutFailure, TimeoutType } from '@temporalio/common';
import {
  CancellationScope,
  isCancellation,
  setCurrentDetails,
  setHandler,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { FinishRolloutResult, StartRolloutResult } from '../activities/contracts.ts';
import { rolloutBlocks } from '../domain/blocks.ts';
import { type Reason, reason } from '../domain/reasons.ts';
import {
  countOutcomes,
  describeCounts,
  doneOf,
  percentDone,
  type RolloutCounts,
  type RolloutStatus,
  summaryLine,
} from '../domain/rollout.ts';
import { activitiesFor } from './activities.ts';
import { DEFAULT_QUEUES, type RolloutArgs, type RolloutSummary, rolloutProgressQuery } from './messages.ts';
import { RolloutStatusAttr } from './search-attributes.ts';
import { errorMessage, rolloutFailed, startEnded } from './steps.ts';

/** How long a block may wait for a phone edge to pick it up before the rollout says it is waiting for one. */
const EDGE_WAIT = '2 minutes';

export async function legacyPhoneRollout(args: RolloutArgs): Promise<RolloutSummary> {
  const acts = activitiesFor(args.queues);
  const phonesQueue = activitiesFor(args.queues, { phonesScheduleToStart: EDGE_WAIT }).phones;
  const { workflowId, runId } = workflowInfo();
  const actor = { why: args.why, who: args.who };
  let status: RolloutStatus = 'running';
  let counts: RolloutCounts = countOutcomes(0, []);
  const issue13 = {
    retrying: 0,
    currentBlock: null,
    direction: 'upgrade',
    policy: null,
    fleetRolloutId: null,
  } as const;
  let blocks = 0;
  let blocksDone = 0;
  let why: Reason | null = null;

  const summary = (): RolloutSummary => {
    const line = summaryLine(args, status, counts, why);
    return {
      rolloutId: runId,
      workflowId,
      pbxId: args.pbxId,
      modelId: args.modelId,
      model: args.model,
      targetVersion: args.targetVersion,
      status,
      reason: why,
      ...counts,
      done: doneOf(counts),
      blocks,
      blocksDone,
      percent: percentDone(counts, status),
      summary: line,
      ...issue13,
    };
  };
  setHandler(rolloutProgressQuery, summary);
  let shownStatus: RolloutStatus | undefined;
  const show = () => {
    if (status !== shownStatus) {
      shownStatus = status;
      upsertSearchAttributes([{ key: RolloutStatusAttr, value: status }]);
    }
    const s = summary();
    setCurrentDetails(
      `**${args.model} → ${args.targetVersion}** on ${args.pbxId}: **${status}**\n\n` +
        `block ${Math.min(blocksDone + 1, Math.max(blocks, 1))} of ${blocks} · ${s.done}/${s.total} phones (${s.percent} %)\n\n` +
        `${describeCounts(counts)}${why ? `\n\n${why.text}` : ''}`,
    );
  };
  show();

  const started = await acts.bookkeeping.startRollout({
    rolloutId: runId,
    workflowId,
    pbxId: args.pbxId,
    modelId: args.modelId,
    targetVersion: args.targetVersion,
    ...actor,
  });
  // Histories recorded before the firmware-gone change hold `{ refused }`; today's activity answers `{ ended }`.
  const early = startEnded(started);
  if (early) {
    status = early.status;
    why = early.reason;
    show();
    if (status === 'failed') throw rolloutFailed(summary());
    return summary();
  }
  const start = started as Extract<StartRolloutResult, { ended?: undefined }>;

  const plan = rolloutBlocks(start.phoneIds);
  blocks = plan.length;
  counts = countOutcomes(start.total, Array(start.notContacted).fill('not-contacted'));
  show();

  let stopped: { status: 'cancelled' | 'failed'; reason: Reason } | undefined;
  try {
    for (const [index, phoneIds] of plan.entries()) {
      stopped = await runBlock(index, phoneIds);
      if (stopped) break;
      const recorded = await acts.bookkeeping.recordBlock({
        rolloutId: runId,
        pbxId: args.pbxId,
        modelId: args.modelId,
        block: index,
        total: start.total,
      });
      counts = recorded.counts;
      blocksDone = index + 1;
      show();
      if (!recorded.autoUpdate && index < plan.length - 1) {
        // R7: the admin switched Auto-Update off while this rollout ran; no further phone of the type is touched.
        stopped = { status: 'cancelled', reason: reason('auto-update-switched-off') };
        break;
      }
    }
  } catch (err) {
    stopped = isCancellation(err)
      ? {
          status: 'cancelled',
          reason: reason('cancelled-by-admin', { who: 'Temporal (workflow cancelled)' }),
        }
      : { status: 'failed', reason: reason('rollout-error', { error: errorMessage(err) }) };
  }

  // Whatever happened above, the end is recorded (and a cancelled workflow still gets to record it).
  const ended: FinishRolloutResult = await CancellationScope.nonCancellable(() =>
    acts.bookkeeping.finishRollout({
      rolloutId: runId,
      pbxId: args.pbxId,
      modelId: args.modelId,
      targetVersion: args.targetVersion,
      total: start.total,
      ...actor,
      ...(stopped ? { stopped } : {}),
    }),
  );
  status = ended.status;
  why = ended.reason;
  counts = ended.counts;
  show();
  const result = summary();
  if (status === 'failed') throw rolloutFailed(result);
  return result;

  /**
   * Runs one block; a block no edge picks up waits (visibly) for one. Returns why the rollout stops, if it must.
   * Infrastructure failures (database, edge crash) are retried by the activity's policy; only a block that cannot
   * run as asked (non-retryable) stops the rollout.
   */
  async function runBlock(index: number, phoneIds: number[]): Promise<typeof stopped> {
    for (;;) {
      try {
        await phonesQueue.updatePhoneBlock({
          pbxId: args.pbxId,
          modelId: args.modelId,
          targetVersion: args.targetVersion,
          phoneIds,
          rolloutId: runId,
          block: index,
          ...actor,
        });
        if (why?.code === 'waiting-for-edge') {
          why = null;
          await acts.bookkeeping.noteRolloutWaiting({ rolloutId: runId, reason: null });
        }
        return undefined;
      } catch (err) {
        if (
          err instanceof ActivityFailure &&
          err.cause instanceof TimeoutFailure &&
          err.cause.timeoutType === TimeoutType.SCHEDULE_TO_START
        ) {
          // The edge that reaches these phones is down: the rollout waits for it, and says so.
          if (why?.code !== 'waiting-for-edge') {
            why = reason('waiting-for-edge', {
              block: index + 1,
              wait: EDGE_WAIT,
              queue: args.queues?.phones ?? DEFAULT_QUEUES.phones,
            });
            show();
            await acts.bookkeeping.noteRolloutWaiting({ rolloutId: runId, reason: why });
          }
          continue;
        }
        if (isCancellation(err)) throw err;
        const failure = err instanceof ActivityFailure ? err.cause : err;
        if (failure instanceof ApplicationFailure && failure.type === 'AutoUpdateOff') {
          return { status: 'cancelled', reason: reason('auto-update-switched-off') };
        }
        return {
          status: 'failed',
          reason: reason('block-failed', { block: index + 1, error: errorMessage(err) }),
        };
      }
    }
  }
}
