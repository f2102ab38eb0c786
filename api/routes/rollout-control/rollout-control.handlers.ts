import { latestRolloutPerType, listParkedPhones } from '../../../db/queries/rollout-history.ts';
import { pbxForCaller } from '../../auth.ts';
import type { AppRouteHandler } from '../../env.ts';
import {
  type RolloutAction,
  retryParked as retry,
  rolloutOf,
  steerRollout,
} from '../../services/rollout-control.ts';
import { rolloutBesidePreview } from '../../services/rollout-planning.ts';
import { presentAll } from '../../services/rollout-view.ts';
import type * as routes from './rollout-control.routes.ts';

function steer(action: RolloutAction): AppRouteHandler<typeof routes.pause> {
  return async (c) => {
    const deps = c.var.deps;
    const { pbxId, rolloutId } = c.req.valid('param');
    const pbx = await pbxForCaller(c, pbxId);
    const row = await steerRollout(deps, pbx, rolloutId, action, c.var.principal.name);
    const [rollout] = await presentAll(deps, [row]);
    return c.json(rollout as NonNullable<typeof rollout>, 200);
  };
}

export const pause = steer('pause');
export const resume = steer('resume');
export const cancel = steer('cancel');

export const retryParked: AppRouteHandler<typeof routes.retryParked> = async (c) => {
  const deps = c.var.deps;
  const { pbxId, rolloutId } = c.req.valid('param');
  const pbx = await pbxForCaller(c, pbxId);
  const body = (c.req.valid('json') ?? {}) as { phoneIds?: number[] };
  const r = await retry(deps, pbx, rolloutId, body.phoneIds, c.var.principal.name);
  const [rollout] = r.rollout ? await presentAll(deps, [r.rollout]) : [null];
  return c.json({ rollout: rollout ?? null, decision: r.decision, phoneIds: r.phoneIds }, 200);
};

export const plan: AppRouteHandler<typeof routes.plan> = async (c) => {
  const { pbxId, rolloutId } = c.req.valid('param');
  const pbx = await pbxForCaller(c, pbxId);
  const row = await rolloutOf(c.var.deps.db, pbx, rolloutId);
  return c.json(await rolloutBesidePreview(c.var.deps, row), 200);
};

export const parked: AppRouteHandler<typeof routes.parked> = async (c) => {
  const db = c.var.deps.db;
  const pbx = await pbxForCaller(c, c.req.valid('param').pbxId);
  const latest = await latestRolloutPerType(db, pbx.id);
  const byId = new Map(latest.map((r) => [r.id, r]));
  const rows = await listParkedPhones(db, [...byId.keys()]);
  return c.json(
    {
      phones: rows.map((r) => {
        const rollout = byId.get(r.rolloutId);
        return {
          rolloutId: r.rolloutId,
          modelId: rollout?.modelId ?? '',
          targetVersion: rollout?.targetVersion ?? '',
          rolloutStatus: rollout?.status ?? '',
          phoneAccountId: r.phoneAccountId,
          mac: r.mac,
          extension: r.extension,
          attempts: r.attempts,
          lastOutcome: r.lastOutcome,
          reason: r.reason,
          at: r.at.toISOString(),
        };
      }),
    },
    200,
  );
};
