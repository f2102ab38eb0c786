import { createRoute, z } from '@hono/zod-openapi';
import {
  ControlRefusalSchema,
  PhoneOutcomeSchema,
  ReasonSchema,
  RetryParkedBodySchema,
  TypeDecisionSchema,
} from '../../../domain/contract.ts';
import { RolloutIdSchema } from '../../../domain/ids.ts';
import { errorResponses, IsoDate, jsonBody, jsonContent, PbxIdParams, security } from '../../openapi.ts';
import { RolloutSchema } from '../rollouts/rollouts.routes.ts';

const tags = ['Rollout control'];
const RolloutParams = PbxIdParams.extend({ rolloutId: RolloutIdSchema });
const NoBody = z.object({}).strict().openapi('NoOptions');

const refused = (what: string) => ({
  description: `${what} refused for the rollout's state (ended, already paused, not halted, ...): \`reason\` has the code`,
  content: { 'application/json': { schema: ControlRefusalSchema } },
});

function steer(action: 'pause' | 'resume' | 'cancel', summary: string, description: string) {
  return createRoute({
    method: 'post',
    path: `/api/pbxes/{pbxId}/rollouts/{rolloutId}/${action}`,
    operationId: `${action}Rollout`,
    tags,
    security,
    summary,
    description,
    request: { params: RolloutParams, body: jsonBody(NoBody, false) },
    responses: {
      200: jsonContent(RolloutSchema, 'The rollout as it stands now'),
      409: refused(summary),
      ...errorResponses(400, 401, 404, 413, 415, 503, 504),
    },
  });
}

export const pause = steer(
  'pause',
  'Pause a rollout (issue 13)',
  'A block in progress finishes; no further block starts until it is resumed. Status `paused`, reason `paused-by-admin`.',
);
export const resume = steer(
  'resume',
  'Resume a paused or halted rollout (issue 13)',
  'It continues with the next block that had not started. A rollout waiting for its maintenance window goes on by itself (409 `outside-window`).',
);
export const cancel = steer(
  'cancel',
  'Cancel a rollout (issue 13)',
  'Answers once it has ended `cancelled`: the block in progress is stopped, every firmware approval of a phone not yet updated is withdrawn, the rest skipped.',
);

export const RetryParkedResultSchema = z
  .object({
    rollout: RolloutSchema.nullable().meta({ description: 'The open rollout the phones were retried in' }),
    decision: TypeDecisionSchema.nullable().meta({
      description:
        'The rollout had ended: a new rollout of the type, limited to the parked phones (R7, R12 apply)',
    }),
    phoneIds: z.array(z.number().int()).openapi({ description: 'The phones retried' }),
  })
  .openapi('RetryParkedResult');

export const retryParked = createRoute({
  method: 'post',
  path: '/api/pbxes/{pbxId}/rollouts/{rolloutId}/retry-parked',
  operationId: 'retryParkedPhones',
  tags,
  security,
  summary: 'Retry parked phones (issue 13): with their attempts afresh',
  request: { params: RolloutParams, body: jsonBody(RetryParkedBodySchema, false) },
  responses: {
    200: jsonContent(RetryParkedResultSchema, 'Where the phones are retried'),
    409: refused('Retry'),
    ...errorResponses(400, 401, 404, 413, 415, 503, 504),
  },
});

const DifferenceSchema = z
  .object({
    phoneAccountId: z.number().int(),
    mac: z.string(),
    extension: z.string().nullable(),
    change: z.enum(['added', 'removed', 'moved', 'offline', 'retried']),
    previewBlock: z.number().int().nullable().openapi({ description: '1-based, in the preview' }),
    block: z.number().int().nullable().openapi({ description: '1-based, as run (its latest attempt)' }),
    reason: ReasonSchema,
  })
  .openapi('PreviewDifference');

export const RolloutPlanSchema = z
  .object({
    rolloutId: z.string(),
    preview: z.object({ previewId: z.string(), createdAt: IsoDate, who: z.string() }).nullable().openapi({
      description: 'The preview made before it (the newest of its type since the previous rollout)',
    }),
    matchesPreview: z.boolean().nullable().openapi({ description: 'null when no preview was made' }),
    blocks: z
      .array(z.object({ block: z.number().int(), phoneAccountIds: z.array(z.number().int()) }))
      .openapi({ description: 'The blocks as they ran (1-based, latest attempt of each phone)' }),
    differences: z.array(DifferenceSchema),
  })
  .openapi('RolloutPlan');

export const plan = createRoute({
  method: 'get',
  path: '/api/pbxes/{pbxId}/rollouts/{rolloutId}/plan',
  operationId: 'getRolloutPlan',
  tags,
  security,
  summary: 'The blocks a rollout ran, beside the preview made before it, and why they differ (issue 13)',
  request: { params: RolloutParams },
  responses: {
    200: jsonContent(RolloutPlanSchema, 'The blocks and the differences'),
    ...errorResponses(400, 401, 404),
  },
});

const ParkedPhoneSchema = z
  .object({
    rolloutId: z.string(),
    modelId: z.string(),
    targetVersion: z.string(),
    rolloutStatus: z.string(),
    phoneAccountId: z.number().int(),
    mac: z.string(),
    extension: z.string().nullable(),
    attempts: z.number().int(),
    lastOutcome: PhoneOutcomeSchema.nullable(),
    reason: ReasonSchema.nullable(),
    at: IsoDate,
  })
  .openapi('ParkedPhone');

export const parked = createRoute({
  method: 'get',
  path: '/api/pbxes/{pbxId}/parked-phones',
  operationId: 'listParkedPhones',
  tags,
  security,
  summary: 'Phones parked by the latest rollout of each type, with their last reason (issue 13)',
  request: { params: PbxIdParams },
  responses: {
    200: jsonContent(z.object({ phones: z.array(ParkedPhoneSchema) }), 'Parked phones'),
    ...errorResponses(400, 401, 404),
  },
});
