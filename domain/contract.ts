/**
 * The shapes the admin API and the workflows exchange, defined once in zod: the API validates requests and
 * documents responses with them (api/routes), the workflows take their message and result types from them
 * (workflows/messages.ts) and validate Updates with them. Plain zod, no HTTP library: workflow code imports this.
 */
import { z } from 'zod';
import { ModelIdSchema, TIME_OF_DAY_PATTERN, VersionSchema } from './ids.ts';
import { REASON_TEMPLATES, type ReasonCode } from './reasons.ts';
import { PHONE_OUTCOMES, ROLLOUT_STATUSES } from './rollout.ts';
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
  notContacted: z.number().int(),
  skipped: z.number().int(),
  pending: z.number().int(),
  blocks: z.number().int(),
  blocksDone: z.number().int(),
  percent: z.number().int().min(0).max(100),
  /** One line with the same words and numbers, for the Temporal UI and logs. */
  summary: z.string(),
});
export type RolloutSummary = z.infer<typeof RolloutSummarySchema>;

/** Validates a message the way the API does, throwing the first problem's message (Update validators). */
export function assertValid<S extends z.ZodType>(schema: S, value: unknown): asserts value is z.infer<S> {
  const r = schema.safeParse(value);
  if (!r.success) {
    const issue = r.error.issues[0];
    const where = issue?.path.length ? `${issue.path.join('.')}: ` : '';
    throw new Error(`${where}${issue?.message ?? 'invalid message'}`);
  }
}
