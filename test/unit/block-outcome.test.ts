import { describe, expect, it } from 'vitest';
import { judgeNotifiedPhone, mayNotifyAgain, STALE_FETCH_MS } from '../../activities/update-block.ts';

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

describe('R12: a retried block notifies again only phones an edge crash left behind', () => {
  const now = new Date(since.getTime() + 60_000);
  const notifiedAt = at(0);
  const fetch = {
    firmwareFetchStartedAt: null,
    firmwareFetchCompletedAt: null,
    firmwareFetchAbortedAt: null,
    lastProvisionedAt: null,
    lastBootAt: null,
  };

  it('R12: never a phone that has its firmware (it is flashing or booting)', () => {
    expect(
      mayNotifyAgain(
        { ...fetch, firmwareFetchStartedAt: at(1), firmwareFetchCompletedAt: at(5) },
        since,
        notifiedAt,
        now,
      ),
    ).toBe(false);
  });

  it('R12: a NOTIFY sent just now (an attempt that may still be alive) is not repeated', () => {
    expect(mayNotifyAgain(fetch, since, new Date(now.getTime() - 1000), now)).toBe(false);
  });

  it('R12: a phone whose download never started, was aborted, or went silent is notified again', () => {
    expect(mayNotifyAgain(fetch, since, notifiedAt, now)).toBe(true);
    expect(
      mayNotifyAgain(
        { ...fetch, firmwareFetchStartedAt: at(1), firmwareFetchAbortedAt: at(3) },
        since,
        notifiedAt,
        now,
      ),
    ).toBe(true);
    expect(mayNotifyAgain({ ...fetch, firmwareFetchStartedAt: at(1) }, since, notifiedAt, now)).toBe(true);
  });

  it('R12: a phone that came for its files after the NOTIFY but never fetched is notified again once it went quiet', () => {
    // Its firmware request may have failed on an edge that went away; another NOTIFY, bounded, can only help.
    const quietSince = new Date(now.getTime() - STALE_FETCH_MS - 1000);
    expect(mayNotifyAgain({ ...fetch, lastProvisionedAt: quietSince }, since, notifiedAt, now)).toBe(true);
    // Not while it was just here.
    const justNow = new Date(now.getTime() - 1000);
    expect(mayNotifyAgain({ ...fetch, lastProvisionedAt: justNow }, since, notifiedAt, now)).toBe(false);
  });

  it('R12: a download still young may be running on another edge: left alone', () => {
    const young = new Date(now.getTime() - STALE_FETCH_MS + 1000);
    expect(mayNotifyAgain({ ...fetch, firmwareFetchStartedAt: young }, since, notifiedAt, now)).toBe(false);
  });

  it('R12: a download from before this block does not count', () => {
    const before = new Date(since.getTime() - 1000);
    expect(
      mayNotifyAgain(
        { ...fetch, firmwareFetchStartedAt: before, firmwareFetchCompletedAt: before },
        since,
        notifiedAt,
        now,
      ),
    ).toBe(true);
  });
});
