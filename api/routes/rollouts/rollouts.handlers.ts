import { getPhoneModels } from '../../../db/queries/phone-models.ts';
import {
  getRollout,
  latestRolloutPerType,
  listRolloutResults,
  listRollouts,
  type RolloutRow,
} from '../../../db/queries/rollout-history.ts';
import { openRolloutState, rolloutCounts } from '../../../db/queries/rollout-phones.ts';
import { doneOf, isFinal, percentDone, type RolloutCounts, summaryLine } from '../../../domain/rollout.ts';
import { pbxForCaller } from '../../auth.ts';
import type { ApiDeps, AppRouteHandler } from '../../env.ts';
import { notFound } from '../../errors.ts';
import { requireKnownModelFilter } from '../../known-models.ts';
import { temporalUiUrl } from '../../lifecycle-client.ts';
import type * as routes from './rollouts.routes.ts';

/** The counts of a finished rollout as stored at its end. */
function storedCounts(row: RolloutRow): RolloutCounts {
  const known = row.updated + row.alreadyCurrent + row.failed + row.notContacted + row.skipped;
  return {
    total: row.total,
    updated: row.updated,
    alreadyCurrent: row.alreadyCurrent,
    failed: row.failed,
    parked: row.parked,
    notContacted: row.notContacted,
    skipped: row.skipped,
    pending: Math.max(0, row.total - known),
  };
}

/**
 * A rollout as the page and API show it, in the words and numbers of domain/rollout.ts. An open rollout's
 * counts come from its per-phone record (current to the last phone decided); a finished one's from its row.
 */
export async function presentRollout(deps: ApiDeps, row: RolloutRow, models: Map<string, string>) {
  const model = models.get(row.modelId) ?? row.modelId;
  const open = !isFinal(row.status);
  const counts = open ? await rolloutCounts(deps.db, row.id, row.total) : storedCounts(row);
  const state = open ? await openRolloutState(deps.db, row.id) : { retrying: 0, currentBlock: null };
  return {
    rolloutId: row.id,
    workflowId: row.workflowId,
    pbxId: row.pbxId,
    modelId: row.modelId,
    model,
    targetVersion: row.targetVersion,
    status: row.status,
    reason: row.reason,
    ...counts,
    done: doneOf(counts),
    blocks: Math.max(row.blocks, row.blocksDone),
    blocksDone: row.blocksDone,
    ...state,
    percent: percentDone(counts, row.status),
    direction: row.direction,
    policy: row.policy,
    fleetRolloutId: row.fleetRolloutId,
    summary: summaryLine(
      { model, targetVersion: row.targetVersion, pbxId: row.pbxId },
      row.status,
      counts,
      row.reason,
    ),
    why: row.why,
    who: row.who,
    startedAt: row.startedAt.toISOString(),
    finishedAt: row.finishedAt?.toISOString() ?? null,
    temporalUrl: temporalUiUrl(deps.config, row.workflowId, row.id),
  };
}

async function presentAll(deps: ApiDeps, rows: RolloutRow[]) {
  const ids = [...new Set(rows.map((r) => r.modelId))];
  const models = new Map((await getPhoneModels(deps.db, ids)).map((m) => [m.id, m.model]));
  return Promise.all(rows.map((r) => presentRollout(deps, r, models)));
}

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
      results: results.map((r) => ({
        phoneAccountId: r.phoneAccountId,
        mac: r.mac,
        extension: r.extension,
        block: r.block,
        outcome: r.outcome,
        fromVersion: r.fromVersion,
        reportedVersion: r.reportedVersion,
        detail: r.detail,
        reason: r.reason,
        at: r.at.toISOString(),
      })),
      nextAfterPhoneId: results.length === q.limit ? (results.at(-1)?.phoneAccountId ?? null) : null,
    },
    200,
  );
};
