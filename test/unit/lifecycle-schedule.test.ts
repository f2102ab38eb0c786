import { describe, expect, it } from 'vitest';
import { dueNow, nextWakeAt, type ScheduleState, upcomingSteps } from '../../domain/lifecycle-schedule.ts';
import { fromLocal } from '../../domain/timing.ts';

const BERLIN = 'Europe/Berlin';
// Monday 2026-12-07 08:00 Berlin.
const monday = fromLocal({ year: 2026, month: 12, day: 7, hour: 8, minute: 0 }, BERLIN);
const at = (day: number, hour: number, minute = 0) =>
  fromLocal({ year: 2026, month: 12, day, hour, minute }, BERLIN);
const state = (over: Partial<ScheduleState> = {}): ScheduleState => ({
  timeZone: BERLIN,
  weeklyCheck: { day: 1, minute: 10 * 60 }, // Tuesday 10:00
  lastWeeklyCheckAt: monday,
  pendingDownloadAt: null,
  updateMoment: { day: 6, minute: 3 * 60 }, // Sunday 03:00
  lastScheduledUpdateAt: monday,
  ...over,
});

describe('what the lifecycle does next (R9, R10, R11)', () => {
  it('R9/R11: lists the weekly check and the update moment, soonest first', () => {
    expect(upcomingSteps(state())).toEqual([
      { step: 'weekly-check', at: at(8, 10) },
      { step: 'scheduled-update', at: at(13, 3) },
    ]);
    expect(nextWakeAt(state())).toBe(at(8, 10));
  });

  it('R11: without an admin moment there is no scheduled update', () => {
    expect(upcomingSteps(state({ updateMoment: null })).map((d) => d.step)).toEqual(['weekly-check']);
  });

  it('R10: a pending evening download is due at its drawn moment, not before', () => {
    const s = state({ lastWeeklyCheckAt: at(8, 10), pendingDownloadAt: at(8, 21, 17) });
    expect(nextWakeAt(s)).toBe(at(8, 21, 17));
    expect(dueNow(s, at(8, 21, 16))).toBeNull();
    expect(dueNow(s, at(8, 21, 17))).toEqual({ step: 'evening-download', at: at(8, 21, 17) });
  });

  it('R9: nothing is due before the moment; the check is due at it', () => {
    expect(dueNow(state(), at(8, 9, 59))).toBeNull();
    expect(dueNow(state(), at(8, 10))?.step).toBe('weekly-check');
  });

  it('R9/R10/R11: when several are due at once, check → download → update', () => {
    const s = state({ pendingDownloadAt: at(7, 20, 30), updateMoment: { day: 0, minute: 9 * 60 } });
    const late = at(8, 12);
    expect(dueNow(s, late)?.step).toBe('weekly-check');
    expect(dueNow({ ...s, lastWeeklyCheckAt: late }, late)?.step).toBe('evening-download');
    expect(dueNow({ ...s, lastWeeklyCheckAt: late, pendingDownloadAt: null }, late)?.step).toBe(
      'scheduled-update',
    );
  });
});
