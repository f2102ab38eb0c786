import type { Context } from 'hono';
import { appendJournal } from '../../../db/queries/journal.ts';
import { setSoftwareVersion } from '../../../db/queries/pbxes.ts';
import {
  checkNowUpdate,
  downloadNowUpdate,
  type ManualRequest,
  type PbxEvent,
  pbxEventUpdate,
  updateNowUpdate,
} from '../../../workflows/messages.ts';
import { pbxForCaller } from '../../auth.ts';
import type { AppEnv, AppRouteHandler } from '../../env.ts';
import { ApiError } from '../../errors.ts';
import { requireKnownModels } from '../../known-models.ts';
import { askLifecycle } from '../../lifecycle-client.ts';
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

export const checkNow: AppRouteHandler<typeof routes.checkNow> = async (c) => {
  const pbx = await pbxForCaller(c, c.req.valid('param').pbxId);
  const request = await manualRequest(c, c.req.valid('json'));
  return c.json(await askLifecycle(c.var.deps, pbx, checkNowUpdate, request), 200);
};

export const downloadNow: AppRouteHandler<typeof routes.downloadNow> = async (c) => {
  const pbx = await pbxForCaller(c, c.req.valid('param').pbxId);
  const request = await manualRequest(c, c.req.valid('json'));
  return c.json(await askLifecycle(c.var.deps, pbx, downloadNowUpdate, request), 200);
};

export const updateNow: AppRouteHandler<typeof routes.updateNow> = async (c) => {
  const pbx = await pbxForCaller(c, c.req.valid('param').pbxId);
  const request = await manualRequest(c, c.req.valid('json'));
  return c.json(await askLifecycle(c.var.deps, pbx, updateNowUpdate, request), 200);
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
