import { createRoute, z } from '@hono/zod-openapi';
import {
  CheckNowResultSchema as CheckNowResult,
  DownloadNowResultSchema as DownloadNowResult,
  PbxEventResultSchema as PbxEventResult,
  TypeDecisionSchema as TypeDecision,
} from '../../../workflows/messages.ts';
import {
  errorResponses,
  jsonBody,
  jsonContent,
  ModelIdSchema,
  named,
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

// Results are the workflow's own contract (workflows/messages.ts), named here for the OpenAPI document.
export const CheckNowResultSchema = named(CheckNowResult, 'CheckNowResult');
export const DownloadNowResultSchema = named(DownloadNowResult, 'DownloadNowResult');
export const TypeDecisionSchema = named(TypeDecision, 'TypeDecision', {
  description: 'R7: a type with Auto-Update off is refused with the reason (code, parameters, English text)',
});
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

const PbxEventResultSchema = named(PbxEventResult, 'PbxEventResult');

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
