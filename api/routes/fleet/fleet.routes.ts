import { createRoute, z } from '@hono/zod-openapi';
import { WeeklyMomentSchema } from '../../../domain/contract.ts';
import { FLEET_SORTS } from '../../../domain/fleet.ts';
import {
  decimalCount,
  freeText,
  ModelAtVersionSchema,
  ModelIdSchema,
  TimeZoneSchema,
} from '../../../domain/ids.ts';
import { errorResponses, IsoDate, jsonContent, security } from '../../openapi.ts';

const YesNo = z.enum(['true', 'false']).transform((v) => v === 'true');

export const FleetQuerySchema = z.object({
  q: freeText(100, 'berlin').optional().openapi({ description: "Part of the PBX's id or name, any case" }),
  modelId: ModelIdSchema.optional().openapi({ description: 'Only PBXes with phones of this type' }),
  below: ModelAtVersionSchema.optional().openapi({
    description: 'Only PBXes where a phone of this type reported a version older than this one',
  }),
  behind: YesNo.optional().openapi({ description: 'PBXes with (true) or without (false) types behind' }),
  running: YesNo.optional().openapi({
    description: 'PBXes with (true) or without (false) running rollouts',
  }),
  failed: YesNo.optional().openapi({
    description: 'PBXes with (true) or without (false) a rollout that failed in the last 7 days',
  }),
  autoDownloadInstall: YesNo.optional().openapi({ description: 'R8 switch on (true) or off (false)' }),
  timeZone: TimeZoneSchema.optional(),
  sort: z.enum(FLEET_SORTS).default('id'),
  order: z.enum(['asc', 'desc']).default('asc'),
  offset: decimalCount('offset', 0, 100_000, 0),
  limit: decimalCount('limit', 1, 200, 50),
});

const FleetPbxSchema = z
  .object({
    id: z.string().openapi({ example: 'acme' }),
    name: z.string(),
    timeZone: z.string().openapi({ example: 'Europe/Berlin' }),
    autoDownloadInstall: z.boolean().openapi({ description: 'R8' }),
    updateMoment: z.union([WeeklyMomentSchema, z.null()]).openapi({ description: 'R11; null = none' }),
    nextUpdateAt: IsoDate.nullable().openapi({
      description: 'The next R11 update moment; null when none is set or R8 is off',
    }),
    phones: z.number().int(),
    phonesUnknown: z.number().int().openapi({ description: 'Phones that never reported a version' }),
    phonesBehind: z.number().int(),
    typesBehind: z.array(
      z.object({
        modelId: z.string(),
        vendor: z.string(),
        model: z.string(),
        newest: z
          .string()
          .openapi({ description: 'Newest version stored on the PBX or offered for the type' }),
        phonesBehind: z.number().int(),
        oldest: z.string(),
      }),
    ),
    runningRollouts: z.array(
      z.object({
        modelId: z.string(),
        model: z.string(),
        rolloutId: z.string(),
        targetVersion: z.string(),
        percent: z.number().int().min(0).max(100),
      }),
    ),
    failedRollouts: z
      .number()
      .int()
      .openapi({ description: 'Rollouts that failed (or had failures) in 7 days' }),
    lastFailureAt: IsoDate.nullable(),
  })
  .openapi('FleetPbx');

export const FleetSchema = z
  .object({
    total: z.number().int().openapi({ description: 'PBXes that pass the filter' }),
    offset: z.number().int(),
    limit: z.number().int(),
    generatedAt: IsoDate,
    summary: z.object({
      pbxes: z.number().int(),
      behind: z.number().int(),
      running: z.number().int(),
      failed: z.number().int(),
      phonesBehind: z.number().int(),
    }),
    pbxes: z.array(FleetPbxSchema),
  })
  .openapi('Fleet');

export const fleet = createRoute({
  method: 'get',
  path: '/api/fleet',
  operationId: 'getFleet',
  tags: ['Fleet'],
  security,
  summary:
    'R16: every PBX the token may see, with switches, types behind, running and failed rollouts and the next update moment; filtered, sorted and paged by the server (from the database; no Temporal query)',
  request: { query: FleetQuerySchema },
  responses: {
    200: jsonContent(FleetSchema, 'A page of the fleet'),
    ...errorResponses(400, 401),
  },
});
