/**
 * The API's side of the contract in workflows/messages.ts: everything the API asks of a PBX's lifecycle
 * workflow `pbx/<id>` goes through these functions. Buttons and PBX events are Updates (the caller learns at once
 * what was started or why not); settings changes are a signal. Each call starts the workflow if it is not running
 * (it is the PBX's long-lived entity; a missing one is a fault to heal, not an error to show).
 */
import { type Client, WithStartWorkflowOperation, WorkflowUpdateFailedError } from '@temporalio/client';
import type { QueryDefinition, UpdateDefinition } from '@temporalio/common';
import type { Db } from '../db/client.ts';
import { listPbxes, type PbxRow } from '../db/queries/pbxes.ts';
import type { Config } from '../lib/config.ts';
import type { Logger } from '../lib/logger.ts';
import {
  type LifecycleArgs,
  type RolloutProgress,
  rolloutProgressQuery,
  settingsChangedSignal,
  workflowIds,
} from '../workflows/messages.ts';
import { ApiError } from './errors.ts';

export const LIFECYCLE_WORKFLOW_TYPE = 'pbxLifecycle';
const QUERY_TIMEOUT_MS = 5_000;

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

/** Sends a button or PBX event to the workflow and waits for its answer. */
export async function askLifecycle<Ret, Arg>(
  deps: TemporalDeps,
  pbx: PbxMoment,
  update: UpdateDefinition<Ret, [Arg]>,
  arg: Arg,
): Promise<Ret> {
  const timeoutMs = deps.config.api.workflowAnswerTimeoutMs;
  const startWorkflowOperation = new WithStartWorkflowOperation(LIFECYCLE_WORKFLOW_TYPE, {
    ...startOptions(deps.config, pbx),
    workflowIdConflictPolicy: 'USE_EXISTING',
  });
  try {
    return await deps.temporal.withAbortSignal(AbortSignal.timeout(timeoutMs), () =>
      deps.temporal.workflow.executeUpdateWithStart(update, { args: [arg], startWorkflowOperation }),
    );
  } catch (err) {
    if (err instanceof WorkflowUpdateFailedError) {
      // The workflow's validator or handler refused: the admin gets its reason.
      throw new ApiError(409, err.cause?.message ?? err.message);
    }
    if (isAbort(err)) {
      throw new ApiError(504, `the workflow of PBX ${pbx.id} did not answer within ${timeoutMs / 1000} s`);
    }
    throw new ApiError(503, `Temporal is not reachable: ${err instanceof Error ? err.message : String(err)}`);
  }
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

/** A rollout run's live progress (by workflow id, and run id when known), or null when it cannot answer. */
export async function liveRolloutProgress(
  deps: TemporalDeps,
  workflowId: string,
  runId?: string,
): Promise<RolloutProgress | null> {
  return queryOrNull(deps, workflowId, rolloutProgressQuery, runId);
}

async function queryOrNull<T>(
  deps: TemporalDeps,
  workflowId: string,
  query: QueryDefinition<T, []>,
  runId?: string,
): Promise<T | null> {
  try {
    return await deps.temporal.withAbortSignal(AbortSignal.timeout(QUERY_TIMEOUT_MS), () =>
      deps.temporal.workflow.getHandle(workflowId, runId).query(query),
    );
  } catch {
    return null;
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
