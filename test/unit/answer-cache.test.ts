import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { AnswerCache } from '../../lib/answer-cache.ts';

/** A clock the test moves by hand (the cache takes its moments from it, never from the real one). */
function clock(start = 0) {
  let t = start;
  return {
    now: () => t,
    advance: (ms: number) => {
      t += ms;
    },
  };
}

describe('one shared answer per key (lib/answer-cache.ts, issue 14 target 3)', () => {
  it('callers within the ttl share one load; the next caller after it loads again', async () => {
    const c = clock();
    const cache = new AnswerCache<number>(1000, { now: c.now });
    let loads = 0;
    const load = async () => ++loads;
    expect(await Promise.all([cache.get('a', load), cache.get('a', load), cache.get('a', load)])).toEqual([
      1, 1, 1,
    ]);
    c.advance(999);
    expect(await cache.get('a', load)).toBe(1);
    c.advance(1);
    expect(await cache.get('a', load)).toBe(2);
    expect(loads).toBe(2);
  });

  it('the age of an answer counts from the start of its load, so no caller sees one older than the ttl', async () => {
    const c = clock();
    const cache = new AnswerCache<string>(1000, { now: c.now });
    let release!: (v: string) => void;
    const slow = cache.get('a', () => new Promise<string>((r) => (release = r)));
    c.advance(1000); // the load took the whole ttl
    const fresh = cache.get('a', async () => 'fresh');
    release('slow');
    expect(await slow).toBe('slow');
    expect(await fresh).toBe('fresh');
  });

  it('a failed load is not kept: the next caller loads again', async () => {
    const cache = new AnswerCache<number>(1000, { now: () => 0 });
    await expect(cache.get('a', () => Promise.reject(new Error('gone')))).rejects.toThrow('gone');
    await new Promise((r) => setImmediate(r));
    expect(await cache.get('a', async () => 7)).toBe(7);
  });

  it('delete and clear drop kept answers; ttl 0 never keeps one', async () => {
    const cache = new AnswerCache<number>(1000, { now: () => 0 });
    await cache.get('a', async () => 1);
    await cache.get('b', async () => 1);
    cache.delete('a');
    expect(await cache.get('a', async () => 2)).toBe(2);
    expect(await cache.get('b', async () => 2)).toBe(1);
    cache.clear();
    expect(await cache.get('b', async () => 3)).toBe(3);
    const off = new AnswerCache<number>(0);
    let n = 0;
    await off.get('a', async () => ++n);
    await off.get('a', async () => ++n);
    expect(n).toBe(2);
    expect(off.size).toBe(0);
  });

  it('keeps at most maxKeys answers, dropping the least recently loaded (property)', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.integer({ min: 0, max: 20 }), { maxLength: 100 }), async (keys) => {
        const cache = new AnswerCache<number>(1000, { now: () => 0, maxKeys: 5 });
        for (const k of keys) await cache.get(String(k), async () => k);
        expect(cache.size).toBe(Math.min(5, new Set(keys).size));
        const last = keys.at(-1);
        if (last !== undefined) expect(await cache.get(String(last), async () => -1)).toBe(last);
      }),
    );
  });
});
