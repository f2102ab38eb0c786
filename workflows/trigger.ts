/**
 * R13: after a PBX upgrade, a backup restore, or the first account of a new type, check → download → update
 * run at once — for all types, or (c) only the new one. R8 off: the check still runs; the automatic download
 * and installation do not. For (c) the phones of the new type have only just been set up: the run waits a bounded
 * time for them to contact the PBX (and so report their firmware) before it updates them; any that did not are
 * counted and named by the rollout as not contacted. The run records its end in the journal on every path.
 */
import { condition, setCurrentDetails, sleep, workflowInfo } from '@temporalio/workflow';
import { reason } from '../domain/reasons.ts';
import { activitiesFor } from './activities.ts';
import { DEFAULT_QUEUES, type TriggerArgs, type TriggerResult } from './messages.ts';
import {
  downloadItems,
  errorMessage,
  type RunningRollout,
  runCheck,
  runDownloads,
  startRollouts,
} from './steps.ts';

/** R13 (c): the default bounded wait for a new type's phones (LifecycleArgs.newPhonesWaitMs). */
export const NEW_PHONES_WAIT_MS = 30 * 60_000;
const NEW_PHONES_POLL_MS = 60_000;

export async function pbxTrigger(args: TriggerArgs): Promise<TriggerResult> {
  const queues = args.queues ?? DEFAULT_QUEUES;
  const acts = activitiesFor(queues);
  const actor = { why: 'trigger' as const, who: args.who };
  const scope = args.modelIds && args.modelIds.length > 0 ? { modelIds: args.modelIds } : {};
  const label = args.kind === 'upgraded' ? `PBX upgraded to ${args.version ?? '?'}` : args.kind;
  const startedAt = Date.now();
  const { workflowId } = workflowInfo();
  const journal = (action: string, details: Record<string, unknown>) =>
    acts.bookkeeping.recordJournal({
      pbxId: args.pbxId,
      action,
      ...actor,
      modelId: args.modelIds?.length === 1 ? args.modelIds[0] : null,
      details: { kind: args.kind, workflowId, ...details },
    });
  await journal('trigger.started', args.version ? { version: args.version } : {});

  try {
    setCurrentDetails(`${label}: checking`);
    const report = await runCheck(acts, { pbxId: args.pbxId, ...scope, ...actor });
    const settings = await acts.bookkeeping.loadPbxSettings(args.pbxId);
    if (!settings.autoDownloadInstall) {
      const skipped = reason('automatic-off').text;
      await journal('trigger.skipped', { reason: skipped });
      setCurrentDetails(`${label}: checked; ${skipped}`);
      return { checked: report.types.length, downloaded: [], rollouts: [], skipped };
    }

    const items = downloadItems(report);
    setCurrentDetails(`${label}: downloading ${items.length} firmware file(s)`);
    const downloaded = (await runDownloads(acts, args.pbxId, items, actor))
      .filter((d) => d.stored)
      .map((d) => ({ modelId: d.modelId, version: d.version }));

    if (args.kind === 'first-account-of-type') await waitForNewPhones();

    setCurrentDetails(`${label}: updating phones`);
    const running = new Map<string, RunningRollout>();
    const rollouts = await startRollouts(
      { acts, pbxId: args.pbxId, queues, running, onSettled: () => {} },
      args.modelIds,
      actor,
    );
    // Children die with their parent (TERMINATE): this trigger lives until its rollouts have ended.
    const ended = await Promise.all(
      [...running.values()].map(async (r) => ({
        modelId: r.modelId,
        workflowId: r.workflowId,
        status: await r.ended,
      })),
    );
    await condition(() => running.size === 0);
    const result: TriggerResult = { checked: report.types.length, downloaded, rollouts, ended };
    const words = ended.map((e) => `${e.modelId} ${e.status}`).join(', ') || 'no rollout';
    setCurrentDetails(`${label}: done (${downloaded.length} downloaded; ${words})`);
    await journal('trigger.finished', { downloaded, rollouts: ended });
    return result;
  } catch (err) {
    await journal('trigger.failed', { error: errorMessage(err) });
    throw err;
  }

  /** R13 (c): wait, bounded, until every account of the new type has contacted the PBX. */
  async function waitForNewPhones(): Promise<void> {
    const deadline = startedAt + (args.newPhonesWaitMs ?? NEW_PHONES_WAIT_MS);
    for (;;) {
      const plans = await acts.bookkeeping.planRollouts({ pbxId: args.pbxId, ...scope });
      const waiting = plans.reduce((n, p) => n + p.phonesUnknownVersion, 0);
      if (waiting === 0 || Date.now() >= deadline) return;
      setCurrentDetails(
        `${label}: waiting for ${waiting} phone(s) of the new type to contact the PBX (until ${new Date(deadline).toISOString()})`,
      );
      await sleep(Math.min(NEW_PHONES_POLL_MS, deadline - Date.now()));
    }
  }
}
