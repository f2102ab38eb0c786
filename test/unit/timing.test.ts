import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  downloadWindow,
  drawDownloadMoment,
  drawWeeklyCheckMoment,
  formatWeeklyMoment,
  fromLocal,
  nextWeeklyOccurrence,
  parseWeeklyMoment,
  toLocal,
  weekdayOf,
} from '../../domain/timing.ts';

const BERLIN = 'Europe/Berlin';
const NEW_YORK = 'America/New_York';
const iso = (ms: number) => new Date(ms).toISOString();
const seq = (...values: number[]) => {
  let i = 0;
  return () => values[i++ % values.length] as number;
};

describe('local time conversion', () => {
  it('round-trips ordinary wall-clock times', () => {
    const ms = fromLocal({ year: 2026, month: 7, day: 15, hour: 14, minute: 30 }, BERLIN);
    expect(iso(ms)).toBe('2026-07-15T12:30:00.000Z');
    expect(toLocal(ms, BERLIN)).toMatchObject({ hour: 14, minute: 30, day: 15 });
  });

  it('moves a time in the spring-forward gap forward by the gap (Berlin 2026-03-29 02:30 → 03:30 CEST)', () => {
    const ms = fromLocal({ year: 2026, month: 3, day: 29, hour: 2, minute: 30 }, BERLIN);
    expect(iso(ms)).toBe('2026-03-29T01:30:00.000Z');
    expect(toLocal(ms, BERLIN)).toMatchObject({ hour: 3, minute: 30 });
  });

  it('takes the earlier instant of a time that exists twice (Berlin 2026-10-25 02:30 CEST)', () => {
    const ms = fromLocal({ year: 2026, month: 10, day: 25, hour: 2, minute: 30 }, BERLIN);
    expect(iso(ms)).toBe('2026-10-25T00:30:00.000Z');
  });

  it('knows weekdays (0 = Monday)', () => {
    expect(weekdayOf(2026, 11, 23)).toBe(0);
    expect(weekdayOf(2026, 11, 29)).toBe(6);
  });
});

describe('R9: weekly check moment', () => {
  it('R9: is drawn within the week and before 18:00 so the download window lies ahead', () => {
    expect(drawWeeklyCheckMoment(seq(0, 0))).toEqual({ day: 0, minute: 0 });
    expect(drawWeeklyCheckMoment(seq(0.999999, 0.999999))).toEqual({ day: 6, minute: 18 * 60 - 1 });
    for (let i = 0; i < 500; i++) {
      const m = drawWeeklyCheckMoment(Math.random);
      expect(m.day).toBeGreaterThanOrEqual(0);
      expect(m.day).toBeLessThanOrEqual(6);
      expect(m.minute).toBeGreaterThanOrEqual(0);
      expect(m.minute).toBeLessThan(18 * 60);
    }
  });

  it('R9: the next occurrence is strictly after the given instant, on the right weekday and local time', () => {
    // Thursday 2026-11-26 10:00 Berlin; moment Wednesday 09:15 → next Wednesday 2026-12-02.
    const now = fromLocal({ year: 2026, month: 11, day: 26, hour: 10, minute: 0 }, BERLIN);
    const next = nextWeeklyOccurrence({ day: 2, minute: 9 * 60 + 15 }, BERLIN, now);
    expect(iso(next)).toBe('2026-12-02T08:15:00.000Z');
    // Exactly at the moment → one week later.
    expect(nextWeeklyOccurrence({ day: 2, minute: 555 }, BERLIN, next) - next).toBe(7 * 24 * 3600_000);
  });

  it('R9: keeps local wall time across the spring DST change (167 h between two checks)', () => {
    const before = fromLocal({ year: 2026, month: 3, day: 23, hour: 9, minute: 0 }, BERLIN); // Monday CET
    const after = nextWeeklyOccurrence({ day: 0, minute: 540 }, BERLIN, before);
    expect(iso(after)).toBe('2026-03-30T07:00:00.000Z'); // Monday 09:00 CEST
    expect((after - before) / 3600_000).toBe(167);
  });

  it('R9: keeps local wall time across the autumn DST change (169 h) in New York too', () => {
    const before = fromLocal({ year: 2026, month: 10, day: 31, hour: 6, minute: 0 }, NEW_YORK); // Saturday EDT
    const after = nextWeeklyOccurrence({ day: 5, minute: 360 }, NEW_YORK, before);
    expect(toLocal(after, NEW_YORK)).toMatchObject({ year: 2026, month: 11, day: 7, hour: 6, minute: 0 });
    expect((after - before) / 3600_000).toBe(169);
  });

  it('R9: a moment inside the spring gap still fires once that week, just after the gap', () => {
    const sat = fromLocal({ year: 2026, month: 3, day: 28, hour: 12, minute: 0 }, BERLIN);
    const next = nextWeeklyOccurrence({ day: 6, minute: 2 * 60 + 30 }, BERLIN, sat);
    expect(toLocal(next, BERLIN)).toMatchObject({ day: 29, hour: 3, minute: 30 });
  });
});

describe('R10: download window 20:00–23:00 on the day of the check', () => {
  it('R10: lies on the same local day as the check, in the PBX time zone', () => {
    const check = fromLocal({ year: 2026, month: 7, day: 15, hour: 9, minute: 12 }, NEW_YORK);
    const w = downloadWindow(check, NEW_YORK);
    expect(toLocal(w.start, NEW_YORK)).toMatchObject({ day: 15, hour: 20, minute: 0 });
    expect(toLocal(w.end, NEW_YORK)).toMatchObject({ day: 15, hour: 23, minute: 0 });
  });

  it('R10: is three hours long even on DST-change days', () => {
    for (const day of [29, 28, 30]) {
      const check = fromLocal({ year: 2026, month: 3, day, hour: 1, minute: 0 }, BERLIN);
      const w = downloadWindow(check, BERLIN);
      expect(w.end - w.start).toBe(3 * 3600_000);
    }
  });

  it('R10: a drawn moment falls in [20:00, 23:00) local', () => {
    const check = fromLocal({ year: 2026, month: 10, day: 25, hour: 4, minute: 0 }, BERLIN);
    for (const r of [0, 0.25, 0.5, 0.999999]) {
      const at = drawDownloadMoment(check, BERLIN, () => r);
      const l = toLocal(at, BERLIN);
      expect(l.day).toBe(25);
      expect(l.hour).toBeGreaterThanOrEqual(20);
      expect(l.hour).toBeLessThan(23);
    }
  });

  it('R10: a check that ran late, inside the window, downloads in the rest of the window', () => {
    const check = fromLocal({ year: 2026, month: 7, day: 15, hour: 21, minute: 30 }, BERLIN);
    const w = downloadWindow(check, BERLIN);
    expect(w.start).toBe(check);
    expect(toLocal(w.end, BERLIN)).toMatchObject({ hour: 23, minute: 0 });
  });

  it('R10: a check that ran after 23:00 waits for the next evening rather than leave the window', () => {
    const check = fromLocal({ year: 2026, month: 7, day: 15, hour: 23, minute: 30 }, BERLIN);
    expect(toLocal(downloadWindow(check, BERLIN).start, BERLIN)).toMatchObject({ day: 16, hour: 20 });
  });
});

describe('R11: the admin weekly moment as the API writes it', () => {
  it('R11: parses and formats weekday + HH:MM', () => {
    expect(parseWeeklyMoment({ weekday: 'Sunday', time: '03:05' })).toEqual({ day: 6, minute: 185 });
    expect(formatWeeklyMoment({ day: 6, minute: 185 })).toEqual({ weekday: 'sunday', time: '03:05' });
  });

  it.each([
    [{ weekday: 'someday', time: '03:00' }, /weekday/],
    [{ weekday: 'monday', time: '24:00' }, /time/],
    [{ weekday: 'monday', time: '3:00' }, /time/],
  ])('R11: refuses %o', (input, msg) => {
    expect(() => parseWeeklyMoment(input)).toThrow(msg);
  });
});

describe('R10: the window edges, exactly', () => {
  const check = fromLocal({ year: 2026, month: 12, day: 8, hour: 10, minute: 0 }, BERLIN);

  it('R10: the lowest draw is 20:00:00 sharp and the highest the last second before 23:00', () => {
    expect(
      toLocal(
        drawDownloadMoment(check, BERLIN, () => 0),
        BERLIN,
      ),
    ).toMatchObject({
      day: 8,
      hour: 20,
      minute: 0,
      second: 0,
    });
    expect(
      toLocal(
        drawDownloadMoment(check, BERLIN, () => 1 - Number.EPSILON),
        BERLIN,
      ),
    ).toMatchObject({
      day: 8,
      hour: 22,
      minute: 59,
      second: 59,
    });
  });

  it('R10: for any check moment of R9 in any zone and any draw, the download is that local day in [20:00, 23:00)', () => {
    const zones = [
      'Europe/Berlin',
      'America/New_York',
      'Asia/Kolkata',
      'Australia/Lord_Howe',
      'Pacific/Chatham',
    ];
    fc.assert(
      fc.property(
        fc.integer({ min: Date.UTC(2026, 0, 1), max: Date.UTC(2036, 0, 1) }),
        fc.constantFrom(...zones),
        fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }),
        (instant, zone, r) => {
          // A weekly check moment R9 can draw: local [00:00, 18:00).
          const l = toLocal(instant, zone);
          if (l.hour >= 18) return;
          const at = drawDownloadMoment(instant, zone, () => r);
          const d = toLocal(at, zone);
          expect([d.year, d.month, d.day]).toEqual([l.year, l.month, l.day]);
          expect(d.hour * 60 + d.minute).toBeGreaterThanOrEqual(20 * 60);
          expect(d.hour * 60 + d.minute).toBeLessThan(23 * 60);
          expect(at).toBeGreaterThan(instant);
        },
      ),
      { numRuns: 2000 },
    );
  });

  it('R9/R11: for any moment and zone, the next weekly occurrence is the right local weekday and time, within a week', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: Date.UTC(2026, 0, 1), max: Date.UTC(2036, 0, 1) }),
        fc.constantFrom('Europe/Berlin', 'America/New_York', 'Australia/Sydney'),
        fc.integer({ min: 0, max: 6 }),
        fc.integer({ min: 0, max: 1439 }),
        (after, zone, day, minute) => {
          const next = nextWeeklyOccurrence({ day, minute }, zone, after);
          expect(next).toBeGreaterThan(after);
          expect(next - after).toBeLessThanOrEqual(8 * 24 * 3600_000);
          const l = toLocal(next, zone);
          expect(weekdayOf(l.year, l.month, l.day)).toBe(day);
          // A moment inside a spring-forward gap moves on by the gap; otherwise the wall time is exact.
          const wall = l.hour * 60 + l.minute;
          expect(wall === minute || (wall > minute && wall - minute <= 60)).toBe(true);
        },
      ),
      { numRuns: 2000 },
    );
  });
});
