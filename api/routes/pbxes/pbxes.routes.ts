import { createRoute, z } from '@hono/zod-openapi';
import { PBX_ID_PATTERN } from '../../../domain/pbx-id.ts';
import { isValidTimeZone } from '../../../domain/timing.ts';
import {
  errorResponses,
  IsoDate,
  jsonBody,
  jsonContent,
  PbxIdParams,
  security,
  WeeklyMomentSchema,
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
    weeklyCheck: WeeklyMomentSchema.openapi({ description: 'R9: random, fixed at registration, read-only' }),
    autoDownloadInstall: z.boolean().openapi({ description: 'R8: automatic download and installation' }),
    updateMoment: WeeklyMomentSchema.nullable().openapi({
      description: 'R11: weekly update moment; null = none',
    }),
    createdAt: IsoDate,
    lastRestartAt: IsoDate.nullable(),
    temporalUrl: z.string().openapi({ description: 'The PBX lifecycle workflow in the Temporal UI' }),
  })
  .openapi('Pbx');

const timeZone = z
  .string()
  .min(1)
  .max(64)
  .refine(isIanaTimeZone, 'not an IANA time zone (e.g. Europe/Berlin)')
  .openapi({ example: 'Europe/Berlin' });

export const RegisterPbxSchema = z
  .object({
    id: z
      .string()
      .regex(PBX_ID_PATTERN, 'lower-case letters, digits and dashes, at most 63')
      .optional()
      .openapi({ description: 'Default: derived from the name', example: 'acme' }),
    name: z.string().trim().min(1).max(200).openapi({ example: 'ACME Head Office' }),
    timeZone,
    softwareVersion: z
      .string()
      .regex(/^[0-9A-Za-z][0-9A-Za-z._-]{0,63}$/, 'a version like 8.1.0.12')
      .optional(),
    sipDomain: z
      .string()
      .max(253)
      .regex(
        /^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$/,
        'a DNS name',
      )
      .optional()
      .openapi({ description: 'Default: <id>.pbx.local' }),
    phonesTaskQueue: z
      .string()
      .regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,199}$/, 'a task queue name (letters, digits, . _ -)')
      .optional()
      .openapi({
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
    updateMoment: WeeklyMomentSchema.nullable()
      .optional()
      .openapi({ description: 'R11; null = no automatic update' }),
  })
  .strict()
  .refine((b) => b.autoDownloadInstall !== undefined || b.updateMoment !== undefined, {
    message: 'name at least one setting: autoDownloadInstall, updateMoment',
  })
  .openapi('SettingsChange');

export const list = createRoute({
  method: 'get',
  path: '/api/pbxes',
  tags,
  security,
  summary: 'The PBXes this token may see (a PBX-scoped token: its own), a page at a time in id order',
  request: {
    query: z.object({
      limit: z.coerce.number().int().min(1).max(1000).default(100),
      after: z
        .string()
        .regex(PBX_ID_PATTERN, 'a PBX id')
        .optional()
        .openapi({ description: 'The last id of the previous page (its nextAfter)' }),
      q: z
        .string()
        .trim()
        .min(1)
        .max(100)
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
  tags,
  security,
  summary: 'Register a PBX: draws its weekly check moment (R9) and starts its lifecycle workflow',
  request: { body: jsonBody(RegisterPbxSchema) },
  responses: {
    201: jsonContent(RegisteredPbxSchema, 'Registered; the provisioning password is shown only now'),
    ...errorResponses(400, 401, 403, 409, 413, 415),
  },
});

export const get = createRoute({
  method: 'get',
  path: '/api/pbxes/{pbxId}',
  tags,
  security,
  summary: 'One PBX with its settings',
  request: { params: PbxIdParams },
  responses: { 200: jsonContent(PbxSchema, 'The PBX'), ...errorResponses(400, 401, 404) },
});

export const changeSettings = createRoute({
  method: 'patch',
  path: '/api/pbxes/{pbxId}/settings',
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

function isIanaTimeZone(tz: string): boolean {
  // Intl also accepts offsets like "+01:00"; a PBX lives in a named zone so DST is handled (R10).
  return /^[A-Za-z][A-Za-z0-9_+-]*(\/[A-Za-z0-9_+-]+){0,2}$/.test(tz) && isValidTimeZone(tz);
}
