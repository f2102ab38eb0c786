/**
 * Where the time-skipping server's clock starts. The server starts at the real now; a test that fixes a weekday
 * would pass or fail by the day it runs. Every time-skipping test derives its moments from the server's clock, and
 * `TEST_CLOCK_START` moves that clock (forward only) to a chosen start before each test, so a run can be placed on
 * any weekday or time of day (`npm run test:clock` sweeps all seven weekdays and a late evening).
 *
 *   TEST_CLOCK_START=tuesday 10:00       the next Tuesday 10:00
 *   TEST_CLOCK_START=23:30               the next 23:30
 *   TEST_CLOCK_START=2027-03-28T01:30    that local date and time (must lie ahead)
 *   TEST_CLOCK_ZONE=Europe/Berlin        the zone these are read in (default Europe/Berlin)
 */
import {
  atLocalMinute,
  fromLocal,
  nextWeeklyOccurrence,
  toLocal,
  WEEKDAYS,
  type WeeklyMoment,
  weekdayOf,
} from '../../domain/timing.ts';

export const DEFAULT_CLOCK_ZONE = 'Europe/Berlin';

/** The instant at or after `nowMs` that `spec` names, or null for an empty spec (leave the clock where it is). */
export function clockStart(
  spec: string | undefined,
  nowMs: number,
  timeZone = DEFAULT_CLOCK_ZONE,
): number | null {
  const s = spec?.trim().toLowerCase();
  if (!s) return null;
  const iso = /^(\d{4})-(\d{2})-(\d{2})t(\d{2}):(\d{2})$/.exec(s);
  if (iso) {
    const [, y, mo, d, h, mi] = iso.map(Number) as number[];
    const at = fromLocal(
      { year: y as number, month: mo as number, day: d as number, hour: h as number, minute: mi as number },
      timeZone,
    );
    if (at < nowMs)
      throw new RangeError(`TEST_CLOCK_START ${spec} lies in the past: the test clock only moves forward`);
    return at;
  }
  const m = /^(?:([a-z]+)\s+)?([01]\d|2[0-3]):([0-5]\d)$/.exec(s);
  if (!m) {
    throw new RangeError(
      `TEST_CLOCK_START must be "<weekday> HH:MM", "HH:MM" or "YYYY-MM-DDTHH:MM", got ${JSON.stringify(spec)}`,
    );
  }
  const minute = Number(m[2]) * 60 + Number(m[3]);
  if (m[1] === undefined) {
    const today = atLocalMinute(nowMs, timeZone, minute);
    return today > nowMs ? today : atLocalMinute(nowMs, timeZone, minute, 1);
  }
  const day = WEEKDAYS.findIndex((w) => w.startsWith(m[1] as string));
  if (day < 0 || (m[1] as string).length < 2)
    throw new RangeError(`unknown weekday ${m[1]} in TEST_CLOCK_START`);
  return nextWeeklyOccurrence({ day, minute }, timeZone, nowMs);
}

/**
 * A weekly moment `dayOffset` local days after the local date of `nowMs`, at local `minute`: how a time-skipping
 * test names "tomorrow 03:00" relative to the test server's clock instead of a fixed weekday.
 */
export function weeklyMomentAfter(
  nowMs: number,
  timeZone: string,
  dayOffset: number,
  minute: number,
): WeeklyMoment {
  const at = atLocalMinute(nowMs, timeZone, minute, dayOffset);
  const l = toLocal(at, timeZone);
  return { day: weekdayOf(l.year, l.month, l.day), minute: l.hour * 60 + l.minute };
}
