/**
 * A stand-in for the per-PBX lifecycle workflow that speaks the contract of workflows/messages.ts and records
 * what it was sent, so API tests can prove what the API asks of the workflow (over a real Temporal server)
 * independently of what the real workflow then does.
 */
import { condition, defineQuery, setHandler } from '@temporalio/workflow';
import {
  checkNowUpdate,
  downloadNowUpdate,
  type LifecycleArgs,
  type LifecycleStatus,
  pbxEventUpdate,
  settingsChangedSignal,
  startTypeRolloutUpdate,
  statusQuery,
  updateNowUpdate,
} from '../../workflows/messages.ts';

export interface StubRecord {
  message: string;
  payload: unknown;
}

export const stubReceivedQuery = defineQuery<{ args: LifecycleArgs; received: StubRecord[] }>('stubReceived');

export async function pbxLifecycle(args: LifecycleArgs): Promise<void> {
  const received: StubRecord[] = [];
  const note = (message: string, payload: unknown) => {
    received.push({ message, payload });
  };

  setHandler(checkNowUpdate, (req) => {
    note('checkNow', req);
    return {
      checkedAt: '2025-01-06T10:00:00.000Z',
      catalogOk: true,
      types: (req.modelIds ?? []).map((m) => ({
        modelId: m,
        model: m,
        newestLocal: null,
        newestAvailable: '1.2.3',
        needsDownload: true,
      })),
    };
  });
  setHandler(downloadNowUpdate, (req) => {
    note('downloadNow', req);
    return {
      started: (req.modelIds ?? []).map((m) => ({ modelId: m, model: m, version: '1.2.3' })),
      nothingToDo: [],
      catalogOk: true,
    };
  });
  setHandler(updateNowUpdate, (req) => {
    note('updateNow', req);
    return {
      decisions: (req.modelIds ?? []).map((m) => ({
        modelId: m,
        model: m,
        status: 'refused' as const,
        reason: {
          code: 'auto-update-off' as const,
          params: { model: m },
          text: `stub refuses ${m} for ${req.who}`,
        },
      })),
    };
  });
  setHandler(startTypeRolloutUpdate, (req) => {
    note('startTypeRollout', req);
    return {
      modelId: req.modelId,
      model: req.modelId,
      status: 'nothing-to-do' as const,
      reason: { code: 'all-current' as const, params: { version: '1.2.3' }, text: 'stub: all current' },
    };
  });
  setHandler(
    pbxEventUpdate,
    (event) => {
      note('pbxEvent', event);
      return event.kind === 'restarted'
        ? { removed: [] }
        : { triggerWorkflowId: `pbx/${args.pbxId}/trigger/${event.kind}/stub` };
    },
    {
      validator: (event) => {
        if (event.kind === 'upgraded' && event.version === '0.0.0-refused') {
          throw new Error('stub refuses this upgrade');
        }
      },
    },
  );
  setHandler(settingsChangedSignal, (s) => {
    note('settingsChanged', s);
  });
  setHandler(stubReceivedQuery, () => ({ args, received }));
  setHandler(
    statusQuery,
    (): LifecycleStatus => ({
      pbxId: args.pbxId,
      phase: 'idle',
      nextWeeklyCheck: '2025-01-07T10:00:00.000Z',
      pendingDownloadAt: null,
      nextScheduledUpdate: null,
      autoDownloadInstall: true,
      runningRollouts: [],
      runningTriggers: [],
      lastCheck: null,
      cycle: received.length,
    }),
  );
  await condition(() => false);
}
