import { createRoute, z } from '@hono/zod-openapi';
import {
  errorResponses,
  jsonBody,
  jsonContent,
  ModelIdSchema,
  PbxIdParams,
  security,
} from '../../openapi.ts';

const tags = ['Buttons and PBX events'];

const ManualSchema = z
  .object({
    modelIds: z
      .array(ModelIdSchema)
      .min(1)
      .max(100)
      .optional()
      .openapi({ description: 'Only these types; all types with accounts when absent' }),
  })
  .strict()
  .openapi('ManualRequest');

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
  .openapi('CheckNowResult');

export const DownloadNowResultSchema = z
  .object({
    started: z.array(z.object({ ...named, version: z.string() })),
    nothingToDo: z.array(z.object({ ...named, reason: z.string() })),
    catalogOk: z.boolean(),
    catalogError: z.string().optional(),
  })
  .openapi('DownloadNowResult');

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
  .openapi('TypeDecision', { description: 'R7: a type with Auto-Update off is refused with the reason' });

export const UpdateNowResultSchema = z
  .object({ decisions: z.array(TypeDecisionSchema) })
  .openapi('UpdateNowResult');

export const PbxEventSchema = z
  .discriminatedUnion('kind', [
    z
      .object({
        kind: z.literal('upgraded'),
        version: z.string().regex(/^[0-9A-Za-z][0-9A-Za-z._-]{0,63}$/, 'a version like 8.1.0.12'),
      })
      .strict(),
    z.object({ kind: z.literal('backup-restored') }).strict(),
    z.object({ kind: z.literal('restarted') }).strict(),
  ])
  .openapi('PbxEvent', {
    description:
      'R13 (a) upgraded, (b) backup restored: check, download and update run; restarted: R5 clean-up',
  });

const PbxEventResultSchema = z
  .object({
    triggerWorkflowId: z.string().optional(),
    removed: z.array(z.object({ modelId: z.string(), version: z.string() })).optional(),
  })
  .openapi('PbxEventResult');

function manualRoute<S extends z.ZodType>(path: string, summary: string, result: S, description: string) {
  return createRoute({
    method: 'post',
    path,
    tags,
    security,
    summary,
    request: { params: PbxIdParams, body: jsonBody(ManualSchema, false) },
    responses: {
      200: jsonContent(result, description),
      ...errorResponses(400, 401, 404, 409, 413, 415, 503, 504),
    },
  });
}

export const checkNow = manualRoute(
  '/api/pbxes/{pbxId}/check-now',
  'R9 "Check now": ask the firmware server at once',
  CheckNowResultSchema,
  'What the check found',
);
export const downloadNow = manualRoute(
  '/api/pbxes/{pbxId}/download-now',
  'R10 "Download now": download new firmware at once',
  DownloadNowResultSchema,
  'What was started, and why not for the rest',
);
export const updateNow = manualRoute(
  '/api/pbxes/{pbxId}/update-now',
  'R11 "Update now": roll out to the phones at once (subject to R7)',
  UpdateNowResultSchema,
  'Per type: started, already running, refused (R7) or nothing to do',
);

export const pbxEvent = createRoute({
  method: 'post',
  path: '/api/pbxes/{pbxId}/events',
  tags,
  security,
  summary: 'Report a PBX event: upgraded (R13 a), backup restored (R13 b), restarted (R5 clean-up)',
  request: { params: PbxIdParams, body: jsonBody(PbxEventSchema) },
  responses: {
    200: jsonContent(
      z.object({ event: PbxEventSchema, result: PbxEventResultSchema }),
      'What the event started',
    ),
    ...errorResponses(400, 401, 404, 409, 413, 415, 503, 504),
  },
});
