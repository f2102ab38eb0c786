/**
 * Activities, grouped by the task queue that runs them:
 *   lifecycle  database reads/writes, catalog sync, checks, journal   (TASK_QUEUE)
 *   downloads  firmware downloads into the shared store               (TASK_QUEUE_DOWNLOADS)
 *   phones     provisioning + SIP NOTIFY to phones, block updates     (TASK_QUEUE_PHONES)
 * Workflows proxy each group with its own task queue and timeouts.
 */
import { createCheckActivities } from './check.ts';
import type { ActivityDeps } from './deps.ts';
import { createDownloadFirmwareActivities } from './download.ts';
import { syncImageFirmware } from './image-firmware.ts';
import { createRestartCleanupActivities } from './restart-cleanup.ts';

export function createLifecycleActivities(deps: ActivityDeps) {
  return {
    ...createCheckActivities(deps),
    ...createRestartCleanupActivities(deps),
    /** R2: registers the image's models and their local firmware for every PBX. */
    syncImageFirmware: () => syncImageFirmware(deps),
  };
}

export function createDownloadActivities(deps: ActivityDeps) {
  return {
    ...createDownloadFirmwareActivities(deps),
  };
}

export function createPhoneActivities(_deps: ActivityDeps) {
  return {};
}

export type LifecycleActivities = ReturnType<typeof createLifecycleActivities>;
export type DownloadActivities = ReturnType<typeof createDownloadActivities>;
export type PhoneActivities = ReturnType<typeof createPhoneActivities>;
