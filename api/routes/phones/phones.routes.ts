import { createRoute, z } from '@hono/zod-openapi';
import { PhoneOutcomeSchema, ReasonSchema, RolloutStatusSchema } from '../../../domain/contract.ts';
import { decimalCount, decimalId, ModelIdSchema } from '../../../domain/ids.ts';
import { REGISTRATION_STATES } from '../../../domain/registration.ts';
import { errorResponses, IsoDate, jsonContent, PbxIdParams, security } from '../../openapi.ts';

const tags = ['Phone types'];

const PhoneSchema = z
  .object({
    id: z.number().int(),
    mac: z.string().openapi({ example: '805ec0aabbcc' }),
    extension: z.string(),
    displayName: z.string().nullable(),
    modelId: z.string(),
    model: z.string(),
    active: z.boolean(),
    installedVersion: z.string().nullable().openapi({ description: 'As the phone last reported it' }),
    userAgent: z.string().nullable(),
    lastContactAt: IsoDate.nullable(),
    lastProvisionedAt: IsoDate.nullable(),
    lastBootAt: IsoDate.nullable(),
    registration: z.object({
      state: z.enum(REGISTRATION_STATES),
      until: IsoDate.nullable(),
    }),
    firmwareOffer: z
      .object({ version: z.string(), expiresAt: IsoDate.nullable() })
      .nullable()
      .openapi({ description: 'The firmware a running rollout block offers the phone right now' }),
    lastRollout: z
      .object({
        rolloutId: z.string(),
        targetVersion: z.string(),
        status: RolloutStatusSchema,
        outcome: PhoneOutcomeSchema.nullable(),
        lastOutcome: PhoneOutcomeSchema.nullable().openapi({
          description: 'Issue 13: what its last attempt found (a parked phone is shown by it)',
        }),
        fromVersion: z.string().nullable(),
        reportedVersion: z.string().nullable(),
        reason: ReasonSchema.nullable(),
        at: IsoDate,
      })
      .nullable()
      .openapi({ description: 'What the most recent rollout that covered the phone did with it' }),
  })
  .openapi('Phone');

export const phones = createRoute({
  method: 'get',
  path: '/api/pbxes/{pbxId}/phones',
  operationId: 'listPhones',
  tags,
  security,
  summary:
    'The phones of the PBX (one type with modelId): version, last contact, registration, the latest rollout result; paged by id',
  request: {
    params: PbxIdParams,
    query: z.object({
      modelId: ModelIdSchema.optional(),
      afterId: decimalId('afterId').optional(),
      limit: decimalCount('limit', 1, 1000, 200),
    }),
  },
  responses: {
    200: jsonContent(
      z.object({ phones: z.array(PhoneSchema), nextAfterId: z.number().int().nullable() }),
      'A page of phones',
    ),
    ...errorResponses(400, 401, 404),
  },
});

const SupportedModelSchema = z
  .object({
    modelId: z.string(),
    vendor: z.string(),
    model: z.string(),
    source: z.enum(['firmware-server', 'image']).openapi({
      description: 'R1: firmware from the central firmware server; R2: firmware ships with the PBX image',
    }),
    inCatalog: z.boolean().openapi({ description: 'Listed in the firmware server catalog (R1)' }),
    newestOffered: z
      .string()
      .nullable()
      .openapi({ description: 'Newest release the firmware server offers' }),
    imageVersion: z.string().nullable().openapi({ description: 'R2: the image copy on this PBX' }),
    accounts: z.number().int().openapi({ description: 'Phone accounts of the model on this PBX' }),
  })
  .openapi('SupportedModel');

export const supportedModels = createRoute({
  method: 'get',
  path: '/api/pbxes/{pbxId}/supported-models',
  operationId: 'listSupportedModels',
  tags,
  security,
  summary: 'R1/R2: the models the firmware server offers and the ones that come with the PBX image',
  request: { params: PbxIdParams },
  responses: {
    200: jsonContent(
      z.object({
        firmwareServer: z.object({
          lastSyncAt: IsoDate.nullable(),
          lastError: z.string().nullable(),
          lastErrorAt: IsoDate.nullable(),
        }),
        models: z.array(SupportedModelSchema),
      }),
      'Supported models',
    ),
    ...errorResponses(400, 401, 404),
  },
});
