import { createRoute, z } from '@hono/zod-openapi';
import { decimalCount, decimalId, ModelIdSchema, RolloutIdSchema } from '../../../domain/ids.ts';
import { errorResponses, IsoDate, jsonContent, PbxIdParams, security } from '../../openapi.ts';

const tags = ['Rollouts'];

const STATUSES = ['running', 'completed', 'failed', 'cancelled'] as const;

export const RolloutSchema = z
  .object({
    id: z.string().openapi({ description: 'The rollout: the run id of its workflow' }),
    workflowId: z.string().openapi({ example: 'pbx/acme/rollout/yealink-t54w/96.86.0.100' }),
    pbxId: z.string(),
    modelId: z.string(),
    targetVersion: z.string(),
    status: z.string().openapi({ example: 'running' }),
    why: z.string().nullable(),
    who: z.string().nullable(),
    total: z.number().int(),
    done: z.number().int(),
    updated: z.number().int(),
    failed: z.number().int(),
    blocks: z.number().int(),
    blocksDone: z.number().int(),
    percent: z.number().int().min(0).max(100),
    startedAt: IsoDate.nullable(),
    finishedAt: IsoDate.nullable(),
    live: z.boolean().openapi({ description: 'Numbers come from the running workflow, not the database' }),
    temporalUrl: z.string().openapi({ description: 'The rollout in the Temporal UI' }),
  })
  .openapi('Rollout');

const ResultSchema = z
  .object({
    phoneAccountId: z.number().int(),
    mac: z.string(),
    block: z.number().int(),
    outcome: z.string(),
    fromVersion: z.string().nullable(),
    reportedVersion: z.string().nullable(),
    detail: z.string().nullable(),
    at: IsoDate,
  })
  .openapi('RolloutPhoneResult');

export const progress = createRoute({
  method: 'get',
  path: '/api/pbxes/{pbxId}/rollout-progress',
  operationId: 'getRolloutProgress',
  tags,
  security,
  summary: 'Per type: the running or most recent rollout, live while it runs',
  request: { params: PbxIdParams },
  responses: {
    200: jsonContent(z.object({ rollouts: z.array(RolloutSchema) }), 'One rollout per type'),
    ...errorResponses(400, 401, 404),
  },
});

export const list = createRoute({
  method: 'get',
  path: '/api/pbxes/{pbxId}/rollouts',
  operationId: 'listRollouts',
  tags,
  security,
  summary: 'Rollout history, newest first',
  request: {
    params: PbxIdParams,
    query: z.object({
      modelId: ModelIdSchema.optional(),
      status: z.enum(STATUSES).optional(),
      limit: decimalCount('limit', 1, 200, 50),
    }),
  },
  responses: {
    200: jsonContent(z.object({ rollouts: z.array(RolloutSchema) }), 'Rollouts'),
    ...errorResponses(400, 401, 404),
  },
});

export const get = createRoute({
  method: 'get',
  path: '/api/pbxes/{pbxId}/rollouts/{rolloutId}',
  operationId: 'getRollout',
  tags,
  security,
  summary: 'One rollout (by its id, the run id) with its per-phone results',
  request: {
    params: PbxIdParams.extend({
      rolloutId: RolloutIdSchema,
    }),
    query: z.object({
      afterPhoneId: decimalId('afterPhoneId').optional(),
      limit: decimalCount('limit', 1, 5000, 1000),
    }),
  },
  responses: {
    200: jsonContent(
      z.object({
        rollout: RolloutSchema,
        results: z.array(ResultSchema),
        nextAfterPhoneId: z.number().int().nullable(),
      }),
      'The rollout and a page of phone results',
    ),
    ...errorResponses(400, 401, 404),
  },
});
