/**
 * Messages of the workflows, shared by the API (sender) and the workflows (handlers). Every shape that crosses
 * between them is defined once in zod (domain/contract.ts); this module adds the Temporal definitions and the
 * workflow-only argument types. Manual buttons and PBX events are Updates, so the caller learns at once what was
 * started or why not.
 */
import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import type {
  CheckNowResult,
  DownloadNowResult,
  FleetRolloutSummary,
  ManualRequest,
  PbxEvent,
  PbxEventResult,
  RetryParked,
  RolloutControl,
  RolloutSummary,
  StartTypeRollout,
  TypeDecision,
  UpdateNowResult,
} from '../domain/contract.ts';
import type { Reason } from '../domain/reasons.ts';
import type { RolloutStatus } from '../domain/rollout.ts';
import type { WeeklyMoment } from '../domain/timing.ts';

export {
  assertValid,
  CheckNowResultSchema,
  DownloadNowResultSchema,
  ManualRequestSchema,
  PbxEventMessageSchema as PbxEventSchema,
  PbxEventResultSchema,
  PhoneOutcomeSchema,
  ReasonSchema,
  RetryParkedSchema,
  RolloutControlSchema,
  RolloutStatusSchema,
  RolloutSummarySchema,
  StartTypeRolloutSchema,
  TypeDecisionSchema,
  UpdateNowResultSchema,
} from '../domain/contract.ts';
export type {
  CheckNowResult,
  DownloadNowResult,
  FleetRolloutSummary,
  ManualRequest,
  PbxEvent,
  PbxEventResult,
  RetryParked,
  RolloutControl,
  RolloutSummary,
  StartTypeRollout,
  TypeDecision,
  UpdateNowResult,
  WeeklyMoment,
};

/** Task queues of the activity groups that run outside the lifecycle queue (config TASK_QUEUE_*). */
export interface TaskQueueNames {
  downloads: string;
  phones: string;
}

export const DEFAULT_QUEUES: TaskQueueNames = { downloads: 'firmware-downloads', phones: 'firmware-phones' };

// ---- lifecycle workflow ------------------------------------------------------------------------

export interface LifecycleArgs {
  pbxId: string;
  queues?: TaskQueueNames;
  /** R9: drawn once at registration and stored with the PBX; carried across continue-as-new unchanged. */
  weeklyCheck: WeeklyMoment;
  /** R13 (c): how long a new-type trigger waits for that type's phones to contact the PBX (default 30 min). */
  newPhonesWaitMs?: number;
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
/** Issue 13: one type's rollout with options (its own canary, only some phones, a deliberate downgrade). */
export const startTypeRolloutUpdate = defineUpdate<TypeDecision, [StartTypeRollout]>('startTypeRollout');
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
  /** Issue 13: a deliberate downgrade (phones above the target go); upgrade when absent. */
  direction?: 'upgrade' | 'downgrade';
  /** This rollout's own canary size. */
  canarySize?: number;
  /** Only these phones (parked ones an admin retries after the rollout ended). */
  phoneIds?: number[];
  /** One PBX of a fleet rollout's wave. */
  fleet?: { fleetRolloutId: string; wave: number };
}

export const rolloutProgressQuery = defineQuery<RolloutSummary>('progress');
/** Issue 13: admin control of one rollout (API → rollout workflow), answered with how it stands then. */
export const pauseRolloutUpdate = defineUpdate<RolloutSummary, [RolloutControl]>('pauseRollout');
export const resumeRolloutUpdate = defineUpdate<RolloutSummary, [RolloutControl]>('resumeRollout');
/** Answers once the rollout has recorded its end (approvals withdrawn). */
export const cancelRolloutUpdate = defineUpdate<RolloutSummary, [RolloutControl]>('cancelRollout');
export const retryParkedUpdate = defineUpdate<{ rollout: RolloutSummary; phoneIds: number[] }, [RetryParked]>(
  'retryParked',
);
/** A fleet rollout controls its per-PBX rollouts (workflows cannot send Updates; a signal does it). */
export const fleetControlSignal =
  defineSignal<[{ action: 'pause' | 'resume' | 'cancel'; who: string }]>('fleetControl');

// ---- fleet rollout (issue 13) --------------------------------------------------------------------

export interface FleetMember {
  pbxId: string;
  queues: TaskQueueNames;
}

export interface FleetArgs {
  fleetRolloutId: string;
  modelId: string;
  model: string;
  targetVersion: string;
  /** The PBXes of each wave, in order. */
  waves: FleetMember[][];
  who: string;
  canarySize?: number;
  queues?: TaskQueueNames;
}

export const fleetProgressQuery = defineQuery<FleetRolloutSummary>('fleetProgress');
export const pauseFleetUpdate = defineUpdate<FleetRolloutSummary, [RolloutControl]>('pauseFleet');
export const resumeFleetUpdate = defineUpdate<FleetRolloutSummary, [RolloutControl]>('resumeFleet');
export const cancelFleetUpdate = defineUpdate<FleetRolloutSummary, [RolloutControl]>('cancelFleet');
/** A per-PBX rollout of a fleet tells its fleet when it halts, pauses or goes on. */
export const fleetMemberSignal =
  defineSignal<[{ pbxId: string; rolloutId: string; status: RolloutStatus; reason: Reason | null }]>(
    'fleetMember',
  );

// ---- trigger child (R13) -------------------------------------------------------------------------

export interface TriggerArgs {
  pbxId: string;
  kind: 'upgraded' | 'backup-restored' | 'first-account-of-type';
  /** (c) only the new type; all types with accounts otherwise. */
  modelIds?: string[];
  version?: string;
  who: string;
  queues?: TaskQueueNames;
  /** R13 (c): how long the run waits for phones of the new type to contact the PBX before it updates them. */
  newPhonesWaitMs?: number;
}

export interface TriggerResult {
  checked: number;
  downloaded: Array<{ modelId: string; version: string }>;
  rollouts: TypeDecision[];
  /** How each rollout this run started ended. */
  ended?: Array<{ modelId: string; workflowId: string; status: RolloutStatus }>;
  skipped?: string;
}

/** Workflow ids that read well in the Temporal UI. */
export const workflowIds = {
  lifecycle: (pbxId: string) => `pbx/${pbxId}`,
  /** R12: one id per PBX and type, so Temporal itself refuses a second rollout of the type while one runs. */
  rollout: (pbxId: string, modelId: string) => `pbx/${pbxId}/rollout/${modelId}`,
  /** Before R12 named the type only: kept for histories recorded then (replay). */
  rolloutPerVersion: (pbxId: string, model: string, version: string) =>
    `pbx/${pbxId}/rollout/${model}/${version}`,
  fleet: (fleetRolloutId: string) => `fleet-rollout/${fleetRolloutId}`,
  /** Unique per event: the kind, the type for (c), the moment and a deterministic random suffix. */
  trigger: (pbxId: string, kind: string, at: Date, modelId?: string, suffix?: string) =>
    `pbx/${pbxId}/trigger/${kind}${modelId ? `/${modelId}` : ''}/${at.toISOString()}${suffix ? `-${suffix}` : ''}`,
};
