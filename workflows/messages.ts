/**
 * The contract between the API and the workflows, defined once: each message and result is a zod schema here;
 * the workflow's message types, the workflow's Update validators and the API's request/response schemas (with their
 * OpenAPI document) all derive from it. Manual buttons and PBX events are Updates, so the caller learns at once
 * what was started or why not.
 */
import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import { z } from 'zod';
import { MODEL_ID_PATTERN } from '../domain/catalog.ts';
import { REASON_TEMPLATES } from '../domain/reasons.ts';
import { PHONE_OUTCOMES, ROLLOUT_STATUSES } from '../domain/rollout.ts';
import type { WeeklyMoment } from '../domain/timing.ts';

export type { WeeklyMoment };

// ---- shared pieces -----------------------------------------------------------------------------

export const ModelIdSchema = z.string().max(80).regex(MODEL_ID_PATTERN, 'a model id looks like yealink-t54w');

export const ReasonSchema = z.object({
  code: z.enum(
    Object.keys(REASON_TEMPLATES) as [keyof typeof REASON_TEMPLATES, ...Array<keyof typeof REASON_TEMPLATES>],
  ),
  params: z.record(z.string(), z.union([z.string(), z.number()])),
  text: z.string(),
});

export const RolloutStatusSchema = z.enum(ROLLOUT_STATUSES);
export const PhoneOutcomeSchema = z.enum(PHONE_OUTCOMES);

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

export const ManualRequestSchema = z
  .object({
    /** Token name of the admin. */
    who: z.string().min(1, 'who is required'),
    /** Only these types; all types with accounts when absent. */
    modelIds: z
      .array(ModelIdSchema, 'modelIds must be model ids such as "yealink-t54w"')
      .min(1)
      .max(100)
      .optional(),
  })
  .strict();
export type ManualRequest = z.infer<typeof ManualRequestSchema>;

const named = { modelId: z.string(), model: z.string() };

export const TypeDecisionSchema = z.discriminatedUnion('status', [
  z.object({
    ...named,
    status: z.literal('started'),
    workflowId: z.string(),
    targetVersion: z.string(),
    phones: z.number().int(),
  }),
  z.object({
    ...named,
    status: z.literal('already-running'),
    workflowId: z.string(),
    targetVersion: z.string(),
    reason: ReasonSchema,
  }),
  z.object({ ...named, status: z.literal('refused'), reason: ReasonSchema }),
  z.object({ ...named, status: z.literal('nothing-to-do'), reason: ReasonSchema }),
]);
export type TypeDecision = z.infer<typeof TypeDecisionSchema>;

export const CheckNowResultSchema = z.object({
  checkedAt: z.string(),
  catalogOk: z.boolean(),
  catalogError: z.string().optional(),
  types: z.array(
    z.object({
      ...named,
      newestLocal: z.string().nullable(),
      newestAvailable: z.string().nullable(),
      needsDownload: z.boolean(),
    }),
  ),
});
export type CheckNowResult = z.infer<typeof CheckNowResultSchema>;

export const DownloadNowResultSchema = z.object({
  started: z.array(z.object({ ...named, version: z.string() })),
  nothingToDo: z.array(z.object({ ...named, reason: ReasonSchema })),
  catalogOk: z.boolean(),
  catalogError: z.string().optional(),
});
export type DownloadNowResult = z.infer<typeof DownloadNowResultSchema>;

export const UpdateNowResultSchema = z.object({ decisions: z.array(TypeDecisionSchema) });
export type UpdateNowResult = z.infer<typeof UpdateNowResultSchema>;

const VersionSchema = z
  .string()
  .regex(/^[0-9A-Za-z][0-9A-Za-z._-]{0,63}$/, 'version is required, like 8.1.0.12');

export const PbxEventSchema = z.discriminatedUnion('kind', [
  z.object({
    kind: z.literal('upgraded'),
    version: VersionSchema,
    who: z.string().min(1, 'who is required'),
  }),
  z.object({ kind: z.literal('backup-restored'), who: z.string().min(1, 'who is required') }),
  z.object({ kind: z.literal('restarted'), who: z.string().min(1, 'who is required') }),
  z.object({
    kind: z.literal('first-account-of-type'),
    modelId: ModelIdSchema,
    who: z.string().min(1, 'who is required'),
  }),
]);
export type PbxEvent = z.infer<typeof PbxEventSchema>;

export const PbxEventResultSchema = z.object({
  /** R13: the trigger child workflow started for upgrade / restore / new type. */
  triggerWorkflowId: z.string().optional(),
  /** R5: what the restart clean-up removed. */
  removed: z.array(z.object({ modelId: z.string(), version: z.string() })).optional(),
});
export type PbxEventResult = z.infer<typeof PbxEventResultSchema>;

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

/** Validates a message the way the API does, throwing the first problem's message (Update validators). */
export function assertValid<S extends z.ZodType>(schema: S, value: unknown): asserts value is z.infer<S> {
  const r = schema.safeParse(value);
  if (!r.success) {
    const issue = r.error.issues[0];
    const where = issue?.path.length ? `${issue.path.join('.')}: ` : '';
    throw new Error(`${where}${issue?.message ?? 'invalid message'}`);
  }
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

/**
 * A rollout as it stands (while running) or ended: the workflow's result and progress query, built from the
 * same per-phone counts the database holds (domain/rollout.ts).
 */
export const RolloutSummarySchema = z.object({
  rolloutId: z.string(),
  workflowId: z.string(),
  pbxId: z.string(),
  modelId: z.string(),
  model: z.string(),
  targetVersion: z.string(),
  status: RolloutStatusSchema,
  /** Why it ended as it did, or what a running rollout waits for. */
  reason: ReasonSchema.nullable(),
  total: z.number().int(),
  done: z.number().int(),
  updated: z.number().int(),
  alreadyCurrent: z.number().int(),
  failed: z.number().int(),
  notContacted: z.number().int(),
  skipped: z.number().int(),
  pending: z.number().int(),
  blocks: z.number().int(),
  blocksDone: z.number().int(),
  percent: z.number().int(),
  /** One line with the same words and numbers, for the Temporal UI and logs. */
  summary: z.string(),
});
export type RolloutSummary = z.infer<typeof RolloutSummarySchema>;
/** @deprecated name kept for the progress query's callers */
export type RolloutProgress = RolloutSummary;

export const rolloutProgressQuery = defineQuery<RolloutSummary>('progress');

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
  ended?: Array<{ modelId: string; workflowId: string; status: z.infer<typeof RolloutStatusSchema> }>;
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
  /** Unique per event: the kind, the type for (c), the moment and a deterministic random suffix. */
  trigger: (pbxId: string, kind: string, at: Date, modelId?: string, suffix?: string) =>
    `pbx/${pbxId}/trigger/${kind}${modelId ? `/${modelId}` : ''}/${at.toISOString()}${suffix ? `-${suffix}` : ''}`,
};
