/**
 * When things happen (R9, R10, R11), in the PBX's own time zone and correct across daylight-saving changes.
 * Pure functions over epoch milliseconds and IANA zone names; they run inside workflows (deterministic: no clock
 * reads, no randomness of their own — callers pass `now` and a random source).
 */

/** A moment in the week, in a PBX's time zone. */
export interface WeeklyMoment {
  /** 0 = Monday ... 6 = Sunday. */
  day: number;
  /** Minutes after local midnight, 0..1439. */
  minute: number;
}

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

/** R10: the download window, local time. */
export const DOWNLOAD_WINDOW = { startMinute: 20 * 60, endMinute: 23 * 60 } as const;
/** R9 (decided): weekly checks are drawn in [00:00, 18:00) so the 20:00–23:00 window lies hours ahead on the same day. */
export const WEEKLY_CHECK_LATEST_MINUTE = 18 * 60;

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

interface LocalDateTime {
  year: number;
  month: number; // 1..12
  day: number; // 1..31
  hour: number;
  minute: number;
  second: number;
  millisecond: number;
}

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(timeZone: string): Intl.DateTimeFormat {
  let f = formatters.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
    });
    formatters.set(timeZone, f);
  }
  return f;
}

export function isValidTimeZone(timeZone: string): boolean {
  try {
    formatter(timeZone);
    return true;
  } catch {
    return false;
  }
}

/** The wall-clock time in `timeZone` at instant `epochMs`. */
export function toLocal(epochMs: number, timeZone: string): LocalDateTime {
  const parts: Record<string, number> = {};
  for (const p of formatter(timeZone).formatToParts(new Date(epochMs))) {
    if (p.type !== 'literal') parts[p.type] = Number(p.value);
  }
  return {
    year: parts.year as number,
    month: parts.month as number,
    day: parts.day as number,
    hour: parts.hour as number,
    minute: parts.minute as number,
    second: parts.second as number,
    millisecond: ((epochMs % 1000) + 1000) % 1000,
  };
}

function wallAsUtc(l: LocalDateTime): number {
  return Date.UTC(l.year, l.month - 1, l.day, l.hour, l.minute, l.second, l.millisecond);
}

/** Offset of `timeZone` from UTC at instant `epochMs`, in ms (Berlin in summer: +2 h). */
export function offsetAt(epochMs: number, timeZone: string): number {
  return wallAsUtc(toLocal(epochMs, timeZone)) - epochMs;
}

/**
 * The instant of a local wall-clock time. A time that does not exist (spring-forward gap) moves forward by the
 * length of the gap (02:30 → 03:30 in Berlin); a time that exists twice (fall-back) takes the earlier instant.
 */
export function fromLocal(
  l: Omit<LocalDateTime, 'second' | 'millisecond'> & Partial<LocalDateTime>,
  timeZone: string,
): number {
  const wall = wallAsUtc({ second: 0, millisecond: 0, ...l });
  const before = offsetAt(wall - DAY, timeZone);
  const after = offsetAt(wall + DAY, timeZone);
  const candidates = [wall - before, wall - after]
    .filter((c) => wallAsUtc(toLocal(c, timeZone)) === wall)
    .sort((a, b) => a - b);
  if (candidates.length > 0) return candidates[0] as number;
  // In a gap: interpret with the offset before the transition, which lands after the gap.
  return wall - before;
}

/** Day of week of a local date, 0 = Monday ... 6 = Sunday. */
export function weekdayOf(year: number, month: number, day: number): number {
  const sundayBased = new Date(Date.UTC(year, month - 1, day)).getUTCDay();
  return (sundayBased + 6) % 7;
}

function addDays(year: number, month: number, day: number, n: number) {
  const d = new Date(Date.UTC(year, month - 1, day + n));
  return { year: d.getUTCFullYear(), month: d.getUTCMonth() + 1, day: d.getUTCDate() };
}

/** The instant of local `minute` (minutes after midnight) on the local date of `epochMs`, shifted by `dayOffset` days. */
export function atLocalMinute(epochMs: number, timeZone: string, minute: number, dayOffset = 0): number {
  const l = toLocal(epochMs, timeZone);
  const d = addDays(l.year, l.month, l.day, dayOffset);
  return fromLocal({ ...d, hour: Math.floor(minute / 60), minute: minute % 60 }, timeZone);
}

/**
 * The first instant strictly after `afterMs` at which the local weekday and time equal `moment`.
 * A weekly moment keeps its local wall-clock time across DST changes (the interval is 167 or 169 hours then).
 */
export function nextWeeklyOccurrence(moment: WeeklyMoment, timeZone: string, afterMs: number): number {
  assertWeeklyMoment(moment);
  const l = toLocal(afterMs, timeZone);
  const todayWeekday = weekdayOf(l.year, l.month, l.day);
  const delta = (moment.day - todayWeekday + 7) % 7;
  for (const extra of [0, 7, 14]) {
    const d = addDays(l.year, l.month, l.day, delta + extra);
    const at = fromLocal(
      { ...d, hour: Math.floor(moment.minute / 60), minute: moment.minute % 60 },
      timeZone,
    );
    if (at > afterMs) return at;
  }
  throw new Error('unreachable: no weekly occurrence within three weeks');
}

/**
 * R10: the window [20:00, 23:00) local on the local day of `checkAtMs`. When the check ran so late that the
 * window has begun, the remainder of it; when it has passed, the next day's window (downloads never happen
 * outside 20:00–23:00).
 */
export function downloadWindow(checkAtMs: number, timeZone: string): { start: number; end: number } {
  for (const dayOffset of [0, 1]) {
    const start = atLocalMinute(checkAtMs, timeZone, DOWNLOAD_WINDOW.startMinute, dayOffset);
    const end = atLocalMinute(checkAtMs, timeZone, DOWNLOAD_WINDOW.endMinute, dayOffset);
    if (end - MINUTE > checkAtMs) return { start: Math.max(start, checkAtMs), end };
  }
  throw new Error('unreachable: no download window within two days');
}

/** R10: a moment drawn uniformly in the download window that follows a check at `checkAtMs`. */
export function drawDownloadMoment(checkAtMs: number, timeZone: string, random: () => number): number {
  const { start, end } = downloadWindow(checkAtMs, timeZone);
  // Whole seconds read well in logs and the UI.
  return start + Math.floor(random() * Math.floor((end - start) / 1000)) * 1000;
}

/** R9: the weekly check moment, drawn once per PBX: any day, local time in [00:00, 18:00). */
export function drawWeeklyCheckMoment(random: () => number): WeeklyMoment {
  return {
    day: Math.min(6, Math.floor(random() * 7)),
    minute: Math.min(WEEKLY_CHECK_LATEST_MINUTE - 1, Math.floor(random() * WEEKLY_CHECK_LATEST_MINUTE)),
  };
}

/**
 * R11 (decided): the update moment a new PBX starts with, local time, before its admin picks one: the night after
 * its weekly check's download window, between 01:00 and 05:00.
 */
export const DEFAULT_UPDATE_WINDOW = { startMinute: 1 * 60, endMinute: 5 * 60 } as const;

/**
 * R11: a new PBX's default update moment, drawn once at registration like the R9 check (and stored; the admin
 * may change it): the day after the weekly check, at a random minute of [01:00, 05:00) — so firmware found by the
 * check and downloaded that evening (R10) rolls out a few hours later, at night, and PBXes spread over 7 nights ×
 * 240 minutes instead of all starting their rollouts on the same Sunday 03:00.
 */
export function drawDefaultUpdateMoment(weeklyCheck: WeeklyMoment, random: () => number): WeeklyMoment {
  const { startMinute, endMinute } = DEFAULT_UPDATE_WINDOW;
  const span = endMinute - startMinute;
  return {
    day: (weeklyCheck.day + 1) % 7,
    minute: startMinute + Math.min(span - 1, Math.floor(random() * span)),
  };
}

export function assertWeeklyMoment(m: WeeklyMoment): void {
  if (!Number.isInteger(m.day) || m.day < 0 || m.day > 6)
    throw new RangeError(`weekday must be 0..6, got ${m.day}`);
  if (!Number.isInteger(m.minute) || m.minute < 0 || m.minute > 1439) {
    throw new RangeError(`minute of day must be 0..1439, got ${m.minute}`);
  }
}

/** `{ day: 0, minute: 185 }` ⇄ `{ weekday: 'monday', time: '03:05' }` for the API and the page. */
export function formatWeeklyMoment(m: WeeklyMoment): { weekday: Weekday; time: string } {
  assertWeeklyMoment(m);
  const hh = String(Math.floor(m.minute / 60)).padStart(2, '0');
  const mm = String(m.minute % 60).padStart(2, '0');
  return { weekday: WEEKDAYS[m.day] as Weekday, time: `${hh}:${mm}` };
}

export function parseWeeklyMoment(input: { weekday: string; time: string }): WeeklyMoment {
  const day = WEEKDAYS.indexOf(input.weekday.toLowerCase() as Weekday);
  if (day < 0) throw new RangeError(`weekday must be one of ${WEEKDAYS.join(', ')}`);
  const m = /^([01]\d|2[0-3]):([0-5]\d)$/.exec(input.time);
  if (!m) throw new RangeError('time must be HH:MM (00:00–23:59)');
  return { day, minute: Number(m[1]) * 60 + Number(m[2]) };
}

/**
 * An instant as the PBX's admin reads it: weekday, local date and time, and the zone with its offset at that instant
 * ("Sun 2026-12-06 03:00 Europe/Berlin (UTC+01:00)"). Used where a human reads times outside the page, e.g. the
 * Temporal UI's current details and timer summaries.
 */
export function formatLocal(epochMs: number, timeZone: string): string {
  const l = toLocal(epochMs, timeZone);
  const day = SHORT_DAYS[weekdayOf(l.year, l.month, l.day)];
  const offsetMin = Math.round(offsetAt(epochMs, timeZone) / 60_000);
  const sign = offsetMin < 0 ? '-' : '+';
  const abs = Math.abs(offsetMin);
  return `${day} ${l.year}-${pad2(l.month)}-${pad2(l.day)} ${pad2(l.hour)}:${pad2(l.minute)} ${timeZone} (UTC${sign}${pad2(Math.floor(abs / 60))}:${pad2(abs % 60)})`;
}

/** Indexed like weekdayOf: 0 = Monday. */
const SHORT_DAYS = ['Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun'] as const;
const pad2 = (n: number) => String(n).padStart(2, '0');
