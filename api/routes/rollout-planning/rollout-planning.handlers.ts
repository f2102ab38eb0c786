import { getPhoneModels } from '../../../db/queries/phone-models.ts';
import { getPreview as findPreview } from '../../../db/queries/rollout-previews.ts';
import { pbxForCaller } from '../../auth.ts';
import type { AppRouteHandler } from '../../env.ts';
import { notFound } from '../../errors.ts';
import { requireKnownModels } from '../../known-models.ts';
import {
  downgradeType,
  holdType,
  releaseHold as release,
  startTypeRollout,
} from '../../services/rollout-control.ts';
import {
  changeSettings as change,
  makePreviews as make,
  presentPreview,
  presentRolloutSettings,
} from '../../services/rollout-planning.ts';
import type * as routes from './rollout-planning.routes.ts';

/** The model in the path, if the deployment knows it (404 otherwise, as R7's switch answers). */
async function knownModel(
  c: { var: { deps: { db: Parameters<typeof getPhoneModels>[0] } } },
  modelId: string,
) {
  const [model] = await getPhoneModels(c.var.deps.db, [modelId]);
  if (!model) throw notFound('phone model', modelId, 'modelId');
  return model;
}

export const makePreviews: AppRouteHandler<typeof routes.makePreviews> = async (c) => {
  const deps = c.var.deps;
  const pbx = await pbxForCaller(c, c.req.valid('param').pbxId);
  const body = c.req.valid('json') ?? {};
  if (body.modelIds) await requireKnownModels(deps, body.modelIds, (i) => `modelIds.${i}`);
  return c.json({ previews: await make(deps, pbx, body, c.var.principal.name) }, 200);
};

export const getPreview: AppRouteHandler<typeof routes.getPreview> = async (c) => {
  const deps = c.var.deps;
  const { pbxId, previewId } = c.req.valid('param');
  const pbx = await pbxForCaller(c, pbxId);
  const row = await findPreview(deps.db, pbx.id, previewId);
  if (!row) throw notFound('preview', previewId, 'previewId');
  const [model] = await getPhoneModels(deps.db, [row.modelId]);
  return c.json(presentPreview(row, model?.model ?? row.modelId), 200);
};

export const getSettings: AppRouteHandler<typeof routes.getSettings> = async (c) => {
  const pbx = await pbxForCaller(c, c.req.valid('param').pbxId);
  return c.json(await presentRolloutSettings(c.var.deps, pbx.id), 200);
};

export const changeSettings: AppRouteHandler<typeof routes.changeSettings> = async (c) => {
  const pbx = await pbxForCaller(c, c.req.valid('param').pbxId);
  return c.json(await change(c.var.deps, pbx.id, c.req.valid('json'), c.var.principal.name), 200);
};

export const setHold: AppRouteHandler<typeof routes.setHold> = async (c) => {
  const { pbxId, modelId } = c.req.valid('param');
  const pbx = await pbxForCaller(c, pbxId);
  const model = await knownModel(c, modelId);
  const body = c.req.valid('json');
  const hold = await holdType(c.var.deps, pbx, model.id, body.version, body.reason, c.var.principal.name);
  return c.json({ modelId: model.id, hold, released: null }, 200);
};

export const releaseHold: AppRouteHandler<typeof routes.releaseHold> = async (c) => {
  const { pbxId, modelId } = c.req.valid('param');
  const pbx = await pbxForCaller(c, pbxId);
  const model = await knownModel(c, modelId);
  const released = await release(
    c.var.deps,
    pbx,
    model.id,
    c.req.valid('query').reason,
    c.var.principal.name,
  );
  return c.json({ modelId: model.id, hold: null, released }, 200);
};

export const downgrade: AppRouteHandler<typeof routes.downgrade> = async (c) => {
  const { pbxId, modelId } = c.req.valid('param');
  const pbx = await pbxForCaller(c, pbxId);
  const model = await knownModel(c, modelId);
  return c.json(
    await downgradeType(c.var.deps, pbx, model.id, c.req.valid('json'), c.var.principal.name),
    200,
  );
};

export const typeRollout: AppRouteHandler<typeof routes.typeRollout> = async (c) => {
  const { pbxId, modelId } = c.req.valid('param');
  const pbx = await pbxForCaller(c, pbxId);
  const model = await knownModel(c, modelId);
  const body = c.req.valid('json') ?? {};
  const decision = await startTypeRollout(c.var.deps, pbx, {
    who: c.var.principal.name,
    modelId: model.id,
    ...(body.canarySize !== undefined ? { canarySize: body.canarySize } : {}),
    ...(body.phoneIds ? { phoneIds: body.phoneIds } : {}),
  });
  return c.json(decision, 200);
};
