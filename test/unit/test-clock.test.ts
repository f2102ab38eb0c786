import { describe, expect, it } from 'vitest';
import { fromLocal, toLocal, weekdayOf } from '../../domain/timing.ts';
import { clockStart, weeklyMomentAfter } from '../support/test-clock.ts';

const BERLIN = 'Europe/Berlin';
// Tuesday 2026-12-01 12:00 Berlin.
const now = fromLocal({ year: 2026, month: 12, day: 1, hour: 12, minute: 0 }, BERLIN);
const local = (ms: number) => {
  const l = toLocal(ms, BERLIN);
  return { weekday: weekdayOf(l.year, l.month, l.day), hour: l.hour, minute: l.minute, day: l.day };
};

describe('the test clock a time-skipping run starts from', () => {
  it('leaves the clock alone when no start is given', () => {
    expect(clockStart(undefined, now)).toBeNull();
    expect(clockStart('  ', now)).toBeNull();
  });

  it('places the clock on the next given weekday and time, forward only', () => {
    expect(local(clockStart('tuesday 10:00', now) as number)).toEqual({
      weekday: 1,
      hour: 10,
      minute: 0,
      day: 8,
    });
    expect(local(clockStart('Tue 13:00', now) as number)).toEqual({
      weekday: 1,
      hour: 13,
      minute: 0,
      day: 1,
    });
    expect(local(clockStart('sunday 23:30', now) as number)).toEqual({
      weekday: 6,
      hour: 23,
      minute: 30,
      day: 6,
    });
  });

  it('places the clock at the next given time of day', () => {
    expect(local(clockStart('23:30', now) as number)).toMatchObject({ day: 1, hour: 23, minute: 30 });
    expect(local(clockStart('09:00', now) as number)).toMatchObject({ day: 2, hour: 9, minute: 0 });
  });

  it('takes a local date and time ahead, and refuses one in the past or a malformed one', () => {
    expect(new Date(clockStart('2027-03-28T01:30', now) as number).toISOString()).toBe(
      '2027-03-28T00:30:00.000Z',
    );
    expect(() => clockStart('2026-11-30T10:00', now)).toThrow(/past/);
    expect(() => clockStart('someday 10:00', now)).toThrow(/weekday/);
    expect(() => clockStart('25:00', now)).toThrow(/TEST_CLOCK_START/);
  });

  it('names moments relative to the clock: tomorrow 03:00 is Wednesday 03:00 on a Tuesday', () => {
    expect(weeklyMomentAfter(now, BERLIN, 1, 180)).toEqual({ day: 2, minute: 180 });
    expect(weeklyMomentAfter(now, BERLIN, 6, 600)).toEqual({ day: 0, minute: 600 });
    // Across the spring-forward gap a time that does not exist moves on by the gap.
    const beforeDst = fromLocal({ year: 2027, month: 3, day: 27, hour: 23, minute: 30 }, BERLIN);
    expect(weeklyMomentAfter(beforeDst, BERLIN, 1, 150)).toEqual({ day: 6, minute: 210 });
  });
});
