/**
 * R9/R10/R11 at the edges of the timing rules: weekly moments out of range are refused, the download window's
 * last minute, a random source at its bound, milliseconds of instants before 1970, and unknown zones.
 */
import { describe, expect, it } from 'vitest';
import {
  downloadWindow,
  drawWeeklyCheckMoment,
  formatWeeklyMoment,
  fromLocal,
  isValidTimeZone,
  nextWeeklyOccurrence,
  parseWeeklyMoment,
  toLocal,
} from '../../domain/timing.ts';

const BERLIN = 'Europe/Berlin';

describe('R9/R11: weekly moments are a weekday 0..6 and a minute 0..1439', () => {
  it.each([
    [{ day: -1, minute: 0 }, 'weekday must be 0..6, got -1'],
    [{ day: 7, minute: 0 }, 'weekday must be 0..6, got 7'],
    [{ day: 1.5, minute: 0 }, 'weekday must be 0..6, got 1.5'],
    [{ day: Number.NaN, minute: 0 }, 'weekday must be 0..6, got NaN'],
    [{ day: 0, minute: -1 }, 'minute of day must be 0..1439, got -1'],
    [{ day: 0, minute: 1440 }, 'minute of day must be 0..1439, got 1440'],
    [{ day: 0, minute: 0.5 }, 'minute of day must be 0..1439, got 0.5'],
  ])('R11: %j is refused', (m, message) => {
    expect(() => formatWeeklyMoment(m)).toThrow(new RangeError(message));
    expect(() => nextWeeklyOccurrence(m, BERLIN, 0)).toThrow(new RangeError(message));
  });

  it('R11: the bounds themselves are moments', () => {
    expect(formatWeeklyMoment({ day: 0, minute: 0 })).toEqual({ weekday: 'monday', time: '00:00' });
    expect(formatWeeklyMoment({ day: 6, minute: 1439 })).toEqual({ weekday: 'sunday', time: '23:59' });
  });

  it('R11: parsing takes HH:MM and a weekday name only, and says what it expects', () => {
    for (const time of ['x03:05', '03:05x', '3:05', '24:00', '03:60', ' 03:05']) {
      expect(() => parseWeeklyMoment({ weekday: 'monday', time }), time).toThrow(
        new RangeError('time must be HH:MM (00:00–23:59)'),
      );
    }
    expect(() => parseWeeklyMoment({ weekday: 'someday', time: '03:05' })).toThrow(
      new RangeError('weekday must be one of monday, tuesday, wednesday, thursday, friday, saturday, sunday'),
    );
    expect(parseWeeklyMoment({ weekday: 'MONDAY', time: '23:59' })).toEqual({ day: 0, minute: 1439 });
  });

  it('R9: a random source that returns its upper bound still draws a moment before 18:00 on a real weekday', () => {
    expect(drawWeeklyCheckMoment(() => 1)).toEqual({ day: 6, minute: 17 * 60 + 59 });
    expect(drawWeeklyCheckMoment(() => 0)).toEqual({ day: 0, minute: 0 });
  });
});

describe('R10: the last minute of the download window', () => {
  it('R10: a check at 22:59 local or later gets the next day’s window (less than a minute is no window)', () => {
    for (const [hour, minute, second] of [
      [22, 59, 0],
      [22, 59, 30],
    ] as const) {
      const check = fromLocal({ year: 2026, month: 7, day: 15, hour, minute, second }, BERLIN);
      const w = downloadWindow(check, BERLIN);
      expect(toLocal(w.start, BERLIN)).toMatchObject({ day: 16, hour: 20, minute: 0 });
      expect(toLocal(w.end, BERLIN)).toMatchObject({ day: 16, hour: 23, minute: 0 });
    }
    const check = fromLocal({ year: 2026, month: 7, day: 15, hour: 22, minute: 58, second: 59 }, BERLIN);
    expect(downloadWindow(check, BERLIN)).toEqual({
      start: check,
      end: fromLocal({ year: 2026, month: 7, day: 15, hour: 23, minute: 0 }, BERLIN),
    });
  });
});

describe('R10: local time, its milliseconds and its zones', () => {
  it('keeps the milliseconds of an instant, also before 1970', () => {
    expect(toLocal(1_234, 'UTC')).toMatchObject({ second: 1, millisecond: 234 });
    expect(toLocal(-1, 'UTC')).toMatchObject({
      year: 1969,
      month: 12,
      day: 31,
      second: 59,
      millisecond: 999,
    });
    expect(toLocal(-1_500, 'UTC')).toMatchObject({ second: 58, millisecond: 500 });
  });

  it('knows the IANA zones and refuses other names', () => {
    expect(isValidTimeZone(BERLIN)).toBe(true);
    expect(isValidTimeZone('UTC')).toBe(true);
    expect(isValidTimeZone('Mars/Olympus_Mons')).toBe(false);
    expect(isValidTimeZone('')).toBe(false);
  });
});
