import {
  getRollout,
  latestRolloutPerType,
  listRolloutResults,
  listRollouts,
} from '../../../db/queries/rollout-history.ts';
import { pbxForCaller } from '../../auth.ts';
import type { AppRouteHandler } from '../../env.ts';
import { notFound } from '../../errors.ts';
import { requireKnownModelFilter } from '../../known-models.ts';
import { presentAll, presentResult } from '../../services/rollout-view.ts';
import type * as routes from './rollouts.routes.ts';

export const progress: AppRouteHandler<typeof routes.progress> = async (c) => {
  const deps = c.var.deps;
  const pbx = await pbxForCaller(c, c.req.valid('param').pbxId);
  const rollouts = await presentAll(deps, await latestRolloutPerType(deps.db, pbx.id));
  rollouts.sort((a, b) => a.modelId.localeCompare(b.modelId));
  return c.json({ rollouts }, 200);
};

export const list: AppRouteHandler<typeof routes.list> = async (c) => {
  const deps = c.var.deps;
  const pbx = await pbxForCaller(c, c.req.valid('param').pbxId);
  const q = c.req.valid('query');
  await requireKnownModelFilter(deps, q.modelId);
  const rows = await listRollouts(deps.db, pbx.id, q);
  return c.json({ rollouts: await presentAll(deps, rows) }, 200);
};

export const get: AppRouteHandler<typeof routes.get> = async (c) => {
  const deps = c.var.deps;
  const { pbxId, rolloutId } = c.req.valid('param');
  const pbx = await pbxForCaller(c, pbxId);
  const row = await getRollout(deps.db, pbx.id, rolloutId);
  if (!row) throw notFound('rollout', rolloutId, 'rolloutId');
  const q = c.req.valid('query');
  const [rollout] = await presentAll(deps, [row]);
  const results = await listRolloutResults(deps.db, row.id, { afterPhoneId: q.afterPhoneId, limit: q.limit });
  return c.json(
    {
      rollout: rollout as NonNullable<typeof rollout>,
      results: results.map(presentResult),
      nextAfterPhoneId: results.length === q.limit ? (results.at(-1)?.phoneAccountId ?? null) : null,
    },
    200,
  );
};
