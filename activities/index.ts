/**
 * Activities, grouped by the task queue that runs them:
 *   lifecycle  database reads/writes, catalog sync, checks, journal   (TASK_QUEUE)
 *   downloads  firmware downloads into the shared store               (TASK_QUEUE_DOWNLOADS)
 *   phones     provisioning + SIP NOTIFY to phones, block updates     (TASK_QUEUE_PHONES)
 * Workflows proxy each group with its own task queue and timeouts (workflows/activities.ts); the contracts in
 * activities/contracts.ts are checked here at compile time.
 */
import { createCheckActivities } from './check.ts';
import type { DownloadActivityFns, LifecycleActivityFns, PhoneActivityFns } from './contracts.ts';
import type { ActivityDeps } from './deps.ts';
import { createDownloadFirmwareActivities } from './download.ts';
import { syncImageFirmware } from './image-firmware.ts';
import { createLifecycleBookkeeping } from './lifecycle.ts';
import { createRestartCleanupActivities } from './restart-cleanup.ts';
import { type BlockEdge, createBlockUpdateActivities } from './update-block.ts';

export function createLifecycleActivities(deps: ActivityDeps) {
  const activities = {
    ...createLifecycleBookkeeping(deps),
    ...createCheckActivities(deps),
    ...createRestartCleanupActivities(deps),
    /** R2: registers the image's models and their local firmware for every PBX. */
    syncImageFirmware: () => syncImageFirmware(deps),
  };
  return activities satisfies LifecycleActivityFns;
}

export function createDownloadActivities(deps: ActivityDeps) {
  return { ...createDownloadFirmwareActivities(deps) } satisfies DownloadActivityFns;
}

/** Needs the phone edge (phones/edge.ts startPhoneEdge) running in the same worker. */
export function createPhoneActivities(deps: ActivityDeps, edge: BlockEdge) {
  return { ...createBlockUpdateActivities(deps, edge) } satisfies PhoneActivityFns;
}
