/**
 * One long-running workflow per PBX (`pbx/<id>`) owns its firmware lifecycle:
 *   R9   weekly check at the PBX's own moment (drawn once at registration, carried unchanged)
 *   R10  download at a random moment in 20:00–23:00 of the check's local day (drawn once, carried)
 *   R11  rollout at the admin's weekly moment; R12 blocks of 50 in child workflows
 *   R8   global switch: off = the check still runs, automatic download and installation do not
 *   R7   per-type Auto-Update: off = never updated, not even by Update now (refusal returned + journaled)
 *   R13  upgrade / restore / new type → trigger child workflows; R5 restart → clean-up
 * Manual buttons are Updates. The workflow continues-as-new once a weekly cycle is through, so history stays small.
 */
import {
  allHandlersFinished,
  type ChildWorkflowHandle,
  condition,
  continueAsNew,
  patched,
  setCurrentDetails,
  setHandler,
  startChild,
  upsertSearchAttributes,
  uuid4,
  workflowInfo,
} from '@temporalio/workflow';
import type { PbxSettings } from '../activities/contracts.ts';
import {
  dueNow,
  nextScheduledUpdateAt,
  nextWakeAt,
  nextWeeklyCheckAt,
  type ScheduleState,
  wakeSummary,
} from '../domain/lifecycle-schedule.ts';
import { reason } from '../domain/reasons.ts';
import { drawDownloadMoment, formatLocal } from '../domain/timing.ts';
import { activitiesFor } from './activities.ts';
import {
  assertValid,
  type CarriedState,
  type CheckNowResult,
  checkNowUpdate,
  DEFAULT_QUEUES,
  downloadNowUpdate,
  type LifecycleArgs,
  type LifecycleStatus,
  type ManualRequest,
  ManualRequestSchema,
  type PbxEventResult,
  PbxEventSchema,
  pbxEventUpdate,
  StartTypeRolloutSchema,
  settingsChangedSignal,
  startTypeRolloutUpdate,
  statusQuery,
  updateNowUpdate,
  workflowIds,
} from './messages.ts';
import { FirmwarePhaseAttr, PbxIdAttr } from './search-attributes.ts';
import {
  type DownloadItem,
  downloadItems,
  type RunningRollout,
  runCheck,
  runDownloads,
  startRollouts,
  summarizeCheck,
} from './steps.ts';
import { pbxTrigger } from './trigger.ts';

type Phase = LifecycleStatus['phase'];

/** Update validators: the same schema the API validates with (workflows/messages.ts). */
const validateManual = (req: ManualRequest) => assertValid(ManualRequestSchema, req);

export async function pbxLifecycle(args: LifecycleArgs): Promise<void> {
  const { pbxId, weeklyCheck } = args;
  const queues = args.queues ?? DEFAULT_QUEUES;
  const acts = activitiesFor(queues);
  const carried: CarriedState = { cycle: 0, ...args.carried };
  const startedAt = Date.now();
  carried.lastWeeklyCheckAt ??= startedAt;
  carried.lastScheduledUpdateAt ??= startedAt;

  // Handlers are registered before the first await so no message finds the workflow deaf; they wait for `ready`.
  let settings: PbxSettings = {
    exists: true,
    timeZone: 'UTC',
    autoDownloadInstall: false,
    updateMoment: null,
  };
  let ready = false;

  let settingsDirty = false;
  let wakeups = 0;
  const wake = () => {
    wakeups++;
  };
  let weeklyCheckRan = false;
  let lastCheck: CheckNowResult | null = carried.lastCheck ?? null;
  const busy: Record<Exclude<Phase, 'idle'>, number> = { checking: 0, downloading: 0, updating: 0 };
  const rollouts = new Map<string, RunningRollout>();
  const triggers = new Map<string, ChildWorkflowHandle<typeof pbxTrigger>>();
  let shownPhase: Phase | undefined;

  const phase = (): Phase =>
    busy.updating > 0 || rollouts.size > 0 || triggers.size > 0
      ? 'updating'
      : busy.downloading > 0
        ? 'downloading'
        : busy.checking > 0
          ? 'checking'
          : 'idle';

  /** What the pure schedule (domain/lifecycle-schedule.ts) needs to say what is due next. */
  const schedule = (): ScheduleState => ({
    timeZone: settings.timeZone,
    weeklyCheck,
    lastWeeklyCheckAt: carried.lastWeeklyCheckAt as number,
    pendingDownloadAt: carried.pendingDownload?.at ?? null,
    updateMoment: settings.updateMoment,
    lastScheduledUpdateAt: carried.lastScheduledUpdateAt as number,
  });
  const nextCheckAt = () => nextWeeklyCheckAt(schedule());
  const nextUpdateAt = () => nextScheduledUpdateAt(schedule());

  /** What the status query answers, and what the workflow records for the API (recordLifecycleStatus). */
  const statusNow = (): LifecycleStatus => {
    const next = nextUpdateAt();
    return {
      pbxId,
      phase: phase(),
      nextWeeklyCheck: new Date(nextCheckAt()).toISOString(),
      pendingDownloadAt: carried.pendingDownload ? new Date(carried.pendingDownload.at).toISOString() : null,
      nextScheduledUpdate: next ? new Date(next).toISOString() : null,
      autoDownloadInstall: settings.autoDownloadInstall,
      runningRollouts: [...rollouts.values()].map((r) => ({
        modelId: r.modelId,
        workflowId: r.workflowId,
        targetVersion: r.targetVersion,
      })),
      runningTriggers: [...triggers.keys()],
      lastCheck,
      cycle: carried.cycle,
    };
  };

  // The status, recorded in the database whenever it changes, so the API never has to query this workflow (a
  // page polling it cost Temporal queries). One report at a time; a report waiting to go takes the newest status.
  let recorded = '';
  let reports = 0;
  let reportQueued = false;
  let reporting: Promise<void> = Promise.resolve();
  const runStartedAt = workflowInfo().runStartTime.getTime();
  const recordStatus = () => {
    if (reportQueued || !patched('lifecycle-status-recorded')) return;
    reportQueued = true;
    reporting = reporting
      .then(async () => {
        reportQueued = false;
        const status = statusNow();
        const json = JSON.stringify(status);
        if (json === recorded) return;
        recorded = json;
        await acts.bookkeeping.recordLifecycleStatus({ pbxId, status, runStartedAt, seq: ++reports });
      })
      .catch(() => undefined);
  };

  /** Keeps the UI current: a search attribute for filtering, current details for the run page. */
  const show = () => {
    const p = phase();
    if (p !== shownPhase) {
      shownPhase = p;
      upsertSearchAttributes([
        { key: PbxIdAttr, value: pbxId },
        { key: FirmwarePhaseAttr, value: p },
      ]);
    }
    const next = nextUpdateAt();
    /** Times as the PBX's admin reads them: local, with the zone (the Temporal UI shows details verbatim). */
    const local = (ms: number) => formatLocal(ms, settings.timeZone);
    setCurrentDetails(
      [
        `**PBX ${pbxId}** · ${p}`,
        `next weekly check: ${local(nextCheckAt())}`,
        `download pending: ${carried.pendingDownload ? local(carried.pendingDownload.at) : '—'}`,
        `next update: ${next ? local(next) : 'not configured'}`,
        `automatic download/installation ${settings.autoDownloadInstall ? 'on' : 'off (R8)'}`,
        `rollouts running: ${[...rollouts.values()].map((r) => r.workflowId).join(', ') || '—'}`,
      ].join('\n\n'),
    );
    if (ready) recordStatus();
  };

  async function track<T>(kind: keyof typeof busy, work: () => Promise<T>): Promise<T> {
    busy[kind]++;
    show();
    try {
      return await work();
    } finally {
      busy[kind]--;
      show();
      wake();
    }
  }

  const rolloutCtx = {
    acts,
    pbxId,
    queues,
    running: rollouts,
    onSettled: () => {
      wake();
      show();
    },
  };
  let downloadsRunning: Promise<unknown> = Promise.resolve();
  const downloadInBackground = (
    items: DownloadItem[],
    actor: { why: 'schedule' | 'manual'; who: string },
  ) => {
    // Downloads queue behind each other so a manual and a scheduled one never fetch the same file twice at once.
    // runDownloads journals each failed item itself; nothing here may reject, or the chain (and the workflow
    // task of a detached Download now) would fail.
    downloadsRunning = downloadsRunning
      .then(() => track('downloading', () => runDownloads(acts, pbxId, items, actor)))
      .catch(() => undefined);
    return downloadsRunning;
  };

  /** What the schedule did or skipped, in the journal (R14). */
  const journalScheduled = (action: string, details: Record<string, unknown>) =>
    acts.bookkeeping.recordJournal({ pbxId, action, why: 'schedule', who: 'system', details });

  // ---- messages ---------------------------------------------------------------------------------
  setHandler(settingsChangedSignal, () => {
    settingsDirty = true;
    wake();
  });

  setHandler(statusQuery, statusNow);

  /** Check now, and the check that Download now starts with. */
  async function manualCheck(req: ManualRequest) {
    await condition(() => ready);
    const report = await track('checking', () =>
      runCheck(acts, { pbxId, ...scopeOf(req), why: 'manual', who: req.who }),
    );
    lastCheck = summarizeCheck(report);
    if (ready) recordStatus();
    return report;
  }

  setHandler(
    checkNowUpdate,
    async (req) => {
      await manualCheck(req);
      return lastCheck as CheckNowResult;
    },
    { validator: validateManual },
  );

  setHandler(
    downloadNowUpdate,
    async (req) => {
      const report = await manualCheck(req);
      const items = downloadItems(report);
      if (items.length > 0) void downloadInBackground(items, { why: 'manual', who: req.who });
      const model = (id: string) => report.types.find((t) => t.modelId === id)?.model ?? id;
      return {
        started: items.map((i) => ({ modelId: i.modelId, model: model(i.modelId), version: i.version })),
        nothingToDo: report.types
          .filter((t) => !t.needsDownload)
          .map((t) => ({
            modelId: t.modelId,
            model: t.model,
            reason: t.imageManaged
              ? reason('image-firmware')
              : t.newestLocal
                ? reason('already-stored', { version: t.newestLocal })
                : reason('nothing-offered'),
          })),
        catalogOk: report.catalogOk,
        ...(report.catalogError ? { catalogError: report.catalogError } : {}),
      };
    },
    { validator: validateManual },
  );

  setHandler(
    updateNowUpdate,
    async (req) => {
      await condition(() => ready);
      return {
        decisions: await track('updating', () =>
          startRollouts(rolloutCtx, req.modelIds, { why: 'manual', who: req.who }),
        ),
      };
    },
    { validator: validateManual },
  );

  // Issue 13: one type's rollout with options — its own canary, parked phones retried after their rollout ended,
  // a deliberate downgrade. R7 and R12 as for Update now.
  setHandler(
    startTypeRolloutUpdate,
    async (req) => {
      await condition(() => ready);
      const [decision] = await track('updating', () =>
        startRollouts(
          rolloutCtx,
          [req.modelId],
          { why: 'manual', who: req.who },
          {
            ...(req.canarySize !== undefined ? { canarySize: req.canarySize } : {}),
            ...(req.phoneIds ? { phoneIds: req.phoneIds } : {}),
            ...(req.downgradeTo ? { downgradeTo: req.downgradeTo } : {}),
          },
        ),
      );
      return (
        decision ?? {
          modelId: req.modelId,
          model: req.modelId,
          status: 'nothing-to-do',
          reason: reason('no-phones-of-type', { model: req.modelId }),
        }
      );
    },
    { validator: (req) => assertValid(StartTypeRolloutSchema, req) },
  );

  setHandler(
    pbxEventUpdate,
    async (event): Promise<PbxEventResult> => {
      await condition(() => ready);
      if (event.kind === 'restarted') {
        // R5: firmware of types whose last account went is deleted now, at the restart.
        const result = await acts.bookkeeping.restartCleanup({ pbxId, who: event.who });
        return { removed: result.removed };
      }
      const at = new Date(Date.now());
      // R13: one run per event — two first accounts of two new types in one workflow task must not collide.
      const workflowId = patched('trigger-id-unique')
        ? workflowIds.trigger(
            pbxId,
            event.kind,
            at,
            event.kind === 'first-account-of-type' ? event.modelId : undefined,
            uuid4().slice(0, 8),
          )
        : workflowIds.trigger(pbxId, event.kind, at);
      const handle = await startChild(pbxTrigger, {
        workflowId,
        args: [
          {
            pbxId,
            kind: event.kind,
            who: event.who,
            queues,
            ...(event.kind === 'first-account-of-type' ? { modelIds: [event.modelId] } : {}),
            ...(event.kind === 'upgraded' ? { version: event.version } : {}),
            ...(args.newPhonesWaitMs !== undefined ? { newPhonesWaitMs: args.newPhonesWaitMs } : {}),
          },
        ],
        typedSearchAttributes: [
          { key: PbxIdAttr, value: pbxId },
          { key: FirmwarePhaseAttr, value: 'trigger' },
        ],
        staticSummary: `R13 trigger on ${pbxId}: ${event.kind}`,
      });
      triggers.set(workflowId, handle);
      show();
      handle
        .result()
        .catch(() => undefined)
        .finally(() => {
          triggers.delete(workflowId);
          show();
          wake();
        });
      return { triggerWorkflowId: workflowId };
    },
    { validator: (event) => assertValid(PbxEventSchema, event) },
  );

  // ---- the weekly cycle -------------------------------------------------------------------------
  settings = await acts.bookkeeping.loadPbxSettings(pbxId);
  if (!settings.exists) return; // The PBX was deleted: nothing left to own.
  ready = true;
  show();
  for (;;) {
    if (settingsDirty) {
      settingsDirty = false;
      const before = settings.updateMoment;
      settings = await acts.bookkeeping.loadPbxSettings(pbxId);
      if (!settings.exists) return;
      if (JSON.stringify(before) !== JSON.stringify(settings.updateMoment)) {
        // A new update moment counts from now: a moment that already passed this week is not "missed".
        carried.lastScheduledUpdateAt = Date.now();
      }
      show();
    }

    const now = Date.now();
    const due = dueNow(schedule(), now);

    if (due?.step === 'weekly-check') {
      // R9
      carried.lastWeeklyCheckAt = now;
      weeklyCheckRan = true;
      const report = await track('checking', () => runCheck(acts, { pbxId, why: 'schedule', who: 'system' }));
      lastCheck = summarizeCheck(report);
      const items = downloadItems(report);
      if (items.length > 0) {
        if (settings.autoDownloadInstall) {
          // R10: drawn once; carried across continue-as-new so it never changes.
          const at = drawDownloadMoment(now, settings.timeZone, Math.random);
          carried.pendingDownload = { at, checkedAt: now, items };
          await journalScheduled('download.scheduled', { at: new Date(at).toISOString(), items });
        } else {
          await journalScheduled('download.skipped', { reason: reason('automatic-off').text, items });
        }
      }
      show();
      continue;
    }

    if (due?.step === 'evening-download') {
      const pending = carried.pendingDownload as NonNullable<CarriedState['pendingDownload']>;
      carried.pendingDownload = undefined;
      if (settings.autoDownloadInstall) {
        await downloadInBackground(pending.items, { why: 'schedule', who: 'system' });
      } else {
        await journalScheduled('download.skipped', {
          reason: reason('automatic-switched-off').text,
          items: pending.items,
        });
      }
      show();
      continue;
    }

    if (due?.step === 'scheduled-update') {
      // R11
      carried.lastScheduledUpdateAt = now;
      if (settings.autoDownloadInstall) {
        await track('updating', () =>
          startRollouts(rolloutCtx, undefined, { why: 'schedule', who: 'system' }),
        );
      } else {
        await journalScheduled('update.skipped', { reason: reason('automatic-off').text });
      }
      show();
      continue;
    }

    const idle = phase() === 'idle' && rollouts.size === 0 && triggers.size === 0;
    const cycleThrough = weeklyCheckRan && carried.pendingDownload === undefined;
    if (idle && (cycleThrough || workflowInfo().continueAsNewSuggested)) {
      if (reports > 0 || reportQueued) await reporting;
      await condition(allHandlersFinished);
      if (phase() === 'idle' && rollouts.size === 0 && triggers.size === 0 && !settingsDirty) {
        await continueAsNew<typeof pbxLifecycle>({
          pbxId,
          weeklyCheck,
          queues,
          ...(args.newPhonesWaitMs !== undefined ? { newPhonesWaitMs: args.newPhonesWaitMs } : {}),
          carried: { ...carried, lastCheck, cycle: carried.cycle + 1 },
        });
      }
      continue;
    }

    const seen = wakeups;
    // The timer's summary names the step it waits for and its local moment (the Temporal UI's event history).
    await condition(
      () => settingsDirty || wakeups !== seen,
      Math.max(1, nextWakeAt(schedule()) - Date.now()),
      { summary: wakeSummary(schedule()) },
    );
  }
}

function scopeOf(req: ManualRequest): { modelIds?: string[] } {
  return req.modelIds && req.modelIds.length > 0 ? { modelIds: req.modelIds } : {};
}
