import { createRoute, z } from '@hono/zod-openapi';
import { ReasonSchema } from '../../../domain/contract.ts';
import {
  DateTimeText,
  decimalCount,
  decimalId,
  JournalActionSchema,
  ModelIdSchema,
} from '../../../domain/ids.ts';
import { errorResponses, IsoDate, jsonContent, PbxIdParams, security } from '../../openapi.ts';

export const JournalEntrySchema = z
  .object({
    id: z.number().int(),
    at: IsoDate,
    action: z.string().openapi({ example: 'settings.auto-update' }),
    why: z.enum(['schedule', 'manual', 'trigger', 'system']),
    who: z.string(),
    modelId: z.string().nullable(),
    details: z.record(z.string(), z.unknown()),
    reason: ReasonSchema.nullable().openapi({
      description: "The reason the entry's details give, as a code with parameters (for the page's language)",
    }),
  })
  .openapi('JournalEntry');

export const list = createRoute({
  method: 'get',
  path: '/api/pbxes/{pbxId}/journal',
  operationId: 'listJournal',
  tags: ['Journal'],
  security,
  summary: 'R14: the journal of every state change, newest first, paged by id',
  request: {
    params: PbxIdParams,
    query: z.object({
      limit: decimalCount('limit', 1, 500, 50),
      beforeId: decimalId('beforeId').optional(),
      action: JournalActionSchema.optional(),
      actionPrefix: z
        .string()
        .regex(/^[a-z][a-z0-9-]{0,49}$/, 'the first part of an action, e.g. rollout')
        .optional()
        .openapi({ description: 'Every action of a kind: rollout → rollout.started, rollout.completed, …' }),
      why: z.enum(['schedule', 'manual', 'trigger', 'system']).optional(),
      modelId: ModelIdSchema.optional(),
      from: DateTimeText.optional(),
      to: DateTimeText.optional(),
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
