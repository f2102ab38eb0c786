import { createRoute, z } from '@hono/zod-openapi';
import {
  CheckNowResultSchema,
  DownloadNowResultSchema,
  ManualButtonSchema,
  PbxEventResultSchema,
  PbxEventSchema,
  UpdateNowResultSchema,
} from '../../../domain/contract.ts';
import { errorResponses, jsonBody, jsonContent, PbxIdParams, security } from '../../openapi.ts';

const tags = ['Buttons and PBX events'];

function manualRoute<S extends z.ZodType>(
  operationId: string,
  path: string,
  summary: string,
  result: S,
  description: string,
) {
  return createRoute({
    method: 'post',
    path,
    operationId,
    tags,
    security,
    summary,
    request: { params: PbxIdParams, body: jsonBody(ManualButtonSchema, false) },
    responses: {
      200: jsonContent(result, description),
      ...errorResponses(400, 401, 404, 409, 413, 415, 503, 504),
    },
  });
}

export const checkNow = manualRoute(
  'checkNow',
  '/api/pbxes/{pbxId}/check-now',
  'R9 "Check now": ask the firmware server at once',
  CheckNowResultSchema,
  'What the check found',
);
export const downloadNow = manualRoute(
  'downloadNow',
  '/api/pbxes/{pbxId}/download-now',
  'R10 "Download now": download new firmware at once',
  DownloadNowResultSchema,
  'What was started, and why not for the rest',
);
export const updateNow = manualRoute(
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
