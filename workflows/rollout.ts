/**
 * One type, one target version, one PBX: the phones below the target go out in blocks of 50 (R12),
 * one block after another. Progress is queryable and shown in the Temporal UI.
 */
import { setCurrentDetails, setHandler, workflowInfo } from '@temporalio/workflow';
import type { PhoneResult } from '../activities/contracts.ts';
import { rolloutBlocks } from '../domain/blocks.ts';
import { activitiesFor } from './activities.ts';
import { type RolloutArgs, type RolloutProgress, rolloutProgressQuery } from './messages.ts';

const SETTLED: ReadonlySet<PhoneResult['outcome']> = new Set(['updated', 'already-current']);

export async function phoneRollout(args: RolloutArgs): Promise<RolloutProgress> {
  const acts = activitiesFor(args.queues);
  const { workflowId, runId } = workflowInfo();
  const actor = { why: args.why, who: args.who };
  const progress: RolloutProgress = {
    rolloutId: runId,
    pbxId: args.pbxId,
    modelId: args.modelId,
    targetVersion: args.targetVersion,
    status: 'running',
    total: 0,
    done: 0,
    updated: 0,
    failed: 0,
    blocks: 0,
    blocksDone: 0,
    percent: 0,
  };
  setHandler(rolloutProgressQuery, () => progress);
  const show = () => {
    progress.percent = progress.total === 0 ? 100 : Math.floor((progress.done / progress.total) * 100);
    setCurrentDetails(
      `**${args.model} → ${args.targetVersion}** on ${args.pbxId}: ${progress.status}\n\n` +
        `block ${Math.min(progress.blocksDone + 1, Math.max(progress.blocks, 1))} of ${progress.blocks} · ` +
        `${progress.done}/${progress.total} phones (${progress.percent} %) · ${progress.updated} updated · ${progress.failed} failed`,
    );
  };

  const start = await acts.bookkeeping.startRollout({
    rolloutId: runId,
    workflowId,
    pbxId: args.pbxId,
    modelId: args.modelId,
    targetVersion: args.targetVersion,
    ...actor,
  });
  if (start.refused !== undefined) {
    progress.status = 'refused';
    show();
    await acts.bookkeeping.recordJournal({
      pbxId: args.pbxId,
      action: 'rollout.refused',
      ...actor,
      modelId: args.modelId,
      details: { reason: start.refused, targetVersion: args.targetVersion },
    });
    return progress;
  }

  const blocks = rolloutBlocks(start.phoneIds);
  progress.total = start.phoneIds.length;
  progress.blocks = blocks.length;
  show();
  let status: 'completed' | 'cancelled' = 'completed';
  let reason: string | undefined;
  for (const [index, phoneIds] of blocks.entries()) {
    const { results } = await acts.phones.updatePhoneBlock({
      pbxId: args.pbxId,
      modelId: args.modelId,
      targetVersion: args.targetVersion,
      phoneIds,
    });
    const { autoUpdate } = await acts.bookkeeping.recordBlock({
      rolloutId: runId,
      pbxId: args.pbxId,
      modelId: args.modelId,
      block: index,
      results,
    });
    progress.blocksDone = index + 1;
    progress.done += results.length;
    progress.updated += results.filter((r) => SETTLED.has(r.outcome)).length;
    progress.failed += results.filter((r) => !SETTLED.has(r.outcome)).length;
    show();
    if (!autoUpdate && index < blocks.length - 1) {
      // R7: the admin switched Auto-Update off while this rollout ran; no further phone of the type is touched.
      status = 'cancelled';
      reason = 'Auto-Update was switched off during the rollout';
      break;
    }
  }
  progress.status = status;
  show();
  await acts.bookkeeping.finishRollout({
    rolloutId: runId,
    pbxId: args.pbxId,
    modelId: args.modelId,
    targetVersion: args.targetVersion,
    status,
    ...actor,
    ...(reason ? { reason } : {}),
  });
  return progress;
}
