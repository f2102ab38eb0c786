import { createRoute, z } from '@hono/zod-openapi';
import {
  PhoneOutcomeSchema,
  ReasonSchema,
  RolloutStatusSchema,
  RolloutSummarySchema,
} from '../../../workflows/messages.ts';
import {
  errorResponses,
  IsoDate,
  idText,
  jsonContent,
  ModelIdSchema,
  named,
  PbxIdParams,
  security,
} from '../../openapi.ts';

const tags = ['Rollouts'];

/**
 * A rollout as the database holds it: the workflow's own summary shape (workflows/messages.ts), with who started
 * it, when, and where to find it in the Temporal UI. While it runs, the counts come from its per-phone record.
 */
export const RolloutSchema = named(
  RolloutSummarySchema.extend({
    workflowId: z.string().openapi({ example: 'pbx/acme/rollout/yealink-t54w' }),
    why: z.string().nullable(),
    who: z.string().nullable(),
    startedAt: IsoDate.nullable(),
    finishedAt: IsoDate.nullable(),
    temporalUrl: z.string().openapi({ description: 'The rollout in the Temporal UI' }),
  }),
  'Rollout',
);

const ResultSchema = z
  .object({
    phoneAccountId: z.number().int(),
    mac: z.string(),
    extension: z.string().nullable(),
    block: z.number().int().nullable().openapi({ description: '0-based; null for a phone put in no block' }),
    outcome: named(PhoneOutcomeSchema, 'PhoneOutcome').nullable(),
    fromVersion: z.string().nullable(),
    reportedVersion: z.string().nullable(),
    detail: z.string().nullable(),
    reason: named(ReasonSchema, 'Reason').nullable(),
    at: IsoDate,
  })
  .openapi('RolloutPhoneResult');

export const progress = createRoute({
  method: 'get',
  path: '/api/pbxes/{pbxId}/rollout-progress',
  tags,
  security,
  summary: 'Per type: the running or most recent rollout (from the database; no Temporal query)',
  request: { params: PbxIdParams },
  responses: {
    200: jsonContent(z.object({ rollouts: z.array(RolloutSchema) }), 'One rollout per type'),
    ...errorResponses(400, 401, 404),
  },
});

export const list = createRoute({
  method: 'get',
  path: '/api/pbxes/{pbxId}/rollouts',
  tags,
  security,
  summary: 'Rollout history, newest first',
  request: {
    params: PbxIdParams,
    query: z.object({
      modelId: ModelIdSchema.optional(),
      status: named(RolloutStatusSchema, 'RolloutStatus').optional(),
      limit: z.coerce.number().int().min(1).max(200).default(50),
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
  tags,
  security,
  summary: 'One rollout (by its id, the run id) with its per-phone results',
  request: {
    params: PbxIdParams.extend({
      rolloutId: z
        .string()
        .min(1)
        .max(300)
        .openapi({
          param: { name: 'rolloutId', in: 'path' },
          example: '0193e3f2-7c1d-7000-8000-5b1f0e2a9c41',
        }),
    }),
    query: z.object({
      afterPhoneId: idText('afterPhoneId').optional(),
      limit: z.coerce.number().int().min(1).max(5000).default(1000),
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
