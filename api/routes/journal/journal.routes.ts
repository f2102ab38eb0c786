import { createRoute, z } from '@hono/zod-openapi';
import {
  errorResponses,
  IsoDate,
  idText,
  jsonContent,
  ModelIdSchema,
  PbxIdParams,
  security,
} from '../../openapi.ts';

const date = z.coerce
  .date({ error: 'a date (ISO 8601, e.g. 2025-03-01T00:00:00Z)' })
  .openapi({ type: 'string', format: 'date-time' });

export const JournalEntrySchema = z
  .object({
    id: z.number().int(),
    at: IsoDate,
    action: z.string().openapi({ example: 'settings.auto-update' }),
    why: z.enum(['schedule', 'manual', 'trigger', 'system']),
    who: z.string(),
    modelId: z.string().nullable(),
    details: z.record(z.string(), z.unknown()),
  })
  .openapi('JournalEntry');

export const list = createRoute({
  method: 'get',
  path: '/api/pbxes/{pbxId}/journal',
  tags: ['Journal'],
  security,
  summary: 'R14: the journal of every state change, newest first, paged by id',
  request: {
    params: PbxIdParams,
    query: z.object({
      limit: z.coerce.number().int().min(1).max(500).default(50),
      beforeId: idText('beforeId').optional(),
      action: z.string().min(1).max(100).optional(),
      why: z.enum(['schedule', 'manual', 'trigger', 'system']).optional(),
      modelId: ModelIdSchema.optional(),
      from: date.optional(),
      to: date.optional(),
    }),
  },
  responses: {
    200: jsonContent(
      z.object({ entries: z.array(JournalEntrySchema), nextBeforeId: z.number().int().nullable() }),
      'A page of journal entries',
    ),
    ...errorResponses(400, 401, 404),
  },
});
