import { createRoute, z } from '@hono/zod-openapi';
import {
  CanarySizeSchema,
  ControlRefusalSchema,
  ReasonSchema,
  RolloutPolicySchema,
  RolloutSettingsChangeSchema,
  TypeDecisionSchema,
  TypeHoldSchema,
  TypeRolloutBodySchema,
} from '../../../domain/contract.ts';
import { freeText, ModelIdSchema, PreviewIdSchema, VersionSchema } from '../../../domain/ids.ts';
import { errorResponses, IsoDate, jsonBody, jsonContent, PbxIdParams, security } from '../../openapi.ts';

const tags = ['Rollout planning'];
const TypeParams = PbxIdParams.extend({ modelId: ModelIdSchema });

const refused = (what: string) => ({
  description: `${what} refused: \`reason\` has the code`,
  content: { 'application/json': { schema: ControlRefusalSchema } },
});

const WindowSchema = z
  .object({ start: z.string(), end: z.string(), timeZone: z.string() })
  .openapi('MaintenanceWindow', {
    description: 'Local times in the PBX zone; end before start = across midnight',
  });

export const PreviewSchema = z
  .object({
    previewId: z.string(),
    pbxId: z.string(),
    modelId: z.string(),
    model: z.string(),
    targetVersion: z.string(),
    direction: z.enum(['upgrade', 'downgrade']),
    canarySize: z.number().int(),
    createdAt: IsoDate,
    who: z.string(),
    blocks: z.array(
      z.object({
        block: z.number().int().openapi({ description: '1-based; block 1 is the canary' }),
        canary: z.boolean(),
        expectedStartAt: IsoDate.nullable().openapi({
          description:
            'The latest expected start without halts or retries (each block waits at most 10 min), in the window',
        }),
        phones: z.array(
          z.object({
            phoneAccountId: z.number().int(),
            mac: z.string(),
            extension: z.string(),
            installedVersion: z.string().nullable(),
            registered: z
              .boolean()
              .openapi({ description: 'A live SIP registration when the preview was made' }),
          }),
        ),
      }),
    ),
  })
  .openapi('RolloutPreview');

const TypePreviewSchema = z
  .object({
    modelId: z.string(),
    model: z.string(),
    startAt: IsoDate.openapi({ description: 'Now, or the next weekly update moment (R11)' }),
    window: WindowSchema.nullable(),
    wouldRun: z.boolean(),
    reason: ReasonSchema.nullable().meta({
      description: 'Why no rollout would run, or that the type is held',
    }),
    preview: PreviewSchema.nullable(),
    policy: RolloutPolicySchema.optional(),
    notContacted: z
      .array(z.object({ phoneAccountId: z.number().int(), mac: z.string(), extension: z.string() }))
      .openapi({ description: 'Phones that never reported a version: counted, not offered firmware' }),
  })
  .openapi('TypePreview');

export const PreviewRequestSchema = z
  .object({
    modelIds: z.array(ModelIdSchema).min(1).max(100).optional(),
    canarySize: CanarySizeSchema.optional(),
    when: z
      .enum(['now', 'scheduled'])
      .optional()
      .openapi({ description: 'now (Update now) or the next scheduled update (R11); default now' }),
  })
  .strict()
  .openapi('PreviewRequest');

export const makePreviews = createRoute({
  method: 'post',
  path: '/api/pbxes/{pbxId}/rollout-previews',
  operationId: 'previewRollouts',
  tags,
  security,
  summary:
    'Dry run (issue 13): which phones go in which block, the canary, when each block is expected to start',
  description: 'Stored: the rollout that then runs is compared with it (GET …/rollouts/{rolloutId}/plan).',
  request: { params: PbxIdParams, body: jsonBody(PreviewRequestSchema, false) },
  responses: {
    200: jsonContent(z.object({ previews: z.array(TypePreviewSchema) }), 'One per type'),
    ...errorResponses(400, 401, 404, 413, 415),
  },
});

export const getPreview = createRoute({
  method: 'get',
  path: '/api/pbxes/{pbxId}/rollout-previews/{previewId}',
  operationId: 'getRolloutPreview',
  tags,
  security,
  summary: 'A stored preview',
  request: { params: PbxIdParams.extend({ previewId: PreviewIdSchema }) },
  responses: { 200: jsonContent(PreviewSchema, 'The preview'), ...errorResponses(400, 401, 404) },
});

const nullableInt = z.number().int().nullable();
export const RolloutSettingsSchema = z
  .object({
    pbxId: z.string(),
    configured: z
      .object({
        canarySize: nullableInt,
        haltFailedPercent: nullableInt,
        haltFailedBlocksInRow: nullableInt,
        maxAttempts: nullableInt,
      })
      .openapi({ description: 'What the PBX sets; null = the default' }),
    effective: RolloutPolicySchema,
    defaults: RolloutPolicySchema,
    maintenanceWindow: WindowSchema.nullable(),
    windowNow: z
      .object({ open: z.boolean(), closesAt: IsoDate.nullable(), opensAt: IsoDate.nullable() })
      .nullable(),
    updatedAt: IsoDate.nullable(),
    updatedBy: z.string().nullable(),
  })
  .openapi('RolloutSettings');

export const getSettings = createRoute({
  method: 'get',
  path: '/api/pbxes/{pbxId}/rollout-settings',
  operationId: 'getRolloutSettings',
  tags,
  security,
  summary: 'Canary, error threshold, attempts and maintenance window of the PBX (issue 13)',
  request: { params: PbxIdParams },
  responses: { 200: jsonContent(RolloutSettingsSchema, 'The settings'), ...errorResponses(400, 401, 404) },
});

export const changeSettings = createRoute({
  method: 'patch',
  path: '/api/pbxes/{pbxId}/rollout-settings',
  operationId: 'changeRolloutSettings',
  tags,
  security,
  summary: 'Change them: a value sets it, null returns it to the default (journaled)',
  request: { params: PbxIdParams, body: jsonBody(RolloutSettingsChangeSchema) },
  responses: {
    200: jsonContent(RolloutSettingsSchema, 'The settings now'),
    ...errorResponses(400, 401, 404, 413, 415),
  },
});

export const HoldRequestSchema = z
  .object({ version: VersionSchema, reason: freeText(500, 'known audio bug in 96.86.0.80') })
  .strict()
  .openapi('HoldRequest');

const HoldResultSchema = z
  .object({ modelId: z.string(), hold: TypeHoldSchema.nullable(), released: TypeHoldSchema.nullable() })
  .openapi('HoldResult');

export const setHold = createRoute({
  method: 'put',
  path: '/api/pbxes/{pbxId}/types/{modelId}/hold',
  operationId: 'holdType',
  tags,
  security,
  summary: 'Hold a type at a version (issue 13): no phone of it is updated beyond it; shown in the overview',
  description: 'A rollout beyond it stops before its next block. Journaled with who and why.',
  request: { params: TypeParams, body: jsonBody(HoldRequestSchema) },
  responses: { 200: jsonContent(HoldResultSchema, 'The hold'), ...errorResponses(400, 401, 404, 413, 415) },
});

export const releaseHold = createRoute({
  method: 'delete',
  path: '/api/pbxes/{pbxId}/types/{modelId}/hold',
  operationId: 'releaseTypeHold',
  tags,
  security,
  summary: 'Release the hold (journaled); nothing changes when the type was not held',
  request: {
    params: TypeParams,
    query: z.object({ reason: freeText(500, 'fixed in 96.86.0.85').optional() }),
  },
  responses: { 200: jsonContent(HoldResultSchema, 'The hold released'), ...errorResponses(400, 401, 404) },
});

export const DowngradeRequestSchema = z
  .object({
    version: VersionSchema.meta({ description: 'An older version stored on the PBX' }),
    reason: freeText(500, 'the new release drops calls'),
    canarySize: CanarySizeSchema.optional(),
  })
  .strict()
  .openapi('DowngradeRequest');

export const downgrade = createRoute({
  method: 'post',
  path: '/api/pbxes/{pbxId}/types/{modelId}/downgrade',
  operationId: 'downgradeType',
  tags,
  security,
  summary:
    'Deliberately downgrade a type to an older stored version (issue 13; not Gigaset, which only upgrades)',
  description:
    'Holds the type at that version (journaled with who and why) and rolls it out to the phones above it, canary first.',
  request: { params: TypeParams, body: jsonBody(DowngradeRequestSchema) },
  responses: {
    200: jsonContent(
      z.object({ hold: TypeHoldSchema, decision: TypeDecisionSchema }),
      'Held, and what started',
    ),
    409: refused('Downgrade'),
    ...errorResponses(400, 401, 404, 413, 415, 503, 504),
  },
});

export const typeRollout = createRoute({
  method: 'post',
  path: '/api/pbxes/{pbxId}/types/{modelId}/rollout',
  operationId: 'startTypeRollout',
  tags,
  security,
  summary: 'Update now for one type, with this rollout’s own canary size or only some phones (issue 13)',
  request: { params: TypeParams, body: jsonBody(TypeRolloutBodySchema, false) },
  responses: {
    200: jsonContent(TypeDecisionSchema, 'Started, already running, refused (R7) or nothing to do'),
    ...errorResponses(400, 401, 404, 409, 413, 415, 503, 504),
  },
});
