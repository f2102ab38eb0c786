import { createRoute, z } from '@hono/zod-openapi';
import {
  CheckNowResultSchema,
  DownloadNowResultSchema,
  ManualButtonSchema,
  PbxEventResultSchema,
  PbxEventSchema,
  UpdateNowResultSchema,
} from '../../../domain/contract.ts';
import { ActionIdSchema } from '../../../domain/ids.ts';
import {
  errorResponses,
  IsoDate,
  jsonBody,
  jsonContent,
  links,
  PbxIdParams,
  security,
} from '../../openapi.ts';

const tags = ['Buttons and PBX events'];

export const PendingActionSchema = z
  .object({
    status: z.literal('running'),
    actionId: ActionIdSchema,
    resultUrl: z.string().openapi({ description: 'GET it for the result; 202 again while it still runs' }),
    message: z.string().openapi({ example: 'firmware server unreachable (HTTP 503), retrying; see journal' }),
    firmwareServer: z.object({
      lastError: z.string().nullable(),
      lastErrorAt: IsoDate.nullable(),
      lastSyncAt: IsoDate.nullable(),
    }),
  })
  .openapi('PendingAction', {
    description: 'The button is still at work (e.g. the firmware server does not answer and is retried)',
  });

const PENDING = (what: string) =>
  jsonContent(
    PendingActionSchema,
    `${what} is still running; what is known so far, and where the result will be`,
  );

/** A button (POST) and where its result can be fetched when it did not come within API_ANSWER_WAIT_MS. */
function manualRoutes<S extends z.ZodType>(
  operationId: string,
  path: string,
  summary: string,
  result: S,
  description: string,
) {
  const resultOperationId = `${operationId}Result`;
  return {
    press: createRoute({
      method: 'post',
      path,
      operationId,
      tags,
      security,
      summary,
      request: { params: PbxIdParams, body: jsonBody(ManualButtonSchema, false) },
      responses: {
        200: jsonContent(result, description),
        202: {
          ...PENDING(summary),
          links: links([resultOperationId], {
            pbxId: '$request.path.pbxId',
            actionId: '$response.body#/actionId',
          }),
        },
        ...errorResponses(400, 401, 404, 409, 413, 415, 503, 504),
      },
    }),
    result: createRoute({
      method: 'get',
      path: `${path}/{actionId}`,
      operationId: resultOperationId,
      tags,
      security,
      summary: 'The result of a button that answered 202',
      request: { params: PbxIdParams.extend({ actionId: ActionIdSchema }) },
      responses: {
        200: jsonContent(result, description),
        202: PENDING(summary),
        ...errorResponses(400, 401, 404, 409, 503),
      },
    }),
  };
}

export const checkNow = manualRoutes(
  'checkNow',
  '/api/pbxes/{pbxId}/check-now',
  'R9 "Check now": ask the firmware server at once',
  CheckNowResultSchema,
  'What the check found',
);
export const downloadNow = manualRoutes(
  'downloadNow',
  '/api/pbxes/{pbxId}/download-now',
  'R10 "Download now": download new firmware at once',
  DownloadNowResultSchema,
  'What was started, and why not for the rest',
);
export const updateNow = manualRoutes(
  'updateNow',
  '/api/pbxes/{pbxId}/update-now',
  'R11 "Update now": roll out to the phones at once (subject to R7)',
  UpdateNowResultSchema,
  'Per type: started, already running, refused (R7) or nothing to do',
);

export const pbxEvent = createRoute({
  method: 'post',
  path: '/api/pbxes/{pbxId}/events',
  operationId: 'reportPbxEvent',
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
