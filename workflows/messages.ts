/**
 * Messages of the per-PBX lifecycle workflow, shared by the API (sender) and the workflow (handler).
 * Manual buttons and PBX events are Updates, so the caller learns at once what was started or why not.
 */
import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';

import type { WeeklyMoment } from '../domain/timing.ts';

export type { WeeklyMoment };

/** Task queues of the activity groups that run outside the lifecycle queue (config TASK_QUEUE_*). */
export interface TaskQueueNames {
  downloads: string;
  phones: string;
}

export const DEFAULT_QUEUES: TaskQueueNames = { downloads: 'firmware-downloads', phones: 'firmware-phones' };

export interface LifecycleArgs {
  pbxId: string;
  queues?: TaskQueueNames;
  /** R9: drawn once at registration and stored with the PBX; carried across continue-as-new unchanged. */
  weeklyCheck: WeeklyMoment;
  /** State that must survive continue-as-new (absent on the first run). */
  carried?: CarriedState;
}

export interface CarriedState {
  /** Epoch ms of the last weekly check moment that ran (the scheduled moment or later). */
  lastWeeklyCheckAt?: number;
  /** R10: the drawn download moment and what the automatic check found; fixed once drawn. */
  pendingDownload?: {
    at: number;
    checkedAt: number;
    items: Array<{ modelId: string; releaseId: string; version: string }>;
  };
  /** Epoch ms of the last admin update moment that ran. */
  lastScheduledUpdateAt?: number;
  /** What the last check saw, for the status query. */
  lastCheck?: CheckNowResult | null;
  cycle: number;
}

export interface ManualRequest {
  /** Token name of the admin. */
  who: string;
  /** Only these types; all types with accounts when absent. */
  modelIds?: string[];
}

export type TypeDecision =
  | {
      modelId: string;
      model: string;
      status: 'started';
      workflowId: string;
      targetVersion: string;
      phones: number;
    }
  | { modelId: string; model: string; status: 'already-running'; workflowId: string; targetVersion: string }
  | { modelId: string; model: string; status: 'refused'; reason: string }
  | { modelId: string; model: string; status: 'nothing-to-do'; reason: string };

export interface CheckNowResult {
  checkedAt: string;
  catalogOk: boolean;
  catalogError?: string;
  types: Array<{
    modelId: string;
    model: string;
    newestLocal: string | null;
    newestAvailable: string | null;
    needsDownload: boolean;
  }>;
}

export interface DownloadNowResult {
  started: Array<{ modelId: string; model: string; version: string }>;
  nothingToDo: Array<{ modelId: string; model: string; reason: string }>;
  catalogOk: boolean;
  catalogError?: string;
}

export interface UpdateNowResult {
  decisions: TypeDecision[];
}

export type PbxEvent =
  | { kind: 'upgraded'; version: string; who: string }
  | { kind: 'backup-restored'; who: string }
  | { kind: 'restarted'; who: string }
  | { kind: 'first-account-of-type'; modelId: string; who: string };

export interface PbxEventResult {
  /** R13: the trigger child workflow started for upgrade / restore / new type. */
  triggerWorkflowId?: string;
  /** R5: what the restart clean-up removed. */
  removed?: Array<{ modelId: string; version: string }>;
}

export interface LifecycleStatus {
  pbxId: string;
  phase: 'idle' | 'checking' | 'downloading' | 'updating';
  nextWeeklyCheck: string;
  pendingDownloadAt: string | null;
  nextScheduledUpdate: string | null;
  autoDownloadInstall: boolean;
  runningRollouts: Array<{ modelId: string; workflowId: string; targetVersion: string }>;
  runningTriggers: string[];
  lastCheck: CheckNowResult | null;
  cycle: number;
}

export const checkNowUpdate = defineUpdate<CheckNowResult, [ManualRequest]>('checkNow');
export const downloadNowUpdate = defineUpdate<DownloadNowResult, [ManualRequest]>('downloadNow');
export const updateNowUpdate = defineUpdate<UpdateNowResult, [ManualRequest]>('updateNow');
export const pbxEventUpdate = defineUpdate<PbxEventResult, [PbxEvent]>('pbxEvent');
/** R8 / R11 / R7 changed in the database: the workflow reloads its settings. */
export const settingsChangedSignal = defineSignal<[{ who: string }]>('settingsChanged');
export const statusQuery = defineQuery<LifecycleStatus>('status');

// ---- rollout child ------------------------------------------------------------------------------

export interface RolloutArgs {
  pbxId: string;
  queues?: TaskQueueNames;
  modelId: string;
  model: string;
  targetVersion: string;
  why: 'schedule' | 'manual' | 'trigger';
  who: string;
}

export interface RolloutProgress {
  rolloutId: string;
  pbxId: string;
  modelId: string;
  targetVersion: string;
  status: 'running' | 'completed' | 'failed' | 'cancelled' | 'refused';
  total: number;
  done: number;
  updated: number;
  failed: number;
  blocks: number;
  blocksDone: number;
  percent: number;
}

// ---- trigger child (R13) -------------------------------------------------------------------------

export interface TriggerArgs {
  pbxId: string;
  kind: 'upgraded' | 'backup-restored' | 'first-account-of-type';
  /** (c) only the new type; all types with accounts otherwise. */
  modelIds?: string[];
  version?: string;
  who: string;
  queues?: TaskQueueNames;
}

export interface TriggerResult {
  checked: number;
  downloaded: Array<{ modelId: string; version: string }>;
  rollouts: TypeDecision[];
  skipped?: string;
}

export const rolloutProgressQuery = defineQuery<RolloutProgress>('progress');

/** Workflow ids that read well in the Temporal UI. */
export const workflowIds = {
  lifecycle: (pbxId: string) => `pbx/${pbxId}`,
  rollout: (pbxId: string, model: string, version: string) => `pbx/${pbxId}/rollout/${model}/${version}`,
  trigger: (pbxId: string, kind: string, at: Date) => `pbx/${pbxId}/trigger/${kind}/${at.toISOString()}`,
};
