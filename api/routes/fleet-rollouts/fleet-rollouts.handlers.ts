import { rolloutsOfFleet } from '../../../db/queries/fleet-rollouts.ts';
import { requireDeploymentScope } from '../../auth.ts';
import type { AppRouteHandler } from '../../env.ts';
import {
  createFleet,
  type FleetAction,
  fleetOf,
  listFleets,
  presentFleet,
  steerFleet,
} from '../../services/fleet.ts';
import { presentAll } from '../../services/rollout-view.ts';
import type * as routes from './fleet-rollouts.routes.ts';

const WHAT = 'a fleet rollout across PBXes';

export const create: AppRouteHandler<typeof routes.create> = async (c) => {
  requireDeploymentScope(c, WHAT);
  return c.json(await createFleet(c.var.deps, c.req.valid('json'), c.var.principal.name), 201);
};

export const list: AppRouteHandler<typeof routes.list> = async (c) => {
  requireDeploymentScope(c, WHAT);
  return c.json({ fleetRollouts: await listFleets(c.var.deps, c.req.valid('query').limit) }, 200);
};

export const get: AppRouteHandler<typeof routes.get> = async (c) => {
  requireDeploymentScope(c, WHAT);
  const deps = c.var.deps;
  const row = await fleetOf(deps.db, c.req.valid('param').fleetRolloutId);
  return c.json(
    {
      fleetRollout: presentFleet(deps.config, row),
      rollouts: await presentAll(deps, await rolloutsOfFleet(deps.db, row.id)),
    },
    200,
  );
};

function steer(action: FleetAction): AppRouteHandler<typeof routes.pause> {
  return async (c) => {
    requireDeploymentScope(c, WHAT);
    const id = c.req.valid('param').fleetRolloutId;
    return c.json(await steerFleet(c.var.deps, id, action, c.var.principal.name), 200);
  };
}

export const pause = steer('pause');
export const resume = steer('resume');
export const cancel = steer('cancel');
