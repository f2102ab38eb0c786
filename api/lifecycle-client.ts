/**
 * The API's side of the contract in workflows/messages.ts: everything the API asks of a PBX's lifecycle
 * workflow `pbx/<id>` goes through these functions. Buttons and PBX events are Updates (the caller learns at once
 * what was started or why not); settings changes are a signal. Each call starts the workflow if it is not running
 * (it is the PBX's long-lived entity; a missing one is a fault to heal, not an error to show).
 */
import { randomUUID } from 'node:crypto';
import { type Client, WithStartWorkflowOperation, WorkflowUpdateFailedError } from '@temporalio/client';
import { ApplicationFailure, type UpdateDefinition } from '@temporalio/common';
import type { Db } from '../db/client.ts';
import { listPbxes, type PbxRow } from '../db/queries/pbxes.ts';
import type { Config } from '../lib/config.ts';
import type { Logger } from '../lib/logger.ts';
import { type LifecycleArgs, settingsChangedSignal, workflowIds } from '../workflows/messages.ts';
import { ApiError } from './errors.ts';

export const LIFECYCLE_WORKFLOW_TYPE = 'pbxLifecycle';

type TemporalDeps = { config: Config; temporal: Client };
type PbxMoment = Pick<PbxRow, 'id' | 'weeklyCheckDay' | 'weeklyCheckMinute' | 'phonesTaskQueue'>;

/** R9: the stored weekly check moment travels with the workflow's arguments; the workflow never draws it. */
export function lifecycleArgs(config: Config, pbx: PbxMoment): LifecycleArgs {
  return {
    pbxId: pbx.id,
    queues: {
      downloads: config.taskQueues.downloads,
      phones: pbx.phonesTaskQueue ?? config.taskQueues.phones,
    },
    weeklyCheck: { day: pbx.weeklyCheckDay, minute: pbx.weeklyCheckMinute },
  };
}

function startOptions(config: Config, pbx: PbxMoment) {
  return {
    workflowId: workflowIds.lifecycle(pbx.id),
    taskQueue: config.taskQueues.lifecycle,
    args: [lifecycleArgs(config, pbx)] as [LifecycleArgs],
  };
}

/** Starts the PBX's lifecycle workflow, or leaves the running one alone. */
export async function startLifecycle(deps: TemporalDeps, pbx: PbxMoment): Promise<void> {
  await deps.temporal.workflow.start(LIFECYCLE_WORKFLOW_TYPE, {
    ...startOptions(deps.config, pbx),
    workflowIdConflictPolicy: 'USE_EXISTING',
  });
}

/** Workflow starts ensureLifecycles has on their way at once. */
const ENSURE_PARALLEL = 32;

/**
 * At API start: every PBX in the database gets its lifecycle workflow running (idempotent). The running ones are
 * read from Temporal's visibility in pages of 1,000 and only the others are started, many at once: with 10,000
 * PBXes the API used to start them one after another (6.7 ms each, 67 s before it listened). Visibility may lag a
 * start by a moment; starting a running workflow again is harmless (USE_EXISTING), so a lag costs a call, never a
 * second workflow. Without visibility (an old server), every PBX is started, still many at once.
 */
export async function ensureLifecycles(
  db: Db,
  temporal: Client,
  config: Config,
  logger: Logger,
): Promise<{ pbxes: number; started: number; running: number }> {
  const started = Date.now();
  const all = await listPbxes(db);
  let running = new Set<string>();
  try {
    running = await runningLifecycles(temporal);
  } catch (err) {
    logger.warn({ err }, 'cannot list running lifecycle workflows; starting every PBX (idempotent)');
  }
  const missing = all.filter((p) => !running.has(workflowIds.lifecycle(p.id)));
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(ENSURE_PARALLEL, missing.length) }, async () => {
      while (next < missing.length) await startLifecycle({ config, temporal }, missing[next++] as PbxRow);
    }),
  );
  const result = { pbxes: all.length, started: missing.length, running: all.length - missing.length };
  logger.info({ ...result, ms: Date.now() - started }, 'lifecycle workflows ensured');
  return result;
}

/** Workflow ids of the running lifecycle workflows, from Temporal's visibility. */
async function runningLifecycles(temporal: Client): Promise<Set<string>> {
  const ids = new Set<string>();
  const query = `WorkflowType = '${LIFECYCLE_WORKFLOW_TYPE}' AND ExecutionStatus = 'Running'`;
  for await (const w of temporal.workflow.list({ query, pageSize: 1000 })) ids.add(w.workflowId);
  return ids;
}

/** An Update that starts the PBX's workflow if it is not running (a missing one is healed, not shown). */
function startingIfNeeded(deps: TemporalDeps, pbx: PbxMoment) {
  return new WithStartWorkflowOperation(LIFECYCLE_WORKFLOW_TYPE, {
    ...startOptions(deps.config, pbx),
    workflowIdConflictPolicy: 'USE_EXISTING',
  });
}

/** Sends a PBX event (or a button) to the workflow and waits for its answer, up to API_WORKFLOW_ANSWER_TIMEOUT_MS. */
export async function askLifecycle<Ret, Arg>(
  deps: TemporalDeps,
  pbx: PbxMoment,
  update: UpdateDefinition<Ret, [Arg]>,
  arg: Arg,
): Promise<Ret> {
  const startWorkflowOperation = startingIfNeeded(deps, pbx);
  return asApiError(deps, pbx, () =>
    deps.temporal.withAbortSignal(AbortSignal.timeout(deps.config.api.workflowAnswerTimeoutMs), () =>
      deps.temporal.workflow.executeUpdateWithStart(update, { args: [arg], startWorkflowOperation }),
    ),
  );
}

/** A button's answer: the workflow's result, or (not within `answerWaitMs`) where to fetch it later. */
export type BriefAnswer<Ret> = { done: true; result: Ret } | { done: false; actionId: string };

/**
 * Sends a button to the workflow and waits at most `answerWaitMs` (issue 11, item 8): a check against a firmware
 * server that keeps failing is retried by Temporal for up to an hour, and the admin should not hold a request open
 * for that. What the button starts goes on either way; its result is fetched with {@link actionResult}.
 */
export async function askLifecycleBriefly<Ret, Arg>(
  deps: TemporalDeps,
  pbx: PbxMoment,
  update: UpdateDefinition<Ret, [Arg]>,
  arg: Arg,
): Promise<BriefAnswer<Ret>> {
  const updateId = randomUUID();
  const startWorkflowOperation = startingIfNeeded(deps, pbx);
  const handle = await asApiError(deps, pbx, () =>
    deps.temporal.withAbortSignal(AbortSignal.timeout(deps.config.api.workflowAnswerTimeoutMs), () =>
      deps.temporal.workflow.startUpdateWithStart(update, {
        args: [arg],
        updateId,
        waitForStage: 'ACCEPTED',
        startWorkflowOperation,
      }),
    ),
  );
  const runId =
    handle.workflowRunId ??
    (await deps.temporal.workflow.getHandle(workflowIds.lifecycle(pbx.id)).describe()).runId;
  const result = await waitForResult(deps, pbx, () => handle.result(), deps.config.api.answerWaitMs);
  return result === undefined ? { done: false, actionId: `${updateId}.${runId}` } : { done: true, result };
}

/**
 * The result of a button that answered 202 (issue 11, item 8): undefined while it still runs. The action id names
 * the update and the run of this PBX's own workflow, so a tenant can only ever read its own PBX's answers.
 */
export async function actionResult<Ret>(
  deps: TemporalDeps,
  pbx: PbxMoment,
  actionId: string,
  waitMs: number,
): Promise<Ret | undefined> {
  // `<update id>.<run id>` (ACTION_ID_PATTERN, validated by the route): the update, in the run that took it.
  const [updateId = '', runId = ''] = actionId.split('.');
  const handle = deps.temporal.workflow
    .getHandle(workflowIds.lifecycle(pbx.id), runId)
    .getUpdateHandle<Ret>(updateId, { workflowRunId: runId });
  return waitForResult(deps, pbx, () => handle.result(), waitMs);
}

/** The result if it comes within `waitMs`; undefined if not; refusals and Temporal trouble as ApiErrors. */
async function waitForResult<Ret>(
  deps: TemporalDeps,
  pbx: PbxMoment,
  result: () => Promise<Ret>,
  waitMs: number,
): Promise<Ret | undefined> {
  try {
    return await deps.temporal.withAbortSignal(AbortSignal.timeout(waitMs), result);
  } catch (err) {
    if (isAbort(err) && !(err instanceof WorkflowUpdateFailedError)) return undefined;
    if (isNotFound(err)) throw new ApiError(404, 'no such action on this PBX', 'actionId');
    return asApiError(deps, pbx, () => Promise.reject(err));
  }
}

/** The reason code a workflow gave with a refusal (an ApplicationFailure whose first detail is a Reason). */
function refusalReason(err: WorkflowUpdateFailedError): Record<string, unknown> | undefined {
  const cause = err.cause;
  if (!(cause instanceof ApplicationFailure)) return undefined;
  const [first] = cause.details ?? [];
  return first && typeof first === 'object' && 'code' in first ? { reason: first } : undefined;
}

/**
 * What the workflow refused (409, with its reason code when it gave one), what it did not answer in time (504),
 * Temporal out of reach (503). `what` names the workflow in the 504 answer.
 */
export async function asApiError<T>(
  deps: TemporalDeps,
  pbx: Pick<PbxMoment, 'id'> | { what: string },
  work: () => Promise<T>,
): Promise<T> {
  try {
    return await work();
  } catch (err) {
    if (err instanceof ApiError) throw err;
    if (err instanceof WorkflowUpdateFailedError) {
      throw new ApiError(409, err.cause?.message ?? err.message, undefined, refusalReason(err));
    }
    if (isAbort(err)) {
      const s = deps.config.api.workflowAnswerTimeoutMs / 1000;
      const what = 'what' in pbx ? pbx.what : `the workflow of PBX ${pbx.id}`;
      throw new ApiError(504, `${what} did not answer within ${s} s`);
    }
    throw new ApiError(503, `Temporal is not reachable: ${err instanceof Error ? err.message : String(err)}`);
  }
}

function isNotFound(err: unknown): boolean {
  for (let e: unknown = err; e instanceof Error; e = (e as { cause?: unknown }).cause) {
    if (e.name === 'WorkflowNotFoundError' || (e as { code?: number }).code === 5) return true;
    if (/not found/i.test(e.message)) return true;
  }
  return false;
}

/**
 * R7 / R8 / R11 changed in the database: the workflow reloads its settings. The change is stored and journalled
 * either way, so a failed signal is logged, not shown as a failed change; false tells the caller.
 */
export async function notifySettingsChanged(
  deps: TemporalDeps & { logger: Logger },
  pbx: PbxMoment,
  who: string,
): Promise<boolean> {
  try {
    await deps.temporal.workflow.signalWithStart(LIFECYCLE_WORKFLOW_TYPE, {
      ...startOptions(deps.config, pbx),
      signal: settingsChangedSignal,
      signalArgs: [{ who }],
    });
    return true;
  } catch (err) {
    deps.logger.error(
      { err, pbxId: pbx.id },
      'settings stored but the lifecycle workflow could not be signalled',
    );
    return false;
  }
}

/** Where an admin sees a workflow (a rollout run, the PBX lifecycle) in the Temporal Web UI. */
export function temporalUiUrl(config: Config, workflowId: string, runId?: string): string {
  const base = config.temporal.uiUrl.replace(/\/+$/, '');
  const workflow = `${base}/namespaces/${encodeURIComponent(config.temporal.namespace)}/workflows/${encodeURIComponent(workflowId)}`;
  return runId ? `${workflow}/${encodeURIComponent(runId)}/history` : workflow;
}

function isAbort(err: unknown): boolean {
  for (let e: unknown = err; e instanceof Error; e = (e as { cause?: unknown }).cause) {
    if (
      e.name === 'AbortError' ||
      e.name === 'TimeoutError' ||
      e.name === 'WorkflowUpdateRPCTimeoutOrCancelledError'
    ) {
      return true;
    }
    if (/cancel|deadline|abort/i.test(e.message)) return true;
  }
  return false;
}
