/**
 * The shapes the admin API and the per-PBX lifecycle workflow exchange, defined once in zod (issue 11): the API
 * validates requests and documents responses with them (api/routes), and `test/unit/contract.test.ts` proves the
 * workflow's message types in workflows/messages.ts are exactly these, until those are derived from here too.
 * Plain zod, no HTTP library: workflow code may import this module.
 */
import { z } from 'zod';
import { ModelIdSchema, TIME_OF_DAY_PATTERN, VersionSchema } from './ids.ts';
import { WEEKDAYS } from './timing.ts';

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
export const ManualRequestSchema = z.object({
  who: z.string().min(1),
  modelIds: z.array(ModelIdSchema).optional(),
});

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
    nothingToDo: z.array(z.object({ ...named, reason: z.string() })),
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
      phones: z.number(),
    }),
    z.object({
      ...named,
      status: z.literal('already-running'),
      workflowId: z.string(),
      targetVersion: z.string(),
    }),
    z.object({ ...named, status: z.literal('refused'), reason: z.string() }),
    z.object({ ...named, status: z.literal('nothing-to-do'), reason: z.string() }),
  ])
  .meta({ id: 'TypeDecision', description: 'R7: a type with Auto-Update off is refused with the reason' });

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

export const PbxEventMessageSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('upgraded'), version: VersionSchema, who: z.string().min(1) }),
  z.object({ kind: z.literal('backup-restored'), who: z.string().min(1) }),
  z.object({ kind: z.literal('restarted'), who: z.string().min(1) }),
  z.object({ kind: z.literal('first-account-of-type'), modelId: ModelIdSchema, who: z.string().min(1) }),
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
