/**
 * Activities, grouped by the task queue that runs them:
 *   lifecycle  database reads/writes, catalog sync, checks, journal   (TASK_QUEUE)
 *   downloads  firmware downloads into the shared store               (TASK_QUEUE_DOWNLOADS)
 *   phones     provisioning + SIP NOTIFY to phones, block updates     (TASK_QUEUE_PHONES)
 * Workflows proxy each group with its own task queue and timeouts.
 */
import type { ActivityDeps } from './deps.ts';
import { type BlockEdge, createBlockUpdateActivities } from './update-block.ts';

export function createLifecycleActivities(_deps: ActivityDeps) {
  return {};
}

export function createDownloadActivities(_deps: ActivityDeps) {
  return {};
}

/** Needs the phone edge (phones/edge.ts startPhoneEdge) running in the same worker. */
export function createPhoneActivities(deps: ActivityDeps, edge: BlockEdge) {
  return { ...createBlockUpdateActivities(deps, edge) };
}

export type LifecycleActivities = ReturnType<typeof createLifecycleActivities>;
export type DownloadActivities = ReturnType<typeof createDownloadActivities>;
export type PhoneActivities = ReturnType<typeof createPhoneActivities>;
