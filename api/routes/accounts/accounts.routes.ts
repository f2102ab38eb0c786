import { createRoute, z } from '@hono/zod-openapi';
import {
  decimalCount,
  decimalId,
  ExtensionSchema,
  freeText,
  MacSchema,
  ModelIdSchema,
} from '../../../domain/ids.ts';
import {
  errorResponses,
  IsoDate,
  jsonBody,
  jsonContent,
  links,
  PbxIdParams,
  security,
} from '../../openapi.ts';

const tags = ['Phone accounts'];

/** The most accounts one bulk request may create. */
export const BULK_LIMIT = 1000;

/** "Vendor Model" as /api/phone-models lists it, or a model id; the document lists the known ones (api/openapi.ts). */
export const ModelNameSchema = freeText(100, 'yealink-t54w').meta({
  id: 'PhoneModelName',
  description:
    'A model id (yealink-t54w) or vendor and model as /api/phone-models lists them ("Yealink T54W")',
});

export const NewAccountSchema = z
  .object({
    mac: MacSchema,
    model: ModelNameSchema,
    extension: ExtensionSchema,
    displayName: freeText(100, 'Reception').optional(),
    sipPassword: z
      .string()
      .regex(/^[\x21-\x7e]{8,64}$/, 'a SIP password is 8–64 printable ASCII characters without spaces')
      // Yealink files read %NULL% as "empty" (phones/provisioning/vendors/yealink.ts).
      .refine((p) => p.toUpperCase() !== '%NULL%', 'a SIP password cannot be %NULL%')
      .optional()
      .openapi({
        description:
          "The account's SIP password; generated when absent. Returned once, in the creation response, never again",
      }),
    active: z
      .boolean()
      .optional()
      .openapi({ description: 'Default true; inactive accounts still count for R4' }),
  })
  .strict()
  .openapi('NewPhoneAccount');

export const AccountSchema = z
  .object({
    id: z.number().int(),
    pbxId: z.string(),
    mac: z.string().openapi({ example: '805ec0aabbcc' }),
    modelId: z.string(),
    vendor: z.string(),
    model: z.string(),
    extension: z.string(),
    displayName: z.string().nullable(),
    active: z.boolean(),
    installedVersion: z.string().nullable(),
    lastContactAt: IsoDate.nullable(),
    createdAt: IsoDate,
  })
  .openapi('PhoneAccount');

const TriggerSchema = z
  .object({
    modelId: z.string(),
    triggerWorkflowId: z.string().optional(),
    error: z.string().optional(),
  })
  .openapi('FirstAccountTrigger', { description: 'R13 (c): the run for a type that had no account yet' });

const CreatedSchema = z.object({
  account: AccountSchema,
  sipPassword: z.string().openapi({
    description:
      'Shown once; stored encrypted (SECRETS_KEY) for the provisioning files, never returned again',
  }),
});

const AccountParams = PbxIdParams.extend({
  accountId: decimalId('accountId'),
});

export const list = createRoute({
  method: 'get',
  path: '/api/pbxes/{pbxId}/accounts',
  operationId: 'listAccounts',
  tags,
  security,
  summary: 'Phone accounts of the PBX, by id, paged',
  request: {
    params: PbxIdParams,
    query: z.object({
      limit: decimalCount('limit', 1, BULK_LIMIT, 100),
      afterId: decimalId('afterId').optional(),
      modelId: ModelIdSchema.optional(),
    }),
  },
  responses: {
    200: jsonContent(
      z.object({ accounts: z.array(AccountSchema), nextAfterId: z.number().int().nullable() }),
      'A page of accounts',
    ),
    ...errorResponses(400, 401, 404),
  },
});

export const create = createRoute({
  method: 'post',
  path: '/api/pbxes/{pbxId}/accounts',
  operationId: 'createAccount',
  tags,
  security,
  summary: 'Create a phone account; the first of a type fires R13 (c)',
  request: { params: PbxIdParams, body: jsonBody(NewAccountSchema) },
  responses: {
    201: {
      ...jsonContent(CreatedSchema.extend({ triggers: z.array(TriggerSchema) }), 'Created'),
      links: links(['getAccount', 'deleteAccount'], {
        pbxId: '$request.path.pbxId',
        accountId: '$response.body#/account/id',
      }),
    },
    ...errorResponses(400, 401, 404, 409, 413, 415),
  },
});

export const bulkCreate = createRoute({
  method: 'post',
  path: '/api/pbxes/{pbxId}/accounts/bulk',
  operationId: 'createAccounts',
  tags,
  security,
  summary: `Create up to ${BULK_LIMIT} phone accounts at once, all or none`,
  request: {
    params: PbxIdParams,
    body: jsonBody(z.object({ accounts: z.array(NewAccountSchema).min(1).max(BULK_LIMIT) }).strict()),
  },
  responses: {
    201: jsonContent(
      z.object({ accounts: z.array(CreatedSchema), triggers: z.array(TriggerSchema) }),
      'Created',
    ),
    ...errorResponses(400, 401, 404, 409, 413, 415),
  },
});

export const get = createRoute({
  method: 'get',
  path: '/api/pbxes/{pbxId}/accounts/{accountId}',
  operationId: 'getAccount',
  tags,
  security,
  summary: 'One phone account',
  request: { params: AccountParams },
  responses: { 200: jsonContent(AccountSchema, 'The account'), ...errorResponses(400, 401, 404) },
});

export const remove = createRoute({
  method: 'delete',
  path: '/api/pbxes/{pbxId}/accounts/{accountId}',
  operationId: 'deleteAccount',
  tags,
  security,
  summary:
    "Delete a phone account; the last of a type marks that type's firmware for deletion at the next restart (R5)",
  request: { params: AccountParams },
  responses: {
    200: jsonContent(z.object({ deleted: AccountSchema, lastOfType: z.boolean() }), 'Deleted'),
    ...errorResponses(400, 401, 404),
  },
});
