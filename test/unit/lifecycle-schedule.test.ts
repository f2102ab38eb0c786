import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  dueNow,
  nextWakeAt,
  type ScheduleState,
  upcomingSteps,
  wakeSummary,
} from '../../domain/lifecycle-schedule.ts';
import { formatLocal, fromLocal, offsetAt, toLocal } from '../../domain/timing.ts';

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

describe('what the Temporal UI reads about the next step (issue 12, R9, R10, R11)', () => {
  it('R9/R10/R11: the timer summary names the step it waits for and its local moment with the zone', () => {
    expect(wakeSummary(state())).toBe('weekly check (R9) at Tue 2026-12-08 10:00 Europe/Berlin (UTC+01:00)');
    expect(wakeSummary(state({ lastWeeklyCheckAt: at(8, 10), pendingDownloadAt: at(8, 21, 17) }))).toBe(
      'evening download (R10) at Tue 2026-12-08 21:17 Europe/Berlin (UTC+01:00)',
    );
    expect(wakeSummary(state({ lastWeeklyCheckAt: at(8, 10) }))).toBe(
      'update moment (R11) at Sun 2026-12-13 03:00 Europe/Berlin (UTC+01:00)',
    );
  });

  it('formats local times on both sides of a DST change and in zones west of UTC or off the hour', () => {
    const summer = fromLocal({ year: 2027, month: 3, day: 28, hour: 3, minute: 30 }, BERLIN);
    expect(formatLocal(summer, BERLIN)).toBe('Sun 2027-03-28 03:30 Europe/Berlin (UTC+02:00)');
    expect(formatLocal(summer - 3_600_000, BERLIN)).toBe('Sun 2027-03-28 01:30 Europe/Berlin (UTC+01:00)');
    const ny = fromLocal({ year: 2026, month: 12, day: 7, hour: 9, minute: 5 }, 'America/New_York');
    expect(formatLocal(ny, 'America/New_York')).toBe('Mon 2026-12-07 09:05 America/New_York (UTC-05:00)');
    expect(formatLocal(Date.UTC(2026, 11, 7, 0, 0), 'Asia/Kathmandu')).toBe(
      'Mon 2026-12-07 05:45 Asia/Kathmandu (UTC+05:45)',
    );
  });

  it('the formatted moment reads back as the instant: local fields and offset (property)', () => {
    const zones = ['Europe/Berlin', 'America/New_York', 'Asia/Kolkata', 'Australia/Lord_Howe', 'UTC'];
    fc.assert(
      fc.property(
        fc.integer({ min: Date.UTC(2000, 0, 1), max: Date.UTC(2060, 0, 1) }),
        fc.constantFrom(...zones),
        (ms, zone) => {
          const m = /^\w{3} (\d{4})-(\d\d)-(\d\d) (\d\d):(\d\d) (\S+) \(UTC([+-])(\d\d):(\d\d)\)$/.exec(
            formatLocal(ms, zone),
          );
          if (!m) return false;
          const l = toLocal(ms, zone);
          const offset = (m[7] === '-' ? -1 : 1) * (Number(m[8]) * 60 + Number(m[9])) * 60_000;
          return (
            Number(m[1]) === l.year &&
            Number(m[2]) === l.month &&
            Number(m[3]) === l.day &&
            Number(m[4]) === l.hour &&
            Number(m[5]) === l.minute &&
            m[6] === zone &&
            offset === offsetAt(ms, zone)
          );
        },
      ),
      { numRuns: 1000 },
    );
  });
});
