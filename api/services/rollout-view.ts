/** A rollout and its per-phone results as the page and the API show them (domain/rollout.ts words and numbers). */
import { getPhoneModels } from '../../db/queries/phone-models.ts';
import type { RolloutResultRow, RolloutRow } from '../../db/queries/rollout-history.ts';
import { openRolloutState, rolloutCounts } from '../../db/queries/rollout-phones.ts';
import { doneOf, isFinal, percentDone, type RolloutCounts, summaryLine } from '../../domain/rollout.ts';
import type { ApiDeps } from '../env.ts';
import { temporalUiUrl } from '../lifecycle-client.ts';

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

export async function presentAll(deps: ApiDeps, rows: RolloutRow[]) {
  const ids = [...new Set(rows.map((r) => r.modelId))];
  const models = new Map((await getPhoneModels(deps.db, ids)).map((m) => [m.id, m.model]));
  return Promise.all(rows.map((r) => presentRollout(deps, r, models)));
}

/** One phone of a rollout: its outcome and why; its attempts, planned block, and next attempt (issue 13). */
export function presentResult(r: RolloutResultRow) {
  return {
    phoneAccountId: r.phoneAccountId,
    mac: r.mac,
    extension: r.extension,
    block: r.block,
    plannedBlock: r.plannedBlock,
    outcome: r.outcome,
    attempts: r.attempts,
    lastOutcome: r.lastOutcome,
    retryAt: r.retryAt?.toISOString() ?? null,
    joined: r.joined,
    fromVersion: r.fromVersion,
    reportedVersion: r.reportedVersion,
    detail: r.detail,
    reason: r.reason,
    at: r.at.toISOString(),
  };
}
