import { createRoute, z } from '@hono/zod-openapi';
import { TypeHoldSchema } from '../../../domain/contract.ts';
import { ModelIdSchema } from '../../../domain/ids.ts';
import { errorResponses, jsonBody, jsonContent, PbxIdParams, security } from '../../openapi.ts';

const tags = ['Phone types'];

const PhoneModelSchema = z
  .object({
    id: z.string().openapi({ example: 'yealink-t54w' }),
    vendor: z.string().openapi({ example: 'Yealink' }),
    model: z.string().openapi({ example: 'T54W' }),
    imageManaged: z.boolean().openapi({ description: 'R2: firmware ships with the PBX image' }),
    inCatalog: z.boolean(),
  })
  .openapi('PhoneModel');

export const OverviewRowSchema = z
  .object({
    modelId: z.string(),
    vendor: z.string(),
    model: z.string(),
    imageManaged: z.boolean(),
    accounts: z.number().int(),
    inUse: z
      .array(z.object({ version: z.string().nullable(), phones: z.number().int() }))
      .openapi({ description: 'Versions on the phones with phone counts; null = not reported yet' }),
    newestLocal: z
      .string()
      .nullable()
      .openapi({ description: 'Empty when nothing newer than in use was downloaded' }),
    newestAvailable: z
      .string()
      .nullable()
      .openapi({ description: 'Empty when the firmware server has nothing newer' }),
    imageFirmware: z
      .string()
      .nullable()
      .openapi({ description: 'R2: the image copy of an image-managed type' }),
    autoUpdate: z.boolean().openapi({ description: 'R7' }),
    hold: TypeHoldSchema.nullable().meta({
      description: 'Issue 13: held at a version (no update beyond it)',
    }),
    storedVersions: z
      .array(z.string())
      .openapi({ description: 'Issue 13: the versions stored on the PBX for the type, newest first' }),
  })
  .openapi('OverviewRow');

const TypeParams = PbxIdParams.extend({ modelId: ModelIdSchema });

export const models = createRoute({
  method: 'get',
  path: '/api/phone-models',
  operationId: 'listPhoneModels',
  tags,
  security,
  summary: 'Phone models known to the deployment (catalog and image-managed)',
  responses: {
    200: jsonContent(z.object({ models: z.array(PhoneModelSchema) }), 'Models'),
    ...errorResponses(401),
  },
});

export const OverviewSchema = z.object({ pbxId: z.string(), types: z.array(OverviewRowSchema) });
export type Overview = z.infer<typeof OverviewSchema>;

export const overview = createRoute({
  method: 'get',
  path: '/api/pbxes/{pbxId}/overview',
  operationId: 'getOverview',
  tags,
  security,
  summary: 'R6: the firmware overview, one row per type with at least one account',
  request: { params: PbxIdParams },
  responses: {
    200: jsonContent(OverviewSchema, 'The overview'),
    ...errorResponses(400, 401, 404),
  },
});

export const setAutoUpdate = createRoute({
  method: 'put',
  path: '/api/pbxes/{pbxId}/types/{modelId}/auto-update',
  operationId: 'setAutoUpdate',
  tags,
  security,
  summary: 'R7: per-type Auto-Update; off means no phone of the type is updated, not even by Update now',
  request: {
    params: TypeParams,
    body: jsonBody(z.object({ enabled: z.boolean() }).strict().openapi('AutoUpdate')),
  },
  responses: {
    200: jsonContent(z.object({ modelId: z.string(), autoUpdate: z.boolean() }), 'Stored'),
    ...errorResponses(400, 401, 404, 413, 415),
  },
});
