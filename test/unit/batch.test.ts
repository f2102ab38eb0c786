import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Batcher } from '../../lib/batch.ts';

/** A statement that takes a while, like a round trip to Postgres; records every batch it was given. */
function recorder<I>(results: (items: I[]) => unknown[] = (items) => items.map((i) => ({ echo: i }))) {
  const batches: I[][] = [];
  return {
    batches,
    run: async (items: I[]) => {
      batches.push([...items]);
      await new Promise((r) => setTimeout(r, 2));
      return results(items);
    },
  };
}

describe('group commit (lib/batch.ts)', () => {
  it('calls made while a statement is on its way go out together as one statement', async () => {
    const r = recorder<number>();
    const b = new Batcher({ run: r.run });
    const first = b.add(0);
    await new Promise((res) => setImmediate(res)); // the lone first call goes out at once
    const rest = Array.from({ length: 20 }, (_, i) => b.add(i + 1));
    expect(await Promise.all([first, ...rest])).toEqual(Array.from({ length: 21 }, (_, i) => ({ echo: i })));
    expect(r.batches).toEqual([[0], Array.from({ length: 20 }, (_, i) => i + 1)]);
    expect(b.stats).toEqual({ statements: 2, items: 21 });
  });

  it('a lone call is not held back: it is sent in the same turn of the event loop it was made in', async () => {
    const r = recorder<string>();
    const b = new Batcher({ run: r.run });
    const p = b.add('alone');
    await new Promise((res) => setImmediate(res));
    expect(r.batches).toEqual([['alone']]);
    await p;
  });

  it('writes of one key never share a statement and keep their order; other keys are not held up', async () => {
    const r = recorder<{ k: string; v: number }>();
    const b = new Batcher({ run: r.run, key: (i) => i.k });
    const all = [
      b.add({ k: 'a', v: 1 }),
      b.add({ k: 'b', v: 1 }),
      b.add({ k: 'a', v: 2 }),
      b.add({ k: 'c', v: 1 }),
      b.add({ k: 'a', v: 3 }),
    ];
    await Promise.all(all);
    expect(r.batches.map((batch) => batch.map((i) => `${i.k}${i.v}`))).toEqual([
      ['a1', 'b1', 'c1'],
      ['a2'],
      ['a3'],
    ]);
  });

  it('a failing statement is retried item by item: only the bad item fails, its neighbours are written', async () => {
    const r = recorder<string>((items) => {
      if (items.includes('bad')) throw new Error('invalid byte sequence');
      return items.map((i) => i.toUpperCase());
    });
    const b = new Batcher({ run: r.run });
    const results = await Promise.allSettled(['x', 'bad', 'y'].map((i) => b.add(i)));
    expect(results).toEqual([
      { status: 'fulfilled', value: 'X' },
      { status: 'rejected', reason: new Error('invalid byte sequence') },
      { status: 'fulfilled', value: 'Y' },
    ]);
  });

  it('a statement answering the wrong number of rows fails its callers instead of mismatching results', async () => {
    const b = new Batcher<number, number>({ run: async () => [1] });
    const results = await Promise.allSettled([b.add(1), b.add(2)]);
    // Retried one by one, each single call gets its one row.
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'fulfilled']);
    const broken = new Batcher<number, number>({ run: async () => [] });
    await expect(broken.add(1)).rejects.toThrow(/0 results for 1 items/);
  });

  it('whatever the interleaving: every caller gets its own result, keys never repeat in a statement, per-key order holds', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.record({ key: fc.integer({ min: 0, max: 4 }), pauseAfter: fc.boolean() }), {
          minLength: 1,
          maxLength: 40,
        }),
        fc.integer({ min: 1, max: 3 }),
        fc.integer({ min: 1, max: 5 }),
        async (calls, maxInFlight, maxBatch) => {
          const r = recorder<{ key: number; seq: number }>((items) => items.map((i) => i.seq));
          const run = r.run as (items: Array<{ key: number; seq: number }>) => Promise<number[]>;
          const b = new Batcher({ run, key: (i) => i.key, maxInFlight, maxBatch });
          const pending: Array<Promise<number>> = [];
          for (const [seq, c] of calls.entries()) {
            pending.push(b.add({ key: c.key, seq }));
            if (c.pauseAfter) await new Promise((res) => setImmediate(res));
          }
          expect(await Promise.all(pending)).toEqual(calls.map((_, seq) => seq));
          await b.drain();
          for (const batch of r.batches) {
            expect(batch.length).toBeLessThanOrEqual(maxBatch);
            expect(new Set(batch.map((i) => i.key)).size).toBe(batch.length);
          }
          const order = r.batches.flat();
          for (let k = 0; k <= 4; k++) {
            const seqs = order.filter((i) => i.key === k).map((i) => i.seq);
            expect(seqs).toEqual([...seqs].sort((x, y) => x - y));
          }
        },
      ),
      { numRuns: 60 },
    );
  });
});
