import { createRoute, z } from '@hono/zod-openapi';
import {
  PhoneOutcomeSchema,
  ReasonSchema,
  RolloutStatusSchema,
  RolloutSummarySchema,
} from '../../../domain/contract.ts';
import { decimalCount, decimalId, ModelIdSchema, RolloutIdSchema } from '../../../domain/ids.ts';
import { errorResponses, IsoDate, jsonContent, PbxIdParams, security } from '../../openapi.ts';

const tags = ['Rollouts'];

/**
 * A rollout as the database holds it: the workflow's own summary shape (workflows/messages.ts), with who started
 * it, when, and where to find it in the Temporal UI. While it runs, the counts come from its per-phone record.
 */
export const RolloutSchema = RolloutSummarySchema.extend({
  status: RolloutStatusSchema.meta({
    description:
      'running, paused (by an admin, or outside the maintenance window: see reason), halted (the error threshold: an admin resumes or cancels), or how it ended',
  }),
  currentBlock: z
    .number()
    .int()
    .nullable()
    .openapi({ description: '1-based: the block running now; null when none is' }),
  workflowId: z.string().openapi({ example: 'pbx/acme/rollout/yealink-t54w' }),
  why: z.string().nullable(),
  who: z.string().nullable(),
  startedAt: IsoDate.nullable(),
  finishedAt: IsoDate.nullable(),
  temporalUrl: z.string().openapi({ description: 'The rollout in the Temporal UI' }),
}).openapi('Rollout');

export const ResultSchema = z
  .object({
    phoneAccountId: z.number().int(),
    mac: z.string(),
    extension: z.string().nullable(),
    block: z.number().int().nullable().openapi({
      description: '0-based, in the order blocks ran: of its latest attempt; null while in none',
    }),
    plannedBlock: z.number().int().nullable().openapi({
      description: '0-based: its block in the plan (the preview); a late joiner the block it joined',
    }),
    outcome: PhoneOutcomeSchema.nullable(),
    attempts: z
      .number()
      .int()
      .openapi({ description: 'Issue 13: attempts made (a failed phone is retried)' }),
    lastOutcome: PhoneOutcomeSchema.nullable().meta({
      description: 'The failure of its last attempt, while it waits for the next one or once parked',
    }),
    retryAt: IsoDate.nullable().openapi({ description: 'When its next attempt is due' }),
    joined: z.boolean().openapi({ description: 'It joined while the rollout ran (late joiner)' }),
    fromVersion: z.string().nullable(),
    reportedVersion: z.string().nullable(),
    detail: z.string().nullable(),
    reason: ReasonSchema.nullable(),
    at: IsoDate,
  })
  .openapi('RolloutPhoneResult');

export const progress = createRoute({
  method: 'get',
  path: '/api/pbxes/{pbxId}/rollout-progress',
  operationId: 'getRolloutProgress',
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
  operationId: 'listRollouts',
  tags,
  security,
  summary: 'Rollout history, newest first',
  request: {
    params: PbxIdParams,
    query: z.object({
      modelId: ModelIdSchema.optional(),
      status: RolloutStatusSchema.optional(),
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
