import { loadFleetInput } from '../../../db/queries/fleet.ts';
import { FAILURE_WINDOW_MS, fleetPage } from '../../../domain/fleet.ts';
import type { AppRouteHandler } from '../../env.ts';
import { requireKnownModelFilter } from '../../known-models.ts';
import { presentMoment } from '../../pbx-registration.ts';
import type * as routes from './fleet.routes.ts';

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

export const fleet: AppRouteHandler<typeof routes.fleet> = async (c) => {
  const { db } = c.var.deps;
  const q = c.req.valid('query');
  await requireKnownModelFilter(c.var.deps, q.modelId);
  const now = Date.now();
  const scope = c.var.principal.pbxId;
  const input = await loadFleetInput(db, {
    ...(scope === null ? {} : { onlyPbxIds: [scope] }),
    failuresSince: new Date(now - FAILURE_WINDOW_MS),
  });
  const page = fleetPage(input, now, {
    filter: q,
    sort: q.sort,
    order: q.order,
    offset: q.offset,
    limit: q.limit,
  });
  return c.json(
    {
      total: page.total,
      offset: q.offset,
      limit: q.limit,
      generatedAt: new Date(now).toISOString(),
      summary: page.summary,
      pbxes: page.rows.map((r) => ({
        ...r,
        updateMoment: r.updateMoment && presentMoment(r.updateMoment),
        nextUpdateAt: iso(r.nextUpdateAt),
        lastFailureAt: iso(r.lastFailureAt),
      })),
    },
    200,
  );
};
