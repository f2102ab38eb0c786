/** Issue 13: the canary, the error threshold and the retries, as pure rules (domain/rollout-policy.ts). */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { PhoneOutcome } from '../../domain/rollout.ts';
import {
  afterFailedAttempt,
  DEFAULT_ROLLOUT_POLICY,
  judgeBlock,
  resolvePolicy,
  retryDelayMs,
} from '../../domain/rollout-policy.ts';

const V = '96.86.0.70';
const block = (n: number, outcomes: PhoneOutcome[], canary = false) => ({
  block: n,
  canary,
  outcomes: outcomes.map((outcome, i) => ({ phoneId: i + 1, outcome })),
});
const many = (n: number, o: PhoneOutcome) => Array<PhoneOutcome>(n).fill(o);

describe('issue 13: rollout policy defaults and limits', () => {
  it('issue 13: defaults are a canary of 5, halt above 10 % or after 2 failed blocks in a row, 3 attempts', () => {
    expect(resolvePolicy()).toMatchObject({
      canarySize: 5,
      haltFailedPercent: 10,
      haltFailedBlocksInRow: 2,
      maxAttempts: 3,
    });
  });

  it('issue 13: the rollout’s own canary wins over the PBX’s, which wins over the default; at most 50', () => {
    expect(resolvePolicy({ canarySize: 12 }).canarySize).toBe(12);
    expect(resolvePolicy({ canarySize: 12 }, { canarySize: 3 }).canarySize).toBe(3);
    expect(() => resolvePolicy({}, { canarySize: 51 })).toThrow(/canarySize must be an integer from 1 to 50/);
    expect(() => resolvePolicy({ canarySize: 0 })).toThrow(RangeError);
  });
});

describe('issue 13: the threshold', () => {
  const p = DEFAULT_ROLLOUT_POLICY;

  it('issue 13: a canary with one failed phone halts; with every phone offline it proves nothing and halts too', () => {
    expect(judgeBlock(p, block(1, ['updated', 'no-answer', 'updated'], true), 0, V)).toMatchObject({
      halt: true,
      reason: { code: 'canary-failed', params: { failed: 1, phones: 3 } },
    });
    expect(judgeBlock(p, block(1, many(5, 'unreachable'), true), 0, V)).toMatchObject({
      halt: true,
      reason: { code: 'canary-unreached' },
    });
    expect(judgeBlock(p, block(1, ['updated', 'unreachable'], true), 0, V)).toMatchObject({ halt: false });
  });

  it('issue 13: more than 10 % of the phones offered the firmware halts; exactly 10 % does not; offline ones are not offered', () => {
    expect(judgeBlock(p, block(2, [...many(5, 'no-answer'), ...many(45, 'updated')]), 0, V).halt).toBe(false);
    expect(judgeBlock(p, block(2, [...many(6, 'no-answer'), ...many(44, 'updated')]), 0, V)).toMatchObject({
      halt: true,
      reason: { code: 'block-failure-rate', params: { failed: 6, phones: 50, block: 2, percent: 10 } },
    });
    // 3 wrong versions among 25 reached (25 offline): 12 % of those offered.
    const mixed = [...many(3, 'wrong-version'), ...many(22, 'updated'), ...many(25, 'unreachable')];
    expect(judgeBlock(p, block(3, mixed), 0, V)).toMatchObject({
      halt: true,
      reason: { params: { failed: 3, phones: 25 } },
    });
    expect(judgeBlock(p, block(3, [...many(30, 'unreachable'), ...many(20, 'updated')]), 0, V).halt).toBe(
      false,
    );
  });

  it('issue 13: two blocks in a row with a failed phone halt; a clean block starts the count again', () => {
    const one = [...many(1, 'failed-download'), ...many(49, 'updated')];
    const first = judgeBlock(p, block(2, one), 0, V);
    expect(first).toMatchObject({ halt: false, failedBlocksInRow: 1 });
    expect(judgeBlock(p, block(3, one), first.failedBlocksInRow, V)).toMatchObject({
      halt: true,
      reason: { code: 'failed-blocks-in-row', params: { blocks: 2, first: 2, block: 3 } },
    });
    expect(judgeBlock(p, block(3, many(50, 'updated')), 1, V)).toMatchObject({
      halt: false,
      failedBlocksInRow: 0,
    });
  });

  it('issue 13 (property): a block halts exactly when the canary failed, the rate is exceeded or the streak is long enough', () => {
    const outcome = fc.constantFrom<PhoneOutcome>(
      'updated',
      'already-current',
      'no-answer',
      'wrong-version',
      'failed-download',
      'unreachable',
    );
    fc.assert(
      fc.property(
        fc.array(outcome, { minLength: 1, maxLength: 50 }),
        fc.boolean(),
        fc.integer({ min: 0, max: 3 }),
        fc.integer({ min: 0, max: 100 }),
        fc.integer({ min: 1, max: 4 }),
        (outcomes, canary, streak, percent, inRow) => {
          const policy = { ...p, haltFailedPercent: percent, haltFailedBlocksInRow: inRow };
          const v = judgeBlock(policy, block(2, outcomes, canary), streak, V);
          const failed = outcomes.filter((o) =>
            ['no-answer', 'wrong-version', 'failed-download'].includes(o),
          ).length;
          const offered = outcomes.filter((o) => o !== 'unreachable').length;
          const nextStreak = failed > 0 ? streak + 1 : 0;
          const expected =
            (canary && (failed > 0 || offered === 0)) ||
            (failed > 0 && failed * 100 > percent * offered) ||
            nextStreak >= inRow;
          expect(v.halt).toBe(expected);
          expect(v.failedBlocksInRow).toBe(nextStreak);
        },
      ),
    );
  });
});

describe('issue 13: retries with backoff, then parking', () => {
  it('issue 13: attempt 2 after 5 minutes, attempt 3 after 15 more, then parked', () => {
    const p = resolvePolicy();
    expect(retryDelayMs(p, 1)).toBe(5 * 60_000);
    expect(retryDelayMs(p, 2)).toBe(15 * 60_000);
    expect(afterFailedAttempt(p, 1, 1000)).toEqual({ retryAt: 1000 + 5 * 60_000 });
    expect(afterFailedAttempt(p, 2, 1000)).toEqual({ retryAt: 1000 + 15 * 60_000 });
    expect(afterFailedAttempt(p, 3, 1000)).toEqual({ park: true });
    expect(afterFailedAttempt(resolvePolicy({ maxAttempts: 1 }), 1, 0)).toEqual({ park: true });
  });

  it('issue 13 (property): every phone is parked after exactly maxAttempts failed attempts, each wait longer than the last', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 10 }), (maxAttempts) => {
        const p = resolvePolicy({ maxAttempts });
        let attempt = 1;
        let last = 0;
        for (;;) {
          const next = afterFailedAttempt(p, attempt, 0);
          if ('park' in next) break;
          expect(next.retryAt).toBeGreaterThan(last);
          last = next.retryAt;
          attempt++;
        }
        expect(attempt).toBe(maxAttempts);
      }),
    );
  });
});
