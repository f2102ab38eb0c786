import { describe, expect, it } from 'vitest';
import { judgeNotifiedPhone } from '../../activities/update-block.ts';

const since = new Date('2026-03-02T10:00:00Z');
const at = (s: number) => new Date(since.getTime() + s * 1000);
const quiet = {
  installedVersion: '96.86.0.45',
  lastBootAt: null,
  lastProvisionedAt: null,
  firmwareFetchFile: null,
  firmwareFetchStartedAt: null,
  firmwareFetchCompletedAt: null,
  firmwareFetchAbortedAt: null,
  firmwareFetchBytes: null,
};
const target = '96.86.0.70';

describe('R12: judging a notified phone from what the edge saw', () => {
  it('R12: updated as soon as it reports the target version', () => {
    expect(judgeNotifiedPhone({ ...quiet, installedVersion: target }, since, target, false)).toEqual({
      outcome: 'updated',
    });
  });

  it('R12: wrong-version as soon as it comes back after its download on another version', () => {
    const p = { ...quiet, firmwareFetchStartedAt: at(1), firmwareFetchCompletedAt: at(2), lastBootAt: at(9) };
    expect(judgeNotifiedPhone(p, since, target, false)?.outcome).toBe('wrong-version');
  });

  it('R12: waits while the phone may still come back', () => {
    expect(judgeNotifiedPhone({ ...quiet, lastProvisionedAt: at(1) }, since, target, false)).toBeNull();
    const flashing = { ...quiet, firmwareFetchStartedAt: at(1), firmwareFetchCompletedAt: at(2) };
    expect(judgeNotifiedPhone(flashing, since, target, false)).toBeNull();
  });

  it.each([
    [
      { firmwareFetchStartedAt: at(1), firmwareFetchAbortedAt: at(2), firmwareFetchBytes: 65536 },
      'failed-download',
    ],
    [{ firmwareFetchStartedAt: at(1) }, 'failed-download'],
    [{ firmwareFetchStartedAt: at(1), firmwareFetchCompletedAt: at(3) }, 'no-answer'],
    [{ lastProvisionedAt: at(1) }, 'wrong-version'],
    [{}, 'no-answer'],
    // Activity before the block does not count for it.
    [
      { firmwareFetchStartedAt: at(-60), firmwareFetchAbortedAt: at(-59), lastProvisionedAt: at(-60) },
      'no-answer',
    ],
  ])('R12: at the deadline %j is %s', (seen, outcome) => {
    expect(judgeNotifiedPhone({ ...quiet, ...seen }, since, target, true)?.outcome).toBe(outcome);
  });

  it('R12: a retried download that completed is not a failed download', () => {
    const p = {
      ...quiet,
      firmwareFetchStartedAt: at(5),
      firmwareFetchAbortedAt: at(2),
      firmwareFetchCompletedAt: at(8),
    };
    expect(judgeNotifiedPhone(p, since, target, true)?.outcome).toBe('no-answer');
  });
});
