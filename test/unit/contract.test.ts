/**
 * One source of truth per contract: the shapes the API validates and documents (domain/contract.ts, zod) are the
 * workflow's message types in workflows/messages.ts (derived from them) — checked by the type checker here (tsc
 * runs over tests), and at run time by parsing what the workflow types allow.
 */
import { describe, expect, expectTypeOf, it } from 'vitest';
import {
  type CheckNowResult,
  CheckNowResultSchema,
  type DownloadNowResult,
  type ManualRequest,
  type PbxEvent,
  PbxEventMessageSchema,
  type PbxEventResult,
  type TypeDecision,
  TypeDecisionSchema,
  type UpdateNowResult,
} from '../../domain/contract.ts';
import { reason } from '../../domain/reasons.ts';
import type * as messages from '../../workflows/messages.ts';

describe('API ↔ workflow contract', () => {
  it('the zod shapes and the workflow message types are the same types', () => {
    expectTypeOf<CheckNowResult>().toEqualTypeOf<messages.CheckNowResult>();
    expectTypeOf<DownloadNowResult>().toEqualTypeOf<messages.DownloadNowResult>();
    expectTypeOf<UpdateNowResult>().toEqualTypeOf<messages.UpdateNowResult>();
    expectTypeOf<TypeDecision>().toEqualTypeOf<messages.TypeDecision>();
    expectTypeOf<PbxEvent>().toEqualTypeOf<messages.PbxEvent>();
    expectTypeOf<PbxEventResult>().toEqualTypeOf<messages.PbxEventResult>();
    expectTypeOf<ManualRequest>().toEqualTypeOf<messages.ManualRequest>();
  });

  it('what the workflow answers parses with the schema the API documents', () => {
    const result: messages.CheckNowResult = {
      checkedAt: '2025-01-06T10:00:00.000Z',
      catalogOk: false,
      catalogError: 'firmware server answered 503',
      types: [
        {
          modelId: 'yealink-t54w',
          model: 'T54W',
          newestLocal: null,
          newestAvailable: null,
          needsDownload: false,
        },
      ],
    };
    expect(CheckNowResultSchema.parse(result)).toEqual(result);
    const refused: messages.TypeDecision = {
      modelId: 'snom-d785',
      model: 'D785',
      status: 'refused',
      reason: reason('auto-update-off', { model: 'D785' }),
    };
    expect(TypeDecisionSchema.parse(refused)).toEqual(refused);
    const event: messages.PbxEvent = { kind: 'first-account-of-type', modelId: 'snom-d785', who: 'alice' };
    expect(PbxEventMessageSchema.parse(event)).toEqual(event);
  });
});

describe('the API document can be built whichever module loads first', () => {
  it('schemas made before @hono/zod-openapi extended zod still name and describe themselves', async () => {
    // domain/contract.ts is already loaded (no HTTP library): the API routes must not need its schemas'
    // `.openapi` method, which only schemas created after the extension have.
    const { createApp } = await import('../../api/app.ts');
    expect(typeof createApp).toBe('function');
  });
});
