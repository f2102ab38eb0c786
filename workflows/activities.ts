/** Activity proxies with the timeouts and retry policies each kind of work needs. */
import { proxyActivities } from '@temporalio/workflow';
import type { DownloadActivityFns, LifecycleActivityFns, PhoneActivityFns } from '../activities/contracts.ts';
import { DEFAULT_QUEUES, type TaskQueueNames } from './messages.ts';

export function activitiesFor(queues: TaskQueueNames = DEFAULT_QUEUES) {
  /** Database bookkeeping: quick, retried until Postgres is back. */
  const bookkeeping = proxyActivities<LifecycleActivityFns>({
    startToCloseTimeout: '1 minute',
    retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '1 minute' },
  });

  /** R3: an unreachable firmware server is a visible, retried state; after ~1 h of attempts the check is reported failed. */
  const catalog = proxyActivities<Pick<LifecycleActivityFns, 'checkFirmware'>>({
    startToCloseTimeout: '3 minutes',
    retry: {
      initialInterval: '10 seconds',
      backoffCoefficient: 2,
      maximumInterval: '15 minutes',
      maximumAttempts: 8,
    },
  });

  /** Downloads can be hundreds of MB: heartbeats carry the offset, so a retry resumes instead of restarting. */
  const downloads = proxyActivities<DownloadActivityFns>({
    taskQueue: queues.downloads,
    startToCloseTimeout: '6 hours',
    heartbeatTimeout: '1 minute',
    retry: {
      initialInterval: '10 seconds',
      backoffCoefficient: 2,
      maximumInterval: '10 minutes',
      maximumAttempts: 12,
    },
  });

  /** One block of ≤ 50 phones: notify, wait for them to flash and come back (R12). */
  const phones = proxyActivities<PhoneActivityFns>({
    taskQueue: queues.phones,
    startToCloseTimeout: '45 minutes',
    // The block heartbeats every second while it waits; a dead worker is noticed within 30 s and the block
    // resumes on another one from the heartbeat details (no phone notified twice that the details name).
    heartbeatTimeout: '30 seconds',
    retry: {
      initialInterval: '30 seconds',
      backoffCoefficient: 2,
      maximumInterval: '5 minutes',
      maximumAttempts: 5,
    },
  });

  return { bookkeeping, catalog, downloads, phones };
}

export type Activities = ReturnType<typeof activitiesFor>;
