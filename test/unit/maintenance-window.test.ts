/** Issue 13: the maintenance window in the PBX's own time, DST-correct (domain/maintenance-window.ts). */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { formatMinute, nextOpenAt, parseMinute, windowAt } from '../../domain/maintenance-window.ts';
import { fromLocal, toLocal } from '../../domain/timing.ts';

const BERLIN = 'Europe/Berlin';
const at = (y: number, mo: number, d: number, h: number, mi = 0, tz = BERLIN) =>
  fromLocal({ year: y, month: mo, day: d, hour: h, minute: mi }, tz);
const NIGHT = { startMinute: 22 * 60, endMinute: 5 * 60 };

describe('issue 13: maintenance window', () => {
  it('issue 13: 22:00–05:00 is open at night and closed by day, across midnight', () => {
    expect(windowAt(at(2026, 6, 10, 23), BERLIN, NIGHT)).toEqual({
      open: true,
      closesAt: at(2026, 6, 11, 5),
    });
    expect(windowAt(at(2026, 6, 11, 4, 59), BERLIN, NIGHT)).toEqual({
      open: true,
      closesAt: at(2026, 6, 11, 5),
    });
    expect(windowAt(at(2026, 6, 11, 5), BERLIN, NIGHT)).toEqual({
      open: false,
      opensAt: at(2026, 6, 11, 22),
    });
    expect(windowAt(at(2026, 6, 11, 12), BERLIN, NIGHT)).toEqual({
      open: false,
      opensAt: at(2026, 6, 11, 22),
    });
  });

  it('issue 13: a window whose end equals its start is the whole day from that time (the API schema allows it)', () => {
    const allDay = { startMinute: 0, endMinute: 0 };
    for (const h of [0, 7, 12, 23]) {
      const s = windowAt(at(2026, 6, 10, h, 30), BERLIN, allDay);
      expect(s).toEqual({ open: true, closesAt: at(2026, 6, 11, 0) });
    }
    const fromSix = { startMinute: 6 * 60, endMinute: 6 * 60 };
    expect(windowAt(at(2026, 6, 10, 5, 59), BERLIN, fromSix)).toEqual({
      open: true,
      closesAt: at(2026, 6, 10, 6),
    });
    expect(windowAt(at(2026, 6, 10, 6), BERLIN, fromSix)).toEqual({
      open: true,
      closesAt: at(2026, 6, 11, 6),
    });
    expect(nextOpenAt(at(2026, 6, 10, 13), BERLIN, fromSix)).toBe(at(2026, 6, 10, 13));
  });

  it('issue 13: across spring-forward (29 March 2026, Berlin) the night is an hour shorter in real time', () => {
    const s = windowAt(at(2026, 3, 28, 23), BERLIN, NIGHT);
    expect(s).toEqual({ open: true, closesAt: at(2026, 3, 29, 5) });
    if (!s.open) throw new Error('unreachable');
    expect(s.closesAt - at(2026, 3, 28, 22)).toBe(6 * 3_600_000);
    // A window inside the skipped hour (02:00–03:00) does not exist that night: it opens the next one.
    const gap = { startMinute: 120, endMinute: 180 };
    expect(windowAt(at(2026, 3, 29, 1), BERLIN, gap)).toEqual({ open: false, opensAt: at(2026, 3, 30, 2) });
  });

  it('issue 13: across fall-back (25 October 2026, Berlin) the night is an hour longer in real time', () => {
    const s = windowAt(at(2026, 10, 24, 23), BERLIN, NIGHT);
    if (!s.open) throw new Error('expected open');
    expect(s.closesAt - at(2026, 10, 24, 22)).toBe(8 * 3_600_000);
    expect(toLocal(s.closesAt, BERLIN)).toMatchObject({ day: 25, hour: 5, minute: 0 });
  });

  it('issue 13: no window means always open', () => {
    expect(nextOpenAt(123, BERLIN, null)).toBe(123);
  });

  it('issue 13 (property): open exactly when the local time of day lies in the window; opensAt is a start, closesAt an end', () => {
    const zones = ['Europe/Berlin', 'America/New_York', 'Australia/Sydney', 'Asia/Kolkata', 'UTC'];
    fc.assert(
      fc.property(
        fc.integer({ min: Date.UTC(2024, 0, 1), max: Date.UTC(2030, 0, 1) }),
        fc.constantFrom(...zones),
        fc.integer({ min: 0, max: 1439 }),
        fc.integer({ min: 1, max: 1439 }),
        (now, tz, start, len) => {
          const w = { startMinute: start, endMinute: (start + len) % 1440 };
          const l = toLocal(now, tz);
          const minute = l.hour * 60 + l.minute;
          const inside =
            w.startMinute < w.endMinute
              ? minute >= w.startMinute && minute < w.endMinute
              : minute >= w.startMinute || minute < w.endMinute;
          const s = windowAt(now, tz, w);
          if (s.open) {
            expect(s.closesAt).toBeGreaterThan(now);
            // Open up to its end, closed at it.
            expect(windowAt(s.closesAt - 60_000, tz, w).open).toBe(true);
            expect(windowAt(s.closesAt, tz, w).open).toBe(false);
          } else {
            expect(s.opensAt).toBeGreaterThan(now);
            expect(windowAt(s.opensAt, tz, w).open).toBe(true);
            expect(windowAt(s.opensAt - 60_000, tz, w).open).toBe(false);
          }
          // Away from DST transitions, the wall clock decides.
          const offsetSteady = toLocal(now - 3 * 3_600_000, tz).hour === (l.hour + 21) % 24;
          if (offsetSteady) expect(s.open).toBe(inside);
        },
      ),
      { numRuns: 500 },
    );
  });

  it('issue 13: a window with a time outside 00:00..23:59 or not a whole minute is refused, naming the value', () => {
    const now = at(2026, 6, 10, 12);
    for (const bad of [-1, 1440, 1.5, Number.NaN]) {
      expect(() => windowAt(now, BERLIN, { startMinute: bad, endMinute: 60 })).toThrow(
        new RangeError(`a window's times are minutes 0..1439, got ${bad}`),
      );
      expect(() => windowAt(now, BERLIN, { startMinute: 60, endMinute: bad })).toThrow(RangeError);
    }
    for (const ok of [0, 1439])
      expect(() => windowAt(now, BERLIN, { startMinute: ok, endMinute: 600 })).not.toThrow();
  });

  it('issue 13: at the very minute a window starts it is open; a minute before, it opens at that minute', () => {
    const evening = { startMinute: 20 * 60, endMinute: 21 * 60 };
    expect(windowAt(at(2026, 6, 10, 20), BERLIN, evening)).toEqual({
      open: true,
      closesAt: at(2026, 6, 10, 21),
    });
    expect(windowAt(at(2026, 6, 10, 19, 59), BERLIN, evening)).toEqual({
      open: false,
      opensAt: at(2026, 6, 10, 20),
    });
    // After today's window the next one is tomorrow's, not an earlier or later day's.
    expect(windowAt(at(2026, 6, 10, 21), BERLIN, evening)).toEqual({
      open: false,
      opensAt: at(2026, 6, 11, 20),
    });
    expect(windowAt(at(2026, 6, 10, 23, 59), BERLIN, evening)).toEqual({
      open: false,
      opensAt: at(2026, 6, 11, 20),
    });
  });

  it('issue 13: times of day as the API writes them, HH:MM, and back (property)', () => {
    expect(formatMinute(0)).toBe('00:00');
    expect(formatMinute(22 * 60 + 5)).toBe('22:05');
    expect(formatMinute(1439)).toBe('23:59');
    expect(parseMinute('05:30')).toBe(330);
    for (const bad of ['24:00', '7:00', '07:60', '07:00 ', 'x07:00', '0a:00', '07:0a', '']) {
      expect(() => parseMinute(bad)).toThrow(new RangeError('a time of day is HH:MM, 00:00 to 23:59'));
    }
    fc.assert(fc.property(fc.integer({ min: 0, max: 1439 }), (m) => parseMinute(formatMinute(m)) === m));
  });
});
