/** Issue 13 + R12: canary, blocks, the running queue, and the preview beside the rollout (domain/rollout-plan.ts). */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  admitJoiners,
  chooseCanary,
  differencesFromPreview,
  expectedStarts,
  nextStep,
  type PlanPhone,
  planBlocks,
  type RanPhone,
  type RolloutQueue,
  retryNow,
  scheduleRetries,
  startStep,
} from '../../domain/rollout-plan.ts';
import { fromLocal } from '../../domain/timing.ts';

const phones = (n: number, offline: number[] = []): PlanPhone[] =>
  Array.from({ length: n }, (_, i) => ({ id: i + 1, registered: !offline.includes(i + 1), idle: true }));

describe('issue 13: canary and blocks', () => {
  it('issue 13: the canary takes registered, idle phones first, in account order', () => {
    const ps = phones(8, [1, 2]);
    (ps[2] as PlanPhone).idle = false;
    expect(chooseCanary(ps, 3)).toEqual([4, 5, 6]);
    expect(chooseCanary(phones(2, [1, 2]), 5)).toEqual([1, 2]);
  });

  it('R12: after the canary, blocks of 50', () => {
    expect(planBlocks(phones(120), 5).map((b) => b.phoneIds.length)).toEqual([5, 50, 50, 15]);
    expect(planBlocks(phones(3), 5).map((b) => [b.canary, b.phoneIds.length])).toEqual([[true, 3]]);
    expect(planBlocks([], 5)).toEqual([]);
  });

  it('R12 (property): every phone in exactly one block, no block above 50, the canary first and at most its size', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 400 }),
        fc.integer({ min: 1, max: 50 }),
        fc.array(fc.integer({ min: 1, max: 400 }), { maxLength: 40 }),
        (n, canary, offline) => {
          const blocks = planBlocks(phones(n, offline), canary);
          const all = blocks.flatMap((b) => b.phoneIds);
          expect(all.sort((a, b) => a - b)).toEqual(Array.from({ length: n }, (_, i) => i + 1));
          for (const b of blocks) expect(b.phoneIds.length).toBeLessThanOrEqual(50);
          if (n > 0) expect(blocks[0]?.phoneIds.length).toBe(Math.min(canary, n));
          expect(blocks.map((b) => b.index)).toEqual(blocks.map((_, i) => i));
          expect(blocks.filter((b) => b.canary)).toHaveLength(n > 0 ? 1 : 0);
        },
      ),
    );
  });

  it('issue 13: expected starts follow each other by the block time and never fall outside the window', () => {
    const tz = 'Europe/Berlin';
    const start = fromLocal({ year: 2026, month: 6, day: 10, hour: 4, minute: 40 }, tz);
    const starts = expectedStarts(3, start, tz, { startMinute: 22 * 60, endMinute: 5 * 60 }, 10 * 60_000);
    expect(starts).toEqual([
      start,
      start + 10 * 60_000,
      fromLocal({ year: 2026, month: 6, day: 10, hour: 22, minute: 0 }, tz),
    ]);
  });
});

describe('issue 13: the running queue', () => {
  const q0 = (): RolloutQueue => ({ planned: planBlocks(phones(60), 5), retries: [] });

  it('issue 13: planned blocks in order; retries once they are due and the plan is through; else wait', () => {
    let q = q0();
    const order: number[][] = [];
    for (;;) {
      const s = nextStep(q, 0);
      if (s.kind !== 'block') break;
      order.push(s.phoneIds);
      q = startStep(q, s);
      if (order.length === 1) q = scheduleRetries(q, [{ phoneId: 3, dueAt: 100 }]);
    }
    expect(order.map((b) => b.length)).toEqual([5, 50, 5]);
    expect(nextStep(q, 50)).toEqual({ kind: 'wait', until: 100 });
    const retry = nextStep(q, 100);
    expect(retry).toMatchObject({ kind: 'block', retry: true, phoneIds: [3] });
    if (retry.kind !== 'block') throw new Error('unreachable');
    expect(nextStep(startStep(q, retry), 100)).toEqual({ kind: 'done' });
  });

  it('issue 13: late joiners fill the last planned block (never the canary) up to 50, then a new one', () => {
    const q = { planned: planBlocks(phones(60), 5).slice(1), retries: [] };
    const { queue, placed } = admitJoiners(q, [101, 102], 3);
    expect(queue.planned.map((b) => b.phoneIds.length)).toEqual([50, 7]);
    expect([...placed.values()]).toEqual([2, 2]);
    const canaryOnly = { planned: planBlocks(phones(5), 5), retries: [] };
    const j = admitJoiners(canaryOnly, [9], 1);
    expect(j.queue.planned.map((b) => [b.canary, b.phoneIds])).toEqual([
      [true, [1, 2, 3, 4, 5]],
      [false, [9]],
    ]);
    // A phone already queued does not join twice.
    expect(admitJoiners(q, [10], 3).placed.size).toBe(0);
  });
});

describe('issue 13: the rollout beside its preview', () => {
  const preview = planBlocks(phones(7), 2);

  it('issue 13: a rollout that ran as previewed shows no difference', () => {
    const ran = preview.flatMap((b) =>
      b.phoneIds.map((phoneId) => ({
        phoneId,
        plannedBlock: b.index,
        block: b.index,
        outcome: 'updated' as const,
        attempts: 1,
        joined: false,
      })),
    );
    expect(differencesFromPreview(preview, ran, () => '')).toEqual([]);
  });

  it('issue 13: added, removed, offline and retried phones are named with their reasons', () => {
    const ran = [
      { phoneId: 1, plannedBlock: 0, block: 0, outcome: 'updated' as const, attempts: 1, joined: false },
      { phoneId: 2, plannedBlock: 0, block: 0, outcome: 'unreachable' as const, attempts: 3, joined: false },
      { phoneId: 3, plannedBlock: 1, block: 3, outcome: 'updated' as const, attempts: 2, joined: false },
      { phoneId: 9, plannedBlock: 1, block: 1, outcome: 'updated' as const, attempts: 1, joined: true },
      { phoneId: 10, plannedBlock: 1, block: 1, outcome: 'updated' as const, attempts: 1, joined: false },
    ];
    const d = differencesFromPreview(preview, ran, () => 'its account was deleted');
    expect(d.map((x) => [x.phoneId, x.change, x.reason.code])).toEqual([
      [2, 'offline', 'offline-at-block'],
      [3, 'retried', 'retried-in-block'],
      [4, 'removed', 'removed-since-preview'],
      [5, 'removed', 'removed-since-preview'],
      [6, 'removed', 'removed-since-preview'],
      [7, 'removed', 'removed-since-preview'],
      [9, 'added', 'joined-late'],
      [10, 'added', 'added-since-preview'],
    ]);
    expect(d.find((x) => x.phoneId === 4)?.reason.text).toBe(
      'in the preview, not in the rollout: its account was deleted',
    );
  });
});

describe('issue 13: the running queue and the preview, case by case', () => {
  const q = (retries: Array<{ phoneId: number; dueAt: number }>, planned: number[][] = []) => ({
    planned: planned.map((phoneIds, index) => ({ index, canary: false, phoneIds })),
    retries,
  });

  it('issue 13 retries: due ones go out longest-waiting first (ties by phone), in blocks of at most the block size; not-yet-due ones wait for the earliest', () => {
    const queue = q([
      { phoneId: 9, dueAt: 300 },
      { phoneId: 4, dueAt: 100 },
      { phoneId: 2, dueAt: 100 },
      { phoneId: 7, dueAt: 200 },
      { phoneId: 1, dueAt: 900 },
    ]);
    expect(nextStep(queue, 300, 3)).toEqual({
      kind: 'block',
      canary: false,
      retry: true,
      plannedIndex: null,
      phoneIds: [2, 4, 7],
    });
    expect(nextStep(queue, 99)).toEqual({ kind: 'wait', until: 100 });
    const started = startStep(
      queue,
      nextStep(queue, 300, 3) as Extract<ReturnType<typeof nextStep>, { kind: 'block' }>,
    );
    expect(started.retries).toEqual([
      { phoneId: 9, dueAt: 300 },
      { phoneId: 1, dueAt: 900 },
    ]);
    expect(nextStep(q([]), 0)).toEqual({ kind: 'done' });
  });

  it('issue 13 retries: a phone scheduled again replaces its earlier retry; retry now makes parked phones due at once', () => {
    const queue = q([
      { phoneId: 1, dueAt: 100 },
      { phoneId: 2, dueAt: 200 },
    ]);
    expect(scheduleRetries(queue, [{ phoneId: 2, dueAt: 500 }]).retries).toEqual([
      { phoneId: 1, dueAt: 100 },
      { phoneId: 2, dueAt: 500 },
    ]);
    expect(retryNow(queue, [3, 1], 50).retries).toEqual([
      { phoneId: 2, dueAt: 200 },
      { phoneId: 3, dueAt: 50 },
      { phoneId: 1, dueAt: 50 },
    ]);
  });

  it('issue 13 late joiners: they fill the last planned block up to the block size, then open new blocks numbered on; queued phones are not added twice', () => {
    const queue = {
      planned: [
        { index: 0, canary: true, phoneIds: [1] },
        { index: 1, canary: false, phoneIds: [2, 3] },
      ],
      retries: [{ phoneId: 4, dueAt: 0 }],
    };
    const { queue: after, placed } = admitJoiners(queue, [3, 4, 5, 6, 7, 7, 8], 2, 3);
    expect(after.planned).toEqual([
      { index: 0, canary: true, phoneIds: [1] },
      { index: 1, canary: false, phoneIds: [2, 3, 5] },
      { index: 2, canary: false, phoneIds: [6, 7, 8] },
    ]);
    expect([...placed]).toEqual([
      [5, 1],
      [6, 2],
      [7, 2],
      [8, 2],
    ]);
    expect(queue.planned[1]?.phoneIds).toEqual([2, 3]); // the queue given is not changed
    // Behind a canary only: a new block, never the canary.
    const canaryOnly = admitJoiners(
      { planned: [{ index: 0, canary: true, phoneIds: [1] }], retries: [] },
      [2],
      1,
    );
    expect(canaryOnly.queue.planned.at(-1)).toEqual({ index: 1, canary: false, phoneIds: [2] });
  });

  it('issue 13 preview: each kind of difference says why, with 1-based blocks; phones never contacted are not differences', () => {
    const preview = [
      { index: 0, canary: true, phoneIds: [1] },
      { index: 1, canary: false, phoneIds: [2, 3, 4, 5] },
    ];
    const ran: RanPhone[] = [
      { phoneId: 1, plannedBlock: 0, block: 0, outcome: 'updated', attempts: 1, joined: false },
      { phoneId: 2, plannedBlock: 2, block: 2, outcome: 'updated', attempts: 1, joined: false },
      { phoneId: 3, plannedBlock: 1, block: 1, outcome: 'unreachable', attempts: 1, joined: false },
      { phoneId: 4, plannedBlock: 1, block: 3, outcome: 'updated', attempts: 2, joined: false },
      { phoneId: 5, plannedBlock: 1, block: null, outcome: 'not-contacted', attempts: 0, joined: false },
      { phoneId: 6, plannedBlock: 2, block: 2, outcome: 'updated', attempts: 1, joined: true },
      { phoneId: 7, plannedBlock: null, block: null, outcome: null, attempts: 0, joined: true },
      { phoneId: 8, plannedBlock: 1, block: 1, outcome: 'updated', attempts: 1, joined: false },
    ];
    const diffs = differencesFromPreview(preview, ran, () => 'gone');
    const byPhone = new Map(diffs.map((d) => [d.phoneId, d]));
    expect(byPhone.get(1)).toBeUndefined();
    expect(byPhone.get(2)).toMatchObject({
      change: 'moved',
      previewBlock: 1,
      block: 2,
      reason: { code: 'moved-block', params: { planned: 2, block: 3 } },
    });
    expect(byPhone.get(3)).toMatchObject({
      change: 'offline',
      reason: { code: 'offline-at-block', params: { block: 2 } },
    });
    expect(byPhone.get(4)).toMatchObject({
      change: 'retried',
      block: 3,
      reason: { code: 'retried-in-block', params: { attempts: 2, block: 4 } },
    });
    expect(byPhone.get(5)).toMatchObject({ change: 'removed', previewBlock: 1 });
    expect(byPhone.get(6)).toMatchObject({
      change: 'added',
      previewBlock: null,
      reason: { code: 'joined-late', params: { block: 3 } },
    });
    expect(byPhone.get(7)).toMatchObject({
      change: 'added',
      reason: { code: 'joined-late', params: { block: 1 } },
    });
    expect(byPhone.get(8)).toMatchObject({ change: 'added', reason: { code: 'added-since-preview' } });
    expect(differencesFromPreview(preview.slice(0, 1), ran.slice(0, 1), () => 'gone')).toEqual([]);
  });
});
