import { describe, expect, it } from 'vitest';
import { fillTemplate, REASON_TEMPLATES, reason } from '../../domain/reasons.ts';
import {
  countOutcomes,
  describeCounts,
  doneOf,
  endOfCompletedRun,
  isFinal,
  isReleaseFailure,
  isRetryable,
  isSettled,
  PHONE_OUTCOMES,
  percentDone,
  type RolloutCounts,
  reasonOfRun,
  summaryLine,
} from '../../domain/rollout.ts';

describe("R12: a rollout's word is derived from what its phones did", () => {
  it('R12: completed only when every phone is on the target (updated or already current)', () => {
    expect(endOfCompletedRun(countOutcomes(3, ['updated', 'already-current', 'updated']))).toBe('completed');
    expect(endOfCompletedRun(countOutcomes(0, []))).toBe('completed');
  });

  it('R12: one phone that failed, was not contacted or was skipped makes it completed-with-failures', () => {
    for (const bad of [
      'no-answer',
      'unreachable',
      'wrong-version',
      'failed-download',
      'not-contacted',
      'skipped',
    ] as const) {
      expect(endOfCompletedRun(countOutcomes(2, ['updated', bad]))).toBe('completed-with-failures');
    }
  });

  it('R12: no phone on the target is failed, never "completed 100 %"', () => {
    const c = countOutcomes(4, ['no-answer', 'no-answer', 'unreachable', 'wrong-version']);
    expect(endOfCompletedRun(c)).toBe('failed');
    expect(c).toMatchObject({ updated: 0, failed: 4, pending: 0 });
    expect(reasonOfRun('failed', c, '96.86.0.70')?.text).toBe('none of 4 phones reached 96.86.0.70');
  });

  it('R12: a phone without an outcome counts as pending, and a pending phone keeps a finished run from "completed"', () => {
    const c = countOutcomes(3, ['updated']);
    expect(c.pending).toBe(2);
    expect(doneOf(c)).toBe(1);
    expect(percentDone(c, 'running')).toBe(33);
    expect(endOfCompletedRun(c)).toBe('completed-with-failures');
  });

  it('R12: counts split the outcomes exactly: every phone in one bucket', () => {
    const all = [...PHONE_OUTCOMES];
    const c = countOutcomes(all.length + 1, all);
    expect(c.updated + c.alreadyCurrent + c.failed + c.notContacted + c.skipped + c.pending).toBe(c.total);
    expect(c).toMatchObject({
      updated: 1,
      alreadyCurrent: 1,
      failed: 5,
      parked: 1,
      notContacted: 1,
      skipped: 1,
      pending: 1,
    });
    expect(all.filter(isSettled)).toEqual(['updated', 'already-current']);
  });

  it('R12: percent is 100 only for an empty rollout that ended, never for an empty running one', () => {
    expect(percentDone(countOutcomes(0, []), 'running')).toBe(0);
    expect(percentDone(countOutcomes(0, []), 'completed')).toBe(100);
    expect(isFinal('running')).toBe(false);
    expect(isFinal('refused')).toBe(true);
    // Issue 13: paused and halted rollouts are open (R12: still the one rollout of the type).
    expect(isFinal('paused')).toBe(false);
    expect(isFinal('halted')).toBe(false);
    expect(percentDone(countOutcomes(0, []), 'halted')).toBe(0);
  });

  it('issue 13: a parked phone is a failed one (never hidden from the failed count) and keeps the run from completed', () => {
    const c = countOutcomes(3, ['updated', 'parked', 'updated']);
    expect(c).toMatchObject({ failed: 1, parked: 1 });
    expect(endOfCompletedRun(c)).toBe('completed-with-failures');
    expect(describeCounts(c)).toBe('2 updated · 1 failed (1 parked) of 3 phones');
  });

  it('issue 13: only a phone offered the firmware that did not come back is a release failure; offline ones are retried but do not halt', () => {
    expect(PHONE_OUTCOMES.filter(isReleaseFailure)).toEqual([
      'failed-download',
      'no-answer',
      'wrong-version',
    ]);
    expect(PHONE_OUTCOMES.filter(isRetryable)).toEqual([
      'failed-download',
      'no-answer',
      'wrong-version',
      'unreachable',
    ]);
  });

  it('R12: the summary line carries the word, the counts and the reason', () => {
    const c = countOutcomes(2, ['updated', 'not-contacted']);
    expect(describeCounts(c)).toBe('1 updated · 0 failed · 1 not contacted of 2 phones');
    expect(
      summaryLine(
        { model: 'T54W', targetVersion: '96.86.0.70', pbxId: 'acme' },
        'completed-with-failures',
        c,
        reasonOfRun('completed-with-failures', c, '96.86.0.70'),
      ),
    ).toBe(
      'T54W → 96.86.0.70 on acme: completed-with-failures · 1 updated · 0 failed · 1 not contacted of 2 phones · 1 of 2 phones did not reach 96.86.0.70',
    );
  });
});

describe('reasons: a code with parameters beside its English text', () => {
  it('fills every placeholder and leaves a missing one visible', () => {
    expect(reason('auto-update-off', { model: 'T31' })).toEqual({
      code: 'auto-update-off',
      params: { model: 'T31' },
      text: 'Auto-Update is off for T31',
    });
    expect(fillTemplate('a {x} b {y}', { x: 1 })).toBe('a 1 b {y}');
  });

  it('every template names only parameters in braces of word characters', () => {
    for (const t of Object.values(REASON_TEMPLATES)) expect(t).not.toMatch(/\{[^}\w]*\}/);
  });
});

describe('R12: every kind of phone that missed the target counts, each in its own words', () => {
  const counts = (patch: Partial<Parameters<typeof describeCounts>[0]>): RolloutCounts => ({
    total: 0,
    updated: 0,
    alreadyCurrent: 0,
    failed: 0,
    parked: 0,
    notContacted: 0,
    skipped: 0,
    pending: 0,
    ...patch,
  });

  it('R12: phones already current are on the target: with one failure that is completed-with-failures', () => {
    expect(endOfCompletedRun(counts({ total: 3, alreadyCurrent: 2, failed: 1 }))).toBe(
      'completed-with-failures',
    );
    expect(endOfCompletedRun(counts({ total: 3, updated: 1, alreadyCurrent: 2 }))).toBe('completed');
  });

  it('R12: a skipped or a pending phone alone keeps a run from being completed', () => {
    expect(endOfCompletedRun(counts({ total: 2, updated: 1, skipped: 1 }))).toBe('completed-with-failures');
    expect(endOfCompletedRun(counts({ total: 2, updated: 1, pending: 1 }))).toBe('completed-with-failures');
    expect(endOfCompletedRun(counts({ total: 2, updated: 1, notContacted: 1 }))).toBe(
      'completed-with-failures',
    );
    expect(endOfCompletedRun(counts({ total: 1, pending: 1 }))).toBe('failed');
    // Two kinds of misses add up, they never cancel out.
    expect(endOfCompletedRun(counts({ total: 3, updated: 1, failed: 1, notContacted: 1 }))).toBe(
      'completed-with-failures',
    );
    expect(endOfCompletedRun(counts({ total: 3, updated: 1, notContacted: 1, skipped: 1 }))).toBe(
      'completed-with-failures',
    );
    expect(endOfCompletedRun(counts({ total: 3, updated: 1, skipped: 1, pending: 1 }))).toBe(
      'completed-with-failures',
    );
  });

  it('R12: the reason counts every phone that missed the target: failed, not contacted, skipped and pending', () => {
    const c = counts({ total: 9, updated: 1, failed: 1, notContacted: 2, skipped: 3, pending: 2 });
    expect(reasonOfRun('completed-with-failures', c, '2.65.0')?.text).toBe(
      '8 of 9 phones did not reach 2.65.0',
    );
    expect(reasonOfRun('completed', counts({ total: 1, updated: 1 }), '2.65.0')).toBeNull();
    expect(reasonOfRun('cancelled', c, '2.65.0')).toBeNull();
  });

  it('R12: the count line names each non-zero kind and leaves out the zero ones', () => {
    expect(
      describeCounts(
        counts({ total: 15, updated: 1, alreadyCurrent: 2, failed: 3, notContacted: 4, skipped: 5 }),
      ),
    ).toBe('1 updated · 2 already current · 3 failed · 4 not contacted · 5 skipped of 15 phones');
    expect(describeCounts(counts({ total: 7, updated: 1, pending: 6 }))).toBe(
      '1 updated · 0 failed · 6 pending of 7 phones',
    );
    expect(describeCounts(counts({ total: 0 }))).toBe('0 updated · 0 failed of 0 phones');
    expect(
      summaryLine(
        { model: 'N670', targetVersion: '2.65.0', pbxId: 'acme' },
        'running',
        counts({ total: 1, pending: 1 }),
        null,
      ),
    ).toBe('N670 → 2.65.0 on acme: running · 0 updated · 0 failed · 1 pending of 1 phones');
  });
});
