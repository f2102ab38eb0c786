/**
 * Steps shared by the lifecycle workflow and the R13 trigger children: check, download, start rollouts.
 * Workflow code: deterministic, all I/O through activities.
 */
import {
  ActivityFailure,
  ApplicationFailure,
  CancelledFailure,
  ChildWorkflowFailure,
  TerminatedFailure,
  TimeoutFailure,
  WorkflowExecutionAlreadyStartedError,
} from '@temporalio/common';
import {
  CancellationScope,
  type ChildWorkflowHandle,
  patched,
  startChild,
  workflowInfo,
} from '@temporalio/workflow';
import type {
  Actor,
  CheckReport,
  DownloadResult,
  RolloutPlan,
  StartRolloutResult,
} from '../activities/contracts.ts';
import { type Reason, reason } from '../domain/reasons.ts';
import type { RolloutStatus } from '../domain/rollout.ts';
import type { Activities } from './activities.ts';
import {
  type CheckNowResult,
  type RolloutArgs,
  type RolloutSummary,
  type TaskQueueNames,
  type TypeDecision,
  workflowIds,
} from './messages.ts';
import { phoneRollout } from './rollout.ts';
import {
  FirmwarePhaseAttr,
  PbxIdAttr,
  PhoneModelAttr,
  RolloutStatusAttr,
  TargetVersionAttr,
} from './search-attributes.ts';

/** Refuses an Update in its validator (before it reaches the history), with the reason's code for the API. */
/** A rollout in which no phone reached the target fails as an execution too, carrying its summary. */
export function rolloutFailed(result: RolloutSummary): ApplicationFailure {
  return ApplicationFailure.create({
    type: 'RolloutFailed',
    message: result.summary,
    details: [result],
    nonRetryable: true,
  });
}

/**
 * How a rollout ended before any phone was touched, if it did: `{ ended, reason }` today, `{ refused }` in
 * histories recorded before a rollout whose firmware is gone ended `failed` (they still replay).
 */
export function startEnded(
  start: StartRolloutResult | { refused: Reason },
): { status: Extract<RolloutStatus, 'refused' | 'failed'>; reason: Reason } | null {
  if ('refused' in start && start.refused) return { status: 'refused', reason: start.refused };
  if ('ended' in start && start.ended !== undefined) return { status: start.ended, reason: start.reason };
  return null;
}

export function refuse(why: Reason): ApplicationFailure {
  return ApplicationFailure.create({ type: 'ControlRefused', message: why.text, details: [why] });
}

export function errorMessage(err: unknown): string {
  if ((err instanceof ActivityFailure || err instanceof ChildWorkflowFailure) && err.cause)
    return errorMessage(err.cause);
  if (err instanceof ApplicationFailure) return err.message;
  return err instanceof Error ? err.message : String(err);
}

/** R9 / Check now: sync the catalog and compare. If the server stays unreachable through all retries, report that (R3). */
export async function runCheck(
  acts: Activities,
  input: { pbxId: string; modelIds?: string[] } & Actor,
): Promise<CheckReport> {
  try {
    return await acts.catalog.checkFirmware(input);
  } catch (err) {
    const message = errorMessage(err);
    await acts.bookkeeping.recordJournal({
      pbxId: input.pbxId,
      action: 'check.failed',
      why: input.why,
      who: input.who,
      details: { error: message },
    });
    return {
      pbxId: input.pbxId,
      checkedAt: new Date().toISOString(),
      catalogOk: false,
      catalogError: message,
      types: [],
    };
  }
}

export function summarizeCheck(report: CheckReport): CheckNowResult {
  return {
    checkedAt: report.checkedAt,
    catalogOk: report.catalogOk,
    ...(report.catalogError ? { catalogError: report.catalogError } : {}),
    types: report.types.map((t) => ({
      modelId: t.modelId,
      model: t.model,
      newestLocal: t.newestLocal,
      newestAvailable: t.newestAvailable?.version ?? null,
      needsDownload: t.needsDownload,
    })),
  };
}

export interface DownloadItem {
  modelId: string;
  releaseId: string;
  version: string;
}

export function downloadItems(report: CheckReport): DownloadItem[] {
  return report.types.flatMap((t) =>
    t.needsDownload && t.newestAvailable
      ? [{ modelId: t.modelId, releaseId: t.newestAvailable.releaseId, version: t.newestAvailable.version }]
      : [],
  );
}

/** Downloads in parallel (the downloads queue bounds concurrency); a failed item is journaled, the others go on. */
export async function runDownloads(
  acts: Activities,
  pbxId: string,
  items: DownloadItem[],
  actor: Actor,
): Promise<DownloadResult[]> {
  const settled = await Promise.allSettled(
    items.map((i) =>
      acts
        .downloadsAs(`download ${i.modelId} ${i.version} (${actor.why})`)
        .downloadFirmware({ pbxId, modelId: i.modelId, releaseId: i.releaseId, ...actor }),
    ),
  );
  const done: DownloadResult[] = [];
  for (const [idx, s] of settled.entries()) {
    if (s.status === 'fulfilled') {
      done.push(s.value);
      continue;
    }
    const item = items[idx] as DownloadItem;
    await acts.bookkeeping.recordJournal({
      pbxId,
      action: 'download.failed',
      ...actor,
      modelId: item.modelId,
      details: { version: item.version, releaseId: item.releaseId, error: errorMessage(s.reason) },
    });
  }
  return done;
}

export interface RunningRollout {
  modelId: string;
  workflowId: string;
  targetVersion: string;
  handle: ChildWorkflowHandle<typeof phoneRollout>;
  /** Settles once the child closed and its end is recorded: its final word. */
  ended: Promise<RolloutStatus>;
}

/** The word a closed rollout child ended with; records the end itself when the child could not (terminated). */
export async function awaitRolloutEnd(
  acts: Activities,
  pbxId: string,
  handle: ChildWorkflowHandle<typeof phoneRollout>,
): Promise<RolloutStatus> {
  try {
    return (await handle.result()).status;
  } catch (err) {
    const failure = err instanceof ChildWorkflowFailure ? err.cause : err;
    if (failure instanceof ApplicationFailure && failure.type === 'RolloutFailed') return 'failed';
    // Terminated, timed out, or failed before it could record its end: the parent records it, saying so.
    const closeStatus =
      failure instanceof TerminatedFailure
        ? 'terminated'
        : failure instanceof CancelledFailure
          ? 'cancelled'
          : failure instanceof TimeoutFailure
            ? 'timed-out'
            : 'failed';
    const settled = await CancellationScope.nonCancellable(() =>
      acts.bookkeeping.settleRollout({ rolloutId: handle.firstExecutionRunId, pbxId, closeStatus }),
    );
    return settled?.status ?? 'failed';
  }
}

/** Options of one type's rollout (issue 13): its own canary, only some phones, a deliberate downgrade. */
export interface RolloutOptions {
  canarySize?: number;
  phoneIds?: number[];
  downgradeTo?: string;
}

/**
 * Starts a rollout child (R12: its workflow id names the PBX and type, so Temporal refuses a second one while one
 * is open) and watches for its end; the end settles with the child's final word.
 */
export async function startRolloutChild(
  acts: Activities,
  args: RolloutArgs,
  workflowId: string,
  summary: string,
): Promise<Omit<RunningRollout, 'modelId'>> {
  const handle = await startChild(phoneRollout, {
    workflowId,
    args: [args],
    taskQueue: workflowInfo().taskQueue,
    typedSearchAttributes: [
      { key: PbxIdAttr, value: args.pbxId },
      { key: PhoneModelAttr, value: args.modelId },
      { key: FirmwarePhaseAttr, value: 'rollout' },
      { key: TargetVersionAttr, value: args.targetVersion },
      { key: RolloutStatusAttr, value: 'running' },
    ],
    staticSummary: summary,
  });
  return {
    workflowId,
    targetVersion: args.targetVersion,
    handle,
    ended: awaitRolloutEnd(acts, args.pbxId, handle),
  };
}

/** Why a type has nothing to roll out, from its plan (R6 all current, a hold, no firmware, a downgrade). */
function nothingToDo(plan: RolloutPlan, options: RolloutOptions): Reason {
  const held =
    plan.heldBack && plan.heldAt ? reason('type-held', { model: plan.model, version: plan.heldAt }) : null;
  if (!plan.targetVersion) return held ?? reason('no-local-firmware');
  if (options.downgradeTo) return reason('nothing-above-target', { version: plan.targetVersion });
  if (held) return held;
  return plan.phonesUnknownVersion > 0
    ? reason('all-current-some-unknown', {
        version: plan.targetVersion,
        notContacted: plan.phonesUnknownVersion,
      })
    : reason('all-current', { version: plan.targetVersion });
}

/**
 * R7 + R11/R12: for each type, start a rollout child to the newest local firmware (not beyond the type's hold) —
 * unless Auto-Update is off (refused, journaled, visible to the caller), nothing needs it, or one is already
 * running (R12: one rollout per PBX and type, whoever started it: the workflow id names the type, so Temporal
 * refuses a second one).
 */
export async function startRollouts(
  ctx: {
    acts: Activities;
    pbxId: string;
    queues: TaskQueueNames;
    running: Map<string, RunningRollout>;
    onSettled: () => void;
  },
  modelIds: string[] | undefined,
  actor: { why: 'schedule' | 'manual' | 'trigger'; who: string },
  options: RolloutOptions = {},
): Promise<TypeDecision[]> {
  const { acts, pbxId, running } = ctx;
  const plans = await acts.bookkeeping.planRollouts({
    pbxId,
    ...(modelIds ? { modelIds } : {}),
    ...(options.downgradeTo ? { targetVersion: options.downgradeTo, direction: 'downgrade' as const } : {}),
    ...(options.phoneIds ? { phoneIds: options.phoneIds } : {}),
  });
  const decisions: TypeDecision[] = [];
  const idPerType = patched('rollout-id-per-type');
  for (const plan of plans) {
    const base = { modelId: plan.modelId, model: plan.model };
    if (!plan.autoUpdate) {
      const why = reason('auto-update-off', { model: plan.model });
      decisions.push({ ...base, status: 'refused', reason: why });
      await acts.bookkeeping.recordJournal({
        pbxId,
        action: 'rollout.refused',
        ...actor,
        modelId: plan.modelId,
        details: { reason: why.text, reasonCode: why.code },
      });
      continue;
    }
    if (!plan.targetVersion || plan.phonesNeedingUpdate === 0) {
      decisions.push({ ...base, status: 'nothing-to-do', reason: nothingToDo(plan, options) });
      continue;
    }
    const target = plan.targetVersion;
    const workflowId = idPerType
      ? workflowIds.rollout(pbxId, plan.modelId)
      : workflowIds.rolloutPerVersion(pbxId, plan.model, target);
    const alreadyRunning = async (): Promise<TypeDecision> => {
      const other = idPerType
        ? await acts.bookkeeping.runningRollout({ pbxId, modelId: plan.modelId })
        : null;
      const version = other?.targetVersion ?? running.get(plan.modelId)?.targetVersion ?? target;
      return {
        ...base,
        status: 'already-running',
        workflowId: other?.workflowId ?? running.get(plan.modelId)?.workflowId ?? workflowId,
        targetVersion: version,
        reason: reason('already-running', { model: plan.model, version }),
      };
    };
    if (running.has(plan.modelId)) {
      decisions.push(await alreadyRunning());
      continue;
    }
    const args: RolloutArgs = {
      pbxId,
      modelId: plan.modelId,
      model: plan.model,
      targetVersion: target,
      why: actor.why,
      who: actor.who,
      queues: ctx.queues,
      ...(options.downgradeTo ? { direction: 'downgrade' as const } : {}),
      ...(options.canarySize !== undefined ? { canarySize: options.canarySize } : {}),
      ...(options.phoneIds ? { phoneIds: options.phoneIds } : {}),
    };
    try {
      const child = await startRolloutChild(
        acts,
        args,
        workflowId,
        `${options.downgradeTo ? 'Downgrade' : 'Rollout'} ${plan.model} → ${target} on ${pbxId} (${plan.phonesNeedingUpdate} phones, ${actor.why})`,
      );
      const entry: RunningRollout = { modelId: plan.modelId, ...child };
      running.set(plan.modelId, entry);
      void entry.ended.finally(() => {
        if (running.get(plan.modelId) === entry) running.delete(plan.modelId);
        ctx.onSettled();
      });
      decisions.push({
        ...base,
        status: 'started',
        workflowId,
        targetVersion: target,
        phones: plan.phonesNeedingUpdate,
      });
    } catch (err) {
      if (err instanceof WorkflowExecutionAlreadyStartedError) {
        decisions.push(await alreadyRunning());
      } else {
        throw err;
      }
    }
  }
  return decisions;
}
