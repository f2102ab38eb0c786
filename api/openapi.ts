/** Shared OpenAPI pieces: the error shape, path parameters, response helpers, the bearer security scheme. */
import { type OpenAPIHono, z } from '@hono/zod-openapi';
import type { Db } from '../db/client.ts';
import { listPhoneModels } from '../db/queries/phone-models.ts';
import { PbxIdSchema } from '../domain/ids.ts';
import { vendorLabel } from '../domain/overview.ts';

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
  202: 'Still running; the answer so far',
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
 * OpenAPI links: which operations can follow a response, with the ids taken from it. They document the API's
 * workflow (register a PBX → its accounts → its buttons) and drive schemathesis' stateful phase through it.
 */
export function links(operationIds: string[], parameters: Record<string, string>) {
  return Object.fromEntries(operationIds.map((operationId) => [operationId, { operationId, parameters }]));
}

export const PbxIdParams = z.object({ pbxId: PbxIdSchema });

export const IsoDate = z.string().openapi({ format: 'date-time' });

const INFO = {
  title: 'Phone firmware distribution — admin API',
  version: '1',
  description:
    'Per PBX: overview (R6), switches (R7, R8), update moment (R11), Check/Download/Update now, PBX events ' +
    '(R13, R5), rollouts (R12), journal (R14). A PBX-scoped token gets 404 for every other PBX (R16). ' +
    'Free text (names) is at most the given length and never carries control characters or line breaks.',
};

/**
 * The OpenAPI document, derived from the routes' zod schemas, with what only the deployment knows filled in: the
 * model ids the catalog knows (R1), as ids and as "Vendor Model".
 */
// biome-ignore lint/suspicious/noExplicitAny: any router built by createRouter
export async function openApiDocument(app: OpenAPIHono<any>, db: Db) {
  const doc = app.getOpenAPI31Document({ openapi: '3.1.0', info: INFO });
  const models = await listPhoneModels(db);
  const schemas = doc.components?.schemas as Record<string, Record<string, unknown>> | undefined;
  if (models.length > 0 && schemas) {
    const ids = models.map((m) => m.id).sort();
    if (schemas.ModelId) schemas.ModelId.enum = ids;
    if (schemas.PhoneModelName) {
      schemas.PhoneModelName.enum = [
        ...ids,
        ...models.map((m) => `${vendorLabel(m.vendor)} ${m.model}`).sort(),
      ];
    }
  }
  return doc;
}
