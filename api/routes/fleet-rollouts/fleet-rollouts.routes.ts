import { createRoute, z } from '@hono/zod-openapi';
import {
  ControlRefusalSchema,
  FleetRolloutRequestSchema,
  FleetRolloutSummarySchema,
} from '../../../domain/contract.ts';
import { decimalCount, FleetRolloutIdSchema } from '../../../domain/ids.ts';
import { errorResponses, IsoDate, jsonBody, jsonContent, links, security } from '../../openapi.ts';
import { RolloutSchema } from '../rollouts/rollouts.routes.ts';

const tags = ['Fleet rollouts'];
const FleetParams = z.object({ fleetRolloutId: FleetRolloutIdSchema });
const NoBody = z.object({}).strict().openapi('NoFleetOptions');

export const FleetRolloutSchema = FleetRolloutSummarySchema.extend({
  wavePbxIds: z.array(z.array(z.string())).openapi({ description: 'The PBXes of each wave, in order' }),
  canarySize: z.number().int().nullable(),
  who: z.string(),
  startedAt: IsoDate,
  finishedAt: IsoDate.nullable(),
  temporalUrl: z.string(),
}).openapi('FleetRollout');

export const create = createRoute({
  method: 'post',
  path: '/api/fleet-rollouts',
  operationId: 'createFleetRollout',
  tags,
  security,
  summary: 'Roll one model to one version across PBXes in waves (issue 13; a deployment-wide token)',
  description:
    'Default waves: 1 PBX, then 10 %, then the rest. Each wave is a rollout per PBX under the same canary and thresholds; the next wave starts only when every rollout of the one before completed. R8, R7 and a hold of each PBX still apply (that PBX is skipped, with the reason).',
  request: { body: jsonBody(FleetRolloutRequestSchema) },
  responses: {
    201: {
      ...jsonContent(FleetRolloutSchema, 'Planned and started'),
      links: links(['getFleetRollout', 'pauseFleetRollout', 'resumeFleetRollout', 'cancelFleetRollout'], {
        fleetRolloutId: '$response.body#/fleetRolloutId',
      }),
    },
    ...errorResponses(400, 401, 403, 404, 413, 415, 503, 504),
  },
});

export const list = createRoute({
  method: 'get',
  path: '/api/fleet-rollouts',
  operationId: 'listFleetRollouts',
  tags,
  security,
  summary: 'Fleet rollouts, newest first',
  request: { query: z.object({ limit: decimalCount('limit', 1, 200, 50) }) },
  responses: {
    200: jsonContent(z.object({ fleetRollouts: z.array(FleetRolloutSchema) }), 'Fleet rollouts'),
    ...errorResponses(400, 401, 403),
  },
});

export const get = createRoute({
  method: 'get',
  path: '/api/fleet-rollouts/{fleetRolloutId}',
  operationId: 'getFleetRollout',
  tags,
  security,
  summary: 'One fleet rollout: its waves, every PBX (skipped with why, or its rollout)',
  request: { params: FleetParams },
  responses: {
    200: jsonContent(
      z.object({ fleetRollout: FleetRolloutSchema, rollouts: z.array(RolloutSchema) }),
      'The fleet rollout and its per-PBX rollouts',
    ),
    ...errorResponses(400, 401, 403, 404),
  },
});

function steer(action: 'pause' | 'resume' | 'cancel', summary: string) {
  return createRoute({
    method: 'post',
    path: `/api/fleet-rollouts/{fleetRolloutId}/${action}`,
    operationId: `${action}FleetRollout`,
    tags,
    security,
    summary,
    request: { params: FleetParams, body: jsonBody(NoBody, false) },
    responses: {
      200: jsonContent(FleetRolloutSchema, 'How it stands now'),
      409: {
        description: `${summary} refused for its state: \`reason\` has the code`,
        content: { 'application/json': { schema: ControlRefusalSchema } },
      },
      ...errorResponses(400, 401, 403, 404, 413, 415, 503, 504),
    },
  });
}

export const pause = steer(
  'pause',
  'Pause a fleet rollout: every running rollout of it pauses, no wave starts',
);
export const resume = steer(
  'resume',
  'Resume a paused or halted fleet rollout, and its paused or halted rollouts',
);
export const cancel = steer(
  'cancel',
  'Cancel a fleet rollout: every open rollout of it is cancelled (approvals withdrawn), no wave starts; it ends cancelled when the last one has',
);
