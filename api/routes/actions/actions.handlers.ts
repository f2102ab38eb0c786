import type { UpdateDefinition } from '@temporalio/common';
import type { Context } from 'hono';
import { getCatalogState } from '../../../db/queries/catalog.ts';
import { appendJournal } from '../../../db/queries/journal.ts';
import { setSoftwareVersion } from '../../../db/queries/pbxes.ts';
import {
  type CheckNowResult,
  checkNowUpdate,
  type DownloadNowResult,
  downloadNowUpdate,
  type ManualRequest,
  type PbxEvent,
  pbxEventUpdate,
  type UpdateNowResult,
  updateNowUpdate,
} from '../../../workflows/messages.ts';
import { pbxForCaller } from '../../auth.ts';
import type { AppEnv, AppRouteHandler } from '../../env.ts';
import { ApiError } from '../../errors.ts';
import { requireKnownModels } from '../../known-models.ts';
import { actionResult, askLifecycle, askLifecycleBriefly } from '../../lifecycle-client.ts';
import type * as routes from './actions.routes.ts';

/** The manual request as the workflow wants it: who pressed, and (checked) which types. */
async function manualRequest(
  c: Context<AppEnv>,
  body: { modelIds?: string[] | undefined },
): Promise<ManualRequest> {
  const request: ManualRequest = { who: c.var.principal.name };
  if (body.modelIds) {
    await requireKnownModels(c.var.deps, body.modelIds, (i) => `modelIds.${i}`);
    request.modelIds = [...new Set(body.modelIds)];
  }
  return request;
}

/** Seconds a result request waits for the workflow before answering 202 again. */
const RESULT_WAIT_MS = 2_000;

/**
 * What is known while a button is still at work (issue 11, item 8): the firmware server's last error, if it failed
 * since its last good answer — the check is retried by Temporal and journalled — or simply that it still runs.
 */
async function pending(c: Context<AppEnv>, pbxId: string, button: string, actionId: string) {
  const state = await getCatalogState(c.var.deps.db);
  const failing =
    state.lastErrorAt !== null && (state.syncedAt === null || state.lastErrorAt > state.syncedAt);
  return {
    status: 'running' as const,
    actionId,
    resultUrl: `/api/pbxes/${pbxId}/${button}/${actionId}`,
    message: failing
      ? `firmware server unreachable (${state.lastError}), retrying; see journal`
      : 'still running; see journal',
    firmwareServer: {
      lastError: state.lastError,
      lastErrorAt: state.lastErrorAt?.toISOString() ?? null,
      lastSyncAt: state.syncedAt?.toISOString() ?? null,
    },
  };
}

/** Presses a button: its result if the workflow answers within API_ANSWER_WAIT_MS, else 202 with what is known. */
function press<Ret>(button: string, update: UpdateDefinition<Ret, [ManualRequest]>) {
  return async (c: Context<AppEnv>, body: { modelIds?: string[] | undefined }, pbxId: string) => {
    const pbx = await pbxForCaller(c, pbxId);
    const request = await manualRequest(c, body);
    const answer = await askLifecycleBriefly(c.var.deps, pbx, update, request);
    return answer.done
      ? { status: 200 as const, body: answer.result }
      : { status: 202 as const, body: await pending(c, pbx.id, button, answer.actionId) };
  };
}

function fetchResult<Ret>(button: string) {
  return async (c: Context<AppEnv>, pbxId: string, actionId: string) => {
    const pbx = await pbxForCaller(c, pbxId);
    const result = await actionResult<Ret>(c.var.deps, pbx, actionId, RESULT_WAIT_MS);
    return result === undefined
      ? { status: 202 as const, body: await pending(c, pbx.id, button, actionId) }
      : { status: 200 as const, body: result };
  };
}

const pressCheckNow = press('check-now', checkNowUpdate);
const pressDownloadNow = press('download-now', downloadNowUpdate);
const pressUpdateNow = press('update-now', updateNowUpdate);
const checkNowAnswer = fetchResult<CheckNowResult>('check-now');
const downloadNowAnswer = fetchResult<DownloadNowResult>('download-now');
const updateNowAnswer = fetchResult<UpdateNowResult>('update-now');

export const checkNow: AppRouteHandler<typeof routes.checkNow.press> = async (c) => {
  const a = await pressCheckNow(c, c.req.valid('json'), c.req.valid('param').pbxId);
  return a.status === 200 ? c.json(a.body, 200) : c.json(a.body, 202);
};
export const checkNowResult: AppRouteHandler<typeof routes.checkNow.result> = async (c) => {
  const { pbxId, actionId } = c.req.valid('param');
  const a = await checkNowAnswer(c, pbxId, actionId);
  return a.status === 200 ? c.json(a.body, 200) : c.json(a.body, 202);
};
export const downloadNow: AppRouteHandler<typeof routes.downloadNow.press> = async (c) => {
  const a = await pressDownloadNow(c, c.req.valid('json'), c.req.valid('param').pbxId);
  return a.status === 200 ? c.json(a.body, 200) : c.json(a.body, 202);
};
export const downloadNowResult: AppRouteHandler<typeof routes.downloadNow.result> = async (c) => {
  const { pbxId, actionId } = c.req.valid('param');
  const a = await downloadNowAnswer(c, pbxId, actionId);
  return a.status === 200 ? c.json(a.body, 200) : c.json(a.body, 202);
};
export const updateNow: AppRouteHandler<typeof routes.updateNow.press> = async (c) => {
  const a = await pressUpdateNow(c, c.req.valid('json'), c.req.valid('param').pbxId);
  return a.status === 200 ? c.json(a.body, 200) : c.json(a.body, 202);
};
export const updateNowResult: AppRouteHandler<typeof routes.updateNow.result> = async (c) => {
  const { pbxId, actionId } = c.req.valid('param');
  const a = await updateNowAnswer(c, pbxId, actionId);
  return a.status === 200 ? c.json(a.body, 200) : c.json(a.body, 202);
};

export const pbxEvent: AppRouteHandler<typeof routes.pbxEvent> = async (c) => {
  const deps = c.var.deps;
  const pbx = await pbxForCaller(c, c.req.valid('param').pbxId);
  const event = c.req.valid('json');
  const who = c.var.principal.name;
  const details: Record<string, unknown> = { kind: event.kind };
  if (event.kind === 'upgraded') {
    if (event.version === pbx.softwareVersion) {
      throw new ApiError(409, `version: PBX ${pbx.id} already runs ${event.version}`, 'version');
    }
    await setSoftwareVersion(deps.db, pbx.id, event.version);
    Object.assign(details, { from: pbx.softwareVersion, to: event.version });
  }
  await appendJournal(deps.db, deps.logs, {
    pbxId: pbx.id,
    action: `pbx.${event.kind}`,
    why: 'manual',
    who,
    details,
  });
  const message: PbxEvent = { ...event, who };
  const result = await askLifecycle(deps, pbx, pbxEventUpdate, message);
  return c.json({ event, result }, 200);
};
