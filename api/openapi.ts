/** Shared OpenAPI pieces: the error shape, path parameters, response helpers, the bearer security scheme. */
import { z } from '@hono/zod-openapi';
import { PBX_ID_PATTERN } from '../domain/pbx-id.ts';
import { WEEKDAYS } from '../domain/timing.ts';

export const ErrorSchema = z
  .object({
    error: z.string().openapi({ example: 'timeZone: not an IANA time zone' }),
    field: z.string().optional().openapi({ example: 'timeZone' }),
  })
  .openapi('Error');

const ERROR_TEXT: Record<number, string> = {
  400: 'Invalid input; `field` names what was wrong; nothing was changed',
  401: 'No, unknown or revoked admin token',
  403: 'The token is scoped to one PBX; this needs a deployment-wide token',
  404: 'Unknown id, or an id of another tenant',
  409: 'Conflicts with the current state; nothing was changed',
  413: 'Request body too large',
  415: 'Body is not application/json',
  503: 'Temporal is not reachable',
  504: 'The PBX workflow did not answer in time',
};

export function errorResponses<C extends number>(...codes: C[]) {
  return Object.fromEntries(
    codes.map((code) => [
      code,
      { description: ERROR_TEXT[code] ?? 'Error', content: { 'application/json': { schema: ErrorSchema } } },
    ]),
  ) as Record<C, { description: string; content: { 'application/json': { schema: typeof ErrorSchema } } }>;
}

export function jsonContent<T extends z.ZodType>(schema: T, description: string) {
  return { description, content: { 'application/json': { schema } } };
}

export function jsonBody<T extends z.ZodType>(schema: T, required = true) {
  return { required, content: { 'application/json': { schema } } };
}

export const security = [{ bearer: [] }];

/**
 * Names a schema defined outside the API (the workflow contract in workflows/messages.ts) as an OpenAPI component.
 * Schemas created before @hono/zod-openapi extended zod lack their own `.openapi`, so the extension's method is
 * applied from the prototype: it returns a named copy either way.
 */
export function named<S extends z.ZodType>(schema: S, name: string, metadata?: { description?: string }): S {
  const openapi = (z.ZodType.prototype as unknown as { openapi: (...a: unknown[]) => S }).openapi;
  return openapi.call(schema, name, ...(metadata ? [metadata] : []));
}

export const PbxIdParams = z.object({
  pbxId: z
    .string()
    .regex(PBX_ID_PATTERN, 'a PBX id is lower-case letters, digits and dashes')
    .openapi({ param: { name: 'pbxId', in: 'path' }, example: 'acme' }),
});

export const ModelIdSchema = z
  .string()
  .min(1)
  .max(100)
  .regex(/^[a-z0-9][a-z0-9-]*$/, 'a model id looks like yealink-t54w')
  .openapi({ example: 'yealink-t54w' });

export const WeekdaySchema = z.enum(WEEKDAYS).openapi({ example: 'sunday' });

export const WeeklyMomentSchema = z
  .object({
    day: WeekdaySchema,
    time: z
      .string()
      .regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'a time of day is HH:MM, 00:00 to 23:59')
      .openapi({ example: '03:00' }),
  })
  .strict()
  .openapi('WeeklyMoment');

export const IsoDate = z.string().openapi({ format: 'date-time' });

/** Positive integers that arrive as path or query text. */
export const idText = (name: string) =>
  z.coerce
    .number({ error: `${name} must be a number` })
    .int()
    .positive()
    .max(Number.MAX_SAFE_INTEGER);
