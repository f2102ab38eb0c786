/** Activity proxies with the timeouts and retry policies each kind of work needs. */
import {
  ActivityCancellationType,
  proxyActivities,
  type ActivityOptions as TemporalActivityOptions,
} from '@temporalio/workflow';
import type { DownloadActivityFns, LifecycleActivityFns, PhoneActivityFns } from '../activities/contracts.ts';
import { DEFAULT_QUEUES, type TaskQueueNames } from './messages.ts';

export interface ActivityOptions {
  /** The rollout's blocks: how long one may wait for a phone edge to pick it up (the rollout then says so). */
  phonesScheduleToStart?: string;
  /**
   * A cancelled block (an admin cancelled its rollout) is waited for until it stopped and withdrew its approvals,
   * so the rollout's end is recorded after the last approval went (issue 13).
   */
  waitForBlockCancellation?: boolean;
}

export function activitiesFor(queues: TaskQueueNames = DEFAULT_QUEUES, options: ActivityOptions = {}) {
  /**
   * Database bookkeeping: quick, so a short start-to-close lets a killed worker's attempt be retried within
   * seconds (not a minute); retried without limit until Postgres is back — a rollout waits for its database.
   */
  const bookkeeping = proxyActivities<LifecycleActivityFns>({
    startToCloseTimeout: '15 seconds',
    retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '30 seconds' },
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
  const downloadOptions: TemporalActivityOptions = {
    taskQueue: queues.downloads,
    startToCloseTimeout: '6 hours',
    heartbeatTimeout: '1 minute',
    retry: {
      initialInterval: '10 seconds',
      backoffCoefficient: 2,
      maximumInterval: '10 minutes',
      maximumAttempts: 12,
    },
  };
  const downloads = proxyActivities<DownloadActivityFns>(downloadOptions);

  /**
   * One block of ≤ 50 phones: notify, wait for them to flash and come back (R12). The block heartbeats every few
   * seconds whatever it waits for, so a dead worker is noticed within 30 s and the block resumes on another one
   * from its durable per-phone record (no phone notified twice). Retried without an attempt limit: a database
   * or edge outage makes the rollout wait and go on; only a block that cannot run as asked stops it.
   */
  const phoneOptions: TemporalActivityOptions = {
    taskQueue: queues.phones,
    startToCloseTimeout: '45 minutes',
    heartbeatTimeout: '30 seconds',
    ...(options.phonesScheduleToStart ? { scheduleToStartTimeout: options.phonesScheduleToStart } : {}),
    ...(options.waitForBlockCancellation
      ? { cancellationType: ActivityCancellationType.WAIT_CANCELLATION_COMPLETED }
      : {}),
    retry: {
      initialInterval: '5 seconds',
      backoffCoefficient: 2,
      maximumInterval: '1 minute',
      nonRetryableErrorTypes: ['InvalidBlock', 'AutoUpdateOff', 'TypeHeld'],
    },
  };
  const phones = proxyActivities<PhoneActivityFns>(phoneOptions);

  /**
   * The same activities with a one-line summary the Temporal UI shows beside the scheduled activity (user metadata),
   * e.g. "download yealink-t54w 96.86.0.70" or "block 2: 50 phones of yealink-t54w → 96.86.0.70".
   */
  const downloadsAs = (summary: string) =>
    proxyActivities<DownloadActivityFns>({ ...downloadOptions, summary });
  const phonesAs = (summary: string) => proxyActivities<PhoneActivityFns>({ ...phoneOptions, summary });

  return { bookkeeping, catalog, downloads, phones, downloadsAs, phonesAs };
}

export type Activities = ReturnType<typeof activitiesFor>;
