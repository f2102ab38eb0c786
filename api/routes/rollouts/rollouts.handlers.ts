import {
  getRollout,
  latestRolloutPerType,
  listRolloutResults,
  listRollouts,
  type RolloutRow,
} from '../../../db/queries/rollout-history.ts';
import type { RolloutProgress } from '../../../workflows/messages.ts';
import { pbxForCaller } from '../../auth.ts';
import type { ApiDeps, AppRouteHandler } from '../../env.ts';
import { notFound } from '../../errors.ts';
import { requireKnownModelFilter } from '../../known-models.ts';
import { lifecycleStatus, liveRolloutProgress, temporalUiUrl } from '../../lifecycle-client.ts';
import type * as routes from './rollouts.routes.ts';

type Presented = Omit<ReturnType<typeof presentRollout>, 'why' | 'who' | 'startedAt'> & {
  why: string | null;
  who: string | null;
  startedAt: string | null;
};

function percentOf(done: number, total: number, status: string): number {
  if (total === 0) return status === 'completed' ? 100 : 0;
  return Math.min(100, Math.floor((done * 100) / total));
}

export function presentRollout(deps: Pick<ApiDeps, 'config'>, row: RolloutRow, live: RolloutProgress | null) {
  const base = live ?? {
    status: row.status,
    total: row.total,
    updated: row.updated,
    failed: row.failed,
    done: row.updated + row.failed,
    blocks: row.blocks,
    blocksDone: row.blocksDone,
  };
  return {
    id: row.id,
    workflowId: row.workflowId,
    pbxId: row.pbxId,
    modelId: row.modelId,
    targetVersion: row.targetVersion,
    status: base.status,
    why: row.why,
    who: row.who,
    total: base.total,
    done: base.done,
    updated: base.updated,
    failed: base.failed,
    blocks: base.blocks,
    blocksDone: base.blocksDone,
    percent: live ? Math.round(live.percent) : percentOf(base.done, base.total, base.status),
    startedAt: row.startedAt.toISOString(),
    finishedAt: row.finishedAt?.toISOString() ?? null,
    live: live !== null,
    temporalUrl: temporalUiUrl(deps.config, row.workflowId, row.id),
  };
}

/** A rollout the workflow reports before (or without) its database row. */
function presentLiveOnly(
  deps: Pick<ApiDeps, 'config'>,
  workflowId: string,
  live: RolloutProgress,
): Presented {
  return {
    id: live.rolloutId,
    workflowId,
    pbxId: live.pbxId,
    modelId: live.modelId,
    targetVersion: live.targetVersion,
    status: live.status,
    why: null,
    who: null,
    total: live.total,
    done: live.done,
    updated: live.updated,
    failed: live.failed,
    blocks: live.blocks,
    blocksDone: live.blocksDone,
    percent: Math.round(live.percent),
    startedAt: null,
    finishedAt: null,
    live: true,
    temporalUrl: temporalUiUrl(deps.config, workflowId, live.rolloutId),
  };
}

/** Live numbers for rows the database says are running (the workflow knows more than the last checkpoint). */
async function withLive(deps: ApiDeps, rows: RolloutRow[]): Promise<Presented[]> {
  return Promise.all(
    rows.map(async (row) =>
      presentRollout(
        deps,
        row,
        row.status === 'running' ? await liveRolloutProgress(deps, row.workflowId, row.id) : null,
      ),
    ),
  );
}

export const progress: AppRouteHandler<typeof routes.progress> = async (c) => {
  const deps = c.var.deps;
  const pbx = await pbxForCaller(c, c.req.valid('param').pbxId);
  const [latest, status] = await Promise.all([
    latestRolloutPerType(deps.db, pbx.id),
    lifecycleStatus(deps, pbx.id),
  ]);
  const byType = new Map<string, Presented>();
  for (const p of await withLive(deps, latest)) byType.set(p.modelId, p);
  // Rollouts the lifecycle workflow runs right now win over older history of the same type.
  for (const running of status?.runningRollouts ?? []) {
    const known = byType.get(running.modelId);
    if (known?.workflowId === running.workflowId && known.live) continue;
    const live = await liveRolloutProgress(deps, running.workflowId);
    if (live && live.rolloutId !== known?.id)
      byType.set(running.modelId, presentLiveOnly(deps, running.workflowId, live));
  }
  const rollouts = [...byType.values()].sort((a, b) => a.modelId.localeCompare(b.modelId));
  return c.json({ rollouts }, 200);
};

export const list: AppRouteHandler<typeof routes.list> = async (c) => {
  const deps = c.var.deps;
  const pbx = await pbxForCaller(c, c.req.valid('param').pbxId);
  const q = c.req.valid('query');
  await requireKnownModelFilter(deps, q.modelId);
  const rows = await listRollouts(deps.db, pbx.id, q);
  return c.json({ rollouts: await withLive(deps, rows) }, 200);
};

export const get: AppRouteHandler<typeof routes.get> = async (c) => {
  const deps = c.var.deps;
  const { pbxId, rolloutId } = c.req.valid('param');
  const pbx = await pbxForCaller(c, pbxId);
  const row = await getRollout(deps.db, pbx.id, rolloutId);
  if (!row) throw notFound('rollout', rolloutId, 'rolloutId');
  const q = c.req.valid('query');
  const [rollout] = await withLive(deps, [row]);
  const results = await listRolloutResults(deps.db, row.id, { afterPhoneId: q.afterPhoneId, limit: q.limit });
  return c.json(
    {
      rollout: rollout!,
      results: results.map((r) => ({
        phoneAccountId: r.phoneAccountId,
        mac: r.mac,
        block: r.block,
        outcome: r.outcome,
        fromVersion: r.fromVersion,
        reportedVersion: r.reportedVersion,
        detail: r.detail,
        at: r.at.toISOString(),
      })),
      nextAfterPhoneId: results.length === q.limit ? (results.at(-1)?.phoneAccountId ?? null) : null,
    },
    200,
  );
};
