/**
 * R13: after a PBX upgrade, a backup restore, or the first account of a new type, check → download → update
 * run at once — for all types, or (c) only the new one. R8 off: the check still runs; the automatic download
 * and installation do not.
 */
import { condition, setCurrentDetails, workflowInfo } from '@temporalio/workflow';
import { activitiesFor } from './activities.ts';
import { DEFAULT_QUEUES, type TriggerArgs, type TriggerResult } from './messages.ts';
import { downloadItems, type RunningRollout, runCheck, runDownloads, startRollouts } from './steps.ts';

export async function pbxTrigger(args: TriggerArgs): Promise<TriggerResult> {
  const queues = args.queues ?? DEFAULT_QUEUES;
  const acts = activitiesFor(queues);
  const actor = { why: 'trigger' as const, who: args.who };
  const scope = args.modelIds && args.modelIds.length > 0 ? { modelIds: args.modelIds } : {};
  const label = args.kind === 'upgraded' ? `PBX upgraded to ${args.version ?? '?'}` : args.kind;
  await acts.bookkeeping.recordJournal({
    pbxId: args.pbxId,
    action: 'trigger.started',
    ...actor,
    modelId: args.modelIds?.length === 1 ? args.modelIds[0] : null,
    details: {
      kind: args.kind,
      workflowId: workflowInfo().workflowId,
      ...(args.version ? { version: args.version } : {}),
    },
  });

  setCurrentDetails(`${label}: checking`);
  const report = await runCheck(acts, { pbxId: args.pbxId, ...scope, ...actor });
  const settings = await acts.bookkeeping.loadPbxSettings(args.pbxId);
  if (!settings.autoDownloadInstall) {
    const skipped = 'automatic download and installation are off (R8)';
    await acts.bookkeeping.recordJournal({
      pbxId: args.pbxId,
      action: 'trigger.skipped',
      ...actor,
      details: { kind: args.kind, reason: skipped },
    });
    setCurrentDetails(`${label}: checked; ${skipped}`);
    return { checked: report.types.length, downloaded: [], rollouts: [], skipped };
  }

  const items = downloadItems(report);
  setCurrentDetails(`${label}: downloading ${items.length} firmware file(s)`);
  const downloaded = (await runDownloads(acts, args.pbxId, items, actor))
    .filter((d) => d.stored)
    .map((d) => ({ modelId: d.modelId, version: d.version }));

  setCurrentDetails(`${label}: updating phones`);
  const running = new Map<string, RunningRollout>();
  const rollouts = await startRollouts(
    { acts, pbxId: args.pbxId, queues, running, onSettled: () => {} },
    args.modelIds,
    actor,
  );
  // Children die with their parent (TERMINATE): this trigger lives until its rollouts are done.
  await condition(() => running.size === 0);
  setCurrentDetails(
    `${label}: done (${downloaded.length} downloaded, ${rollouts.filter((r) => r.status === 'started').length} rollouts)`,
  );
  return { checked: report.types.length, downloaded, rollouts };
}
