/**
 * Moments in a PBX's week: the random weekly check (R9) and the admin's update moment (R11).
 * Day 0 = Monday ... 6 = Sunday; minutes after local midnight in the PBX's own time zone.
 */
import type { WeeklyMoment } from '../workflows/messages.ts';

export const WEEKDAYS = [
  'monday',
  'tuesday',
  'wednesday',
  'thursday',
  'friday',
  'saturday',
  'sunday',
] as const;
export type Weekday = (typeof WEEKDAYS)[number];

/** R10: the download window opens at 20:00 local time on the day of the weekly check. */
export const DOWNLOAD_WINDOW_START_MINUTE = 20 * 60;
/**
 * R9 + R10 "Decided": the check is drawn before 18:00 so the 20:00–23:00 download window lies a few
 * hours ahead of it on the same local day.
 */
export const LATEST_WEEKLY_CHECK_MINUTE = 18 * 60;

/** A uniform random integer in [0, bound); `crypto.randomInt` in production, a fixed sequence in tests. */
export type RandomInt = (bound: number) => number;

/** R9: the PBX's weekly check moment, drawn once at registration and stored; never drawn again. */
export function drawWeeklyCheckMoment(randomInt: RandomInt): WeeklyMoment {
  const day = randomInt(7);
  const minute = randomInt(LATEST_WEEKLY_CHECK_MINUTE);
  if (!Number.isInteger(day) || day < 0 || day > 6) throw new Error(`random source gave day ${day}`);
  if (!Number.isInteger(minute) || minute < 0 || minute >= LATEST_WEEKLY_CHECK_MINUTE) {
    throw new Error(`random source gave minute ${minute}`);
  }
  return { day, minute };
}

const TIME_OF_DAY = /^([01]\d|2[0-3]):([0-5]\d)$/;

/** `"HH:MM"` (24 h) → minutes after midnight, or undefined when it is not a time of day. */
export function parseTimeOfDay(text: string): number | undefined {
  const m = TIME_OF_DAY.exec(text);
  if (!m) return undefined;
  return Number(m[1]) * 60 + Number(m[2]);
}

export function formatTimeOfDay(minute: number): string {
  const h = Math.floor(minute / 60);
  const m = minute % 60;
  return `${String(h).padStart(2, '0')}:${String(m).padStart(2, '0')}`;
}

/** R11 default for a newly registered PBX: Sunday 03:00 local time. */
export const DEFAULT_UPDATE_MOMENT: WeeklyMoment = { day: 6, minute: 3 * 60 };
