/**
 * The shapes the admin API and the workflows exchange, defined once in zod: the API validates requests and
 * documents responses with them (api/routes), the workflows take their message and result types from them
 * (workflows/messages.ts) and validate Updates with them. Plain zod, no HTTP library: workflow code imports this.
 */
import { z } from 'zod';
import { DEFAULT_WAVES, WAVE_SIZE_PATTERN } from './fleet-waves.ts';
import { ModelIdSchema, TIME_OF_DAY_PATTERN, VersionSchema } from './ids.ts';
import { REASON_TEMPLATES, type ReasonCode } from './reasons.ts';
import { PHONE_OUTCOMES, ROLLOUT_STATUSES } from './rollout.ts';
import { MAX_CANARY_SIZE, POLICY_LIMITS } from './rollout-policy.ts';
import { WEEKDAYS } from './timing.ts';

/** Why something did or did not happen (domain/reasons.ts): a code with parameters beside its English text. */
export const ReasonSchema = z
  .object({
    code: z.enum(Object.keys(REASON_TEMPLATES) as [ReasonCode, ...ReasonCode[]]),
    params: z.record(z.string(), z.union([z.string(), z.number()])),
    text: z.string(),
  })
  .meta({ id: 'Reason', description: 'A reason code with its parameters, and the English text they make' });

/** A rollout's word (domain/rollout.ts). */
export const RolloutStatusSchema = z.enum(ROLLOUT_STATUSES).meta({ id: 'RolloutStatus' });
/** What became of one phone of a rollout (domain/rollout.ts). */
export const PhoneOutcomeSchema = z.enum(PHONE_OUTCOMES).meta({ id: 'PhoneOutcome' });

export const WeekdaySchema = z.enum(WEEKDAYS).meta({ example: 'sunday' });

export const WeeklyMomentSchema = z
  .object({
    day: WeekdaySchema,
    time: z
      .string()
      .regex(TIME_OF_DAY_PATTERN, 'a time of day is HH:MM, 00:00 to 23:59')
      .meta({ example: '03:00' }),
  })
  .strict()
  .meta({ id: 'WeeklyMoment' });

/** The body of Check now / Download now / Update now. */
export const ManualButtonSchema = z
  .object({
    modelIds: z
      .array(ModelIdSchema)
      .min(1)
      .max(100)
      .optional()
      .meta({ description: 'Only these types; all types with accounts when absent' }),
  })
  .strict()
  .meta({ id: 'ManualRequest' });

/** What the API sends the workflow for a button: the body plus who pressed it (the token's name). */
export const ManualRequestSchema = z
  .object({
    who: z.string().min(1, 'who is required'),
    modelIds: z
      .array(ModelIdSchema, 'modelIds must be model ids such as "yealink-t54w"')
      .min(1)
      .max(100)
      .optional(),
  })
  .strict();

const named = { modelId: z.string(), model: z.string() };

export const CheckNowResultSchema = z
  .object({
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
  })
  .meta({ id: 'CheckNowResult' });

export const DownloadNowResultSchema = z
  .object({
    started: z.array(z.object({ ...named, version: z.string() })),
    nothingToDo: z.array(z.object({ ...named, reason: ReasonSchema })),
    catalogOk: z.boolean(),
    catalogError: z.string().optional(),
  })
  .meta({ id: 'DownloadNowResult' });

export const TypeDecisionSchema = z
  .discriminatedUnion('status', [
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
  ])
  .meta({
    id: 'TypeDecision',
    description:
      'R7: a type with Auto-Update off is refused with the reason; R12: one rollout per type at a time',
  });

export const UpdateNowResultSchema = z
  .object({ decisions: z.array(TypeDecisionSchema) })
  .meta({ id: 'UpdateNowResult' });

/** PBX events an admin (or the PBX) reports; `first-account-of-type` is the API's own and never taken from outside. */
export const PbxEventSchema = z
  .discriminatedUnion('kind', [
    z.object({ kind: z.literal('upgraded'), version: VersionSchema }).strict(),
    z.object({ kind: z.literal('backup-restored') }).strict(),
    z.object({ kind: z.literal('restarted') }).strict(),
  ])
  .meta({
    id: 'PbxEvent',
    description:
      'R13 (a) upgraded, (b) backup restored: check, download and update run; restarted: R5 clean-up',
  });

const who = z.string().min(1, 'who is required');
const upgradeVersion = z.string().min(1, 'version is required for an upgrade').pipe(VersionSchema);
/** A PBX event as the workflow receives it: the API's body plus who reported it. */
export const PbxEventMessageSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('upgraded'), version: upgradeVersion, who }),
  z.object({ kind: z.literal('backup-restored'), who }),
  z.object({ kind: z.literal('restarted'), who }),
  z.object({ kind: z.literal('first-account-of-type'), modelId: ModelIdSchema, who }),
]);

export const PbxEventResultSchema = z
  .object({
    triggerWorkflowId: z.string().optional(),
    removed: z.array(z.object({ modelId: z.string(), version: z.string() })).optional(),
  })
  .meta({ id: 'PbxEventResult' });

export type ManualRequest = z.infer<typeof ManualRequestSchema>;
export type CheckNowResult = z.infer<typeof CheckNowResultSchema>;
export type DownloadNowResult = z.infer<typeof DownloadNowResultSchema>;
export type TypeDecision = z.infer<typeof TypeDecisionSchema>;
export type UpdateNowResult = z.infer<typeof UpdateNowResultSchema>;
export type PbxEvent = z.infer<typeof PbxEventMessageSchema>;
export type PbxEventResult = z.infer<typeof PbxEventResultSchema>;

/**
 * A rollout as it stands (while running) or ended: the rollout workflow's result and progress query, and what the
 * API shows, built from the same per-phone counts the database holds (domain/rollout.ts).
 */
/** The canary, thresholds and attempts a rollout runs with (domain/rollout-policy.ts). */
export const RolloutPolicySchema = z
  .object({
    canarySize: z.number().int(),
    haltFailedPercent: z.number().int(),
    haltFailedBlocksInRow: z.number().int(),
    maxAttempts: z.number().int(),
    retryBackoffMs: z.number().int(),
    retryBackoffFactor: z.number(),
  })
  .meta({ id: 'RolloutPolicy' });

export const RolloutDirectionSchema = z.enum(['upgrade', 'downgrade']).meta({ id: 'RolloutDirection' });

export const RolloutSummarySchema = z.object({
  rolloutId: z.string().meta({ description: 'The rollout: the run id of its workflow' }),
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
  /** Of `failed`: phones parked after their last attempt (issue 13); an admin can retry them. */
  parked: z.number().int(),
  /** Of `pending`: failed phones waiting for their next attempt. */
  retrying: z.number().int(),
  notContacted: z.number().int(),
  skipped: z.number().int(),
  pending: z.number().int(),
  blocks: z.number().int(),
  blocksDone: z.number().int(),
  /** The block running now (1-based), or null: none is (paused, halted, waiting, ended). */
  currentBlock: z.number().int().nullable(),
  percent: z.number().int().min(0).max(100),
  direction: RolloutDirectionSchema,
  /** Null for rollouts started before issue 13. */
  policy: RolloutPolicySchema.nullable(),
  fleetRolloutId: z.string().nullable(),
  /** One line with the same words and numbers, for the Temporal UI and logs. */
  summary: z.string(),
});
export type RolloutSummary = z.infer<typeof RolloutSummarySchema>;

// ---- rollout control (issue 13) ------------------------------------------------------------------

/** A type held at a version: no update beyond it (shown in the overview); who held it and why. */
export const TypeHoldSchema = z
  .object({ version: z.string(), who: z.string(), why: z.string(), at: z.string() })
  .meta({ id: 'TypeHold' });

/** Pause, resume or cancel a rollout (or a fleet rollout): who asks (the token's name). */
export const RolloutControlSchema = z.object({ who: z.string().min(1, 'who is required') }).strict();
export type RolloutControl = z.infer<typeof RolloutControlSchema>;

const phoneIdList = z
  .array(z.number().int().positive().max(Number.MAX_SAFE_INTEGER))
  .min(1)
  .max(5000)
  .refine((ids) => new Set(ids).size === ids.length, 'phoneIds must not repeat')
  .meta({ uniqueItems: true });

/** The body of "retry parked phones": all of the rollout's parked phones, or these. */
export const RetryParkedBodySchema = z
  .object({
    phoneIds: phoneIdList.optional().meta({ description: 'Only these parked phones; all when absent' }),
  })
  .strict()
  .meta({ id: 'RetryParked' });

export const RetryParkedSchema = RetryParkedBodySchema.extend({ who: z.string().min(1, 'who is required') });
export type RetryParked = z.infer<typeof RetryParkedSchema>;

export const CanarySizeSchema = z
  .number()
  .int()
  .min(1)
  .max(MAX_CANARY_SIZE)
  .meta({ description: `Phones in the first block (the canary), 1–${MAX_CANARY_SIZE}` });

/** The body of a per-type rollout with options (its own canary; only some phones). */
export const TypeRolloutBodySchema = z
  .object({
    canarySize: CanarySizeSchema.optional(),
    phoneIds: phoneIdList.optional().meta({ description: 'Only these phones of the type' }),
  })
  .strict()
  .meta({ id: 'TypeRolloutRequest' });

/** What the lifecycle workflow receives for one type's rollout: the body, the type, who; a downgrade's version. */
export const StartTypeRolloutSchema = TypeRolloutBodySchema.extend({
  who: z.string().min(1, 'who is required'),
  modelId: ModelIdSchema,
  downgradeTo: VersionSchema.optional(),
});
export type StartTypeRollout = z.infer<typeof StartTypeRolloutSchema>;

/** What a rollout (or fleet rollout) Update was refused for: the reason code beside the English. */
export const ControlRefusalSchema = z
  .object({ error: z.string(), field: z.string().optional(), reason: ReasonSchema.optional() })
  .meta({ id: 'ControlRefusal' });

const WaveSizeSchema = z
  .string()
  .regex(WAVE_SIZE_PATTERN, 'a wave is a number of PBXes (1..9999), a percentage (1%..100%) or "rest"')
  .meta({ example: '10%' });

/** The body of a fleet rollout: one model to one version across PBXes, in waves. */
export const FleetRolloutRequestSchema = z
  .object({
    modelId: ModelIdSchema,
    version: VersionSchema,
    pbxIds: z
      .array(z.string().regex(/^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/, 'a PBX id'))
      .min(1)
      .max(1000)
      .refine((ids) => new Set(ids).size === ids.length, 'pbxIds must not repeat')
      .meta({ description: 'The PBXes, in the order the waves take them', uniqueItems: true }),
    waves: z
      .array(WaveSizeSchema)
      .min(1)
      .max(20)
      .optional()
      .meta({ description: `Wave sizes; default ${JSON.stringify(DEFAULT_WAVES)}` }),
    canarySize: CanarySizeSchema.optional(),
  })
  .strict()
  .meta({ id: 'FleetRolloutRequest' });

export const FleetPbxStateSchema = z
  .object({
    pbxId: z.string(),
    wave: z.number().int().meta({ description: '1-based' }),
    state: z.enum(['pending', 'skipped', 'rollout']),
    status: RolloutStatusSchema.nullable(),
    rolloutId: z.string().nullable(),
    reason: ReasonSchema.nullable(),
  })
  .meta({ id: 'FleetPbxState' });

export const FleetRolloutSummarySchema = z
  .object({
    fleetRolloutId: z.string(),
    workflowId: z.string(),
    modelId: z.string(),
    targetVersion: z.string(),
    status: RolloutStatusSchema,
    reason: ReasonSchema.nullable(),
    waves: z.number().int(),
    /** 1-based: the wave running, or the last one run. */
    currentWave: z.number().int(),
    /** Who cancelled it while its rollouts are still ending (then it ends `cancelled`). */
    cancelRequestedBy: z.string().nullable(),
    pbxes: z.array(FleetPbxStateSchema),
  })
  .meta({ id: 'FleetRolloutSummary' });
export type FleetRolloutSummary = z.infer<typeof FleetRolloutSummarySchema>;

/** The canary and thresholds of a PBX as the API shows and takes them (null = the default). */
export const RolloutSettingsChangeSchema = z
  .object({
    canarySize: CanarySizeSchema.nullable().optional(),
    haltFailedPercent: z
      .number()
      .int()
      .min(POLICY_LIMITS.haltFailedPercent.min)
      .max(POLICY_LIMITS.haltFailedPercent.max)
      .nullable()
      .optional()
      .meta({
        description: 'A block in which more than this % of the phones offered the firmware failed halts',
      }),
    haltFailedBlocksInRow: z
      .number()
      .int()
      .min(POLICY_LIMITS.haltFailedBlocksInRow.min)
      .max(POLICY_LIMITS.haltFailedBlocksInRow.max)
      .nullable()
      .optional()
      .meta({ description: 'This many blocks in a row with failed phones halt' }),
    maxAttempts: z
      .number()
      .int()
      .min(POLICY_LIMITS.maxAttempts.min)
      .max(POLICY_LIMITS.maxAttempts.max)
      .nullable()
      .optional()
      .meta({ description: 'Attempts per phone (first one included), then it is parked' }),
    maintenanceWindow: z
      .union([
        z
          .object({
            start: z.string().regex(TIME_OF_DAY_PATTERN, 'a time of day is HH:MM, 00:00 to 23:59'),
            end: z.string().regex(TIME_OF_DAY_PATTERN, 'a time of day is HH:MM, 00:00 to 23:59'),
          })
          .strict(),
        z.null(),
      ])
      .optional()
      .meta({
        description:
          'Local time in the PBX zone, e.g. 22:00–05:00 (across midnight); equal start and end = the whole day from start; null = none',
      }),
  })
  .strict()
  .refine((b) => Object.keys(b).length > 0, 'name at least one setting')
  .meta({ id: 'RolloutSettingsChange', minProperties: 1 });

/** Validates a message the way the API does, throwing the first problem's message (Update validators). */
export function assertValid<S extends z.ZodType>(schema: S, value: unknown): asserts value is z.infer<S> {
  const r = schema.safeParse(value);
  if (!r.success) {
    const issue = r.error.issues[0];
    const where = issue?.path.length ? `${issue.path.join('.')}: ` : '';
    throw new Error(`${where}${issue?.message ?? 'invalid message'}`);
  }
}
