import { createRoute, z } from '@hono/zod-openapi';
import { WeeklyMomentSchema } from '../../../domain/contract.ts';
import {
  decimalCount,
  freeText,
  PbxIdSchema,
  SipDomainSchema,
  TaskQueueSchema,
  TimeZoneSchema,
  VersionSchema,
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

const tags = ['PBXes'];

export const PbxSchema = z
  .object({
    id: z.string().openapi({ example: 'acme' }),
    name: z.string().openapi({ example: 'ACME Head Office' }),
    timeZone: z.string().openapi({ example: 'Europe/Berlin' }),
    softwareVersion: z.string().nullable(),
    sipDomain: z.string(),
    phonesTaskQueue: z
      .string()
      .nullable()
      .openapi({ description: 'Phone edge of this PBX (null = the default TASK_QUEUE_PHONES)' }),
    provisioningUser: z.string(),
    /** R9: drawn once at registration, read-only. */
    weeklyCheck: WeeklyMomentSchema.meta({ description: 'R9: random, fixed at registration, read-only' }),
    autoDownloadInstall: z.boolean().openapi({ description: 'R8: automatic download and installation' }),
    updateMoment: z.union([WeeklyMomentSchema, z.null()]).openapi({
      description: 'R11: weekly update moment; null = none',
    }),
    createdAt: IsoDate,
    lastRestartAt: IsoDate.nullable(),
    temporalUrl: z.string().openapi({ description: 'The PBX lifecycle workflow in the Temporal UI' }),
  })
  .openapi('Pbx');

export const RegisterPbxSchema = z
  .object({
    id: PbxIdSchema.optional().openapi({ description: 'Default: derived from the name', example: 'acme' }),
    name: freeText(200, 'ACME Head Office'),
    timeZone: TimeZoneSchema,
    softwareVersion: VersionSchema.optional(),
    sipDomain: SipDomainSchema.optional().openapi({ description: 'Default: <id>.pbx.local' }),
    phonesTaskQueue: TaskQueueSchema.optional().openapi({
      description:
        "Task queue of the phone edge at this PBX's site (a worker with WORKER_ROLES=phones); default TASK_QUEUE_PHONES",
      example: 'firmware-phones-berlin',
    }),
  })
  .strict()
  .openapi('RegisterPbx');

export const RegisteredPbxSchema = z
  .object({
    pbx: PbxSchema,
    provisioning: z
      .object({ user: z.string(), password: z.string() })
      .openapi({ description: 'Shown once: phones use these credentials for provisioning (HTTP basic)' }),
  })
  .openapi('RegisteredPbx');

export const SettingsChangeSchema = z
  .object({
    autoDownloadInstall: z.boolean().optional().openapi({ description: 'R8' }),
    updateMoment: z
      .union([WeeklyMomentSchema, z.null()])
      .optional()
      .openapi({ description: 'R11; null = no automatic update' }),
  })
  .strict()
  .refine((b) => b.autoDownloadInstall !== undefined || b.updateMoment !== undefined, {
    message: 'name at least one setting: autoDownloadInstall, updateMoment',
  })
  .openapi('SettingsChange', { minProperties: 1 });

export const list = createRoute({
  method: 'get',
  path: '/api/pbxes',
  operationId: 'listPbxes',
  tags,
  security,
  summary: 'The PBXes this token may see (a PBX-scoped token: its own), a page at a time in id order',
  request: {
    query: z.object({
      limit: decimalCount('limit', 1, 1000, 100),
      after: PbxIdSchema.optional().openapi({
        description: 'The last id of the previous page (its nextAfter)',
      }),
      q: freeText(100, 'acme')
        .optional()
        .openapi({ description: 'Only PBXes whose id or name contains this text (any case)' }),
    }),
  },
  responses: {
    200: jsonContent(
      z.object({
        pbxes: z.array(PbxSchema),
        nextAfter: z
          .string()
          .nullable()
          .openapi({ description: 'Pass as `after` for the next page; null on the last page' }),
      }),
      'PBXes',
    ),
    ...errorResponses(400, 401),
  },
});

export const register = createRoute({
  method: 'post',
  path: '/api/pbxes',
  operationId: 'registerPbx',
  tags,
  security,
  summary: 'Register a PBX: draws its weekly check moment (R9) and starts its lifecycle workflow',
  request: { body: jsonBody(RegisterPbxSchema) },
  responses: {
    201: {
      ...jsonContent(RegisteredPbxSchema, 'Registered; the provisioning password is shown only now'),
      links: links(
        [
          'getPbx',
          'changeSettings',
          'getStatus',
          'listAccounts',
          'createAccount',
          'createAccounts',
          'getOverview',
          'setAutoUpdate',
          'checkNow',
          'downloadNow',
          'updateNow',
          'reportPbxEvent',
          'getRolloutProgress',
          'listRollouts',
          'listJournal',
          'previewRollouts',
          'getRolloutSettings',
          'changeRolloutSettings',
          'listParkedPhones',
        ],
        { pbxId: '$response.body#/pbx/id' },
      ),
    },
    ...errorResponses(400, 401, 403, 409, 413, 415),
  },
});

export const get = createRoute({
  method: 'get',
  path: '/api/pbxes/{pbxId}',
  operationId: 'getPbx',
  tags,
  security,
  summary: 'One PBX with its settings',
  request: { params: PbxIdParams },
  responses: { 200: jsonContent(PbxSchema, 'The PBX'), ...errorResponses(400, 401, 404) },
});

export const changeSettings = createRoute({
  method: 'patch',
  path: '/api/pbxes/{pbxId}/settings',
  operationId: 'changeSettings',
  tags,
  security,
  summary: 'Change the global switch (R8) and/or the weekly update moment (R11)',
  request: { params: PbxIdParams, body: jsonBody(SettingsChangeSchema) },
  responses: {
    200: jsonContent(PbxSchema, 'The PBX with its new settings'),
    ...errorResponses(400, 401, 404, 413, 415),
  },
});

export const status = createRoute({
  method: 'get',
  path: '/api/pbxes/{pbxId}/status',
  operationId: 'getStatus',
  tags,
  security,
  summary: 'Status of the PBX lifecycle workflow, as it last recorded it (it records every change)',
  request: { params: PbxIdParams },
  responses: {
    200: jsonContent(
      z.object({
        status: z.record(z.string(), z.unknown()).nullable(),
        recordedAt: IsoDate.nullable().openapi({ description: 'When the workflow recorded it' }),
      }),
      'The workflow status, or null when the workflow has not recorded one yet',
    ),
    ...errorResponses(400, 401, 404),
  },
});
