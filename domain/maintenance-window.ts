/**
 * A PBX's maintenance window (issue 13): the local time of day in which phones may be updated, e.g. 22:00–05:00.
 * A window whose end lies before its start runs across midnight; one whose end equals its start is the whole day
 * from that time (00:00–00:00: always open, like the API's schema allows). All times are the PBX's own wall-clock times and
 * stay right across daylight-saving changes: a local time that does not exist (the spring-forward gap) moves
 * forward by the gap, one that exists twice (fall-back) is its first instant (domain/timing.ts fromLocal).
 */
import { atLocalMinute } from './timing.ts';

export interface MaintenanceWindow {
  /** Minutes after local midnight, 0..1439. */
  startMinute: number;
  /** Minutes after local midnight, 0..1439; at or before `startMinute` = the window ends on the next day. */
  endMinute: number;
}

export type WindowState = { open: true; closesAt: number } | { open: false; opensAt: number };

export function assertWindow(w: MaintenanceWindow): void {
  for (const m of [w.startMinute, w.endMinute]) {
    if (!Number.isInteger(m) || m < 0 || m > 1439)
      throw new RangeError(`a window's times are minutes 0..1439, got ${m}`);
  }
}

/** The window's occurrence that starts on the local date of `epochMs` shifted by `dayOffset` days. */
function occurrence(epochMs: number, timeZone: string, w: MaintenanceWindow, dayOffset: number) {
  const start = atLocalMinute(epochMs, timeZone, w.startMinute, dayOffset);
  const endOffset = w.endMinute > w.startMinute ? dayOffset : dayOffset + 1;
  const end = atLocalMinute(epochMs, timeZone, w.endMinute, endOffset);
  return { start, end };
}

/**
 * Whether the window is open at `now`, and until when; or when it opens next. An occurrence a DST change makes
 * empty (a window inside the skipped hour) does not count.
 */
export function windowAt(now: number, timeZone: string, w: MaintenanceWindow): WindowState {
  assertWindow(w);
  let opensAt = Number.POSITIVE_INFINITY;
  for (let d = -1; d <= 2; d++) {
    const { start, end } = occurrence(now, timeZone, w, d);
    if (end <= start) continue;
    if (start <= now && now < end) return { open: true, closesAt: end };
    if (start > now && start < opensAt) opensAt = start;
  }
  if (!Number.isFinite(opensAt)) throw new Error('unreachable: a window opens within two days');
  return { open: false, opensAt };
}

/** The earliest moment at or after `at` when the window is open (`at` itself when it is open then). */
export function nextOpenAt(at: number, timeZone: string, w: MaintenanceWindow | null): number {
  if (!w) return at;
  const s = windowAt(at, timeZone, w);
  return s.open ? at : s.opensAt;
}

/** `{ startMinute: 1320, endMinute: 300 }` → `22:00`, `05:00`. */
export function formatMinute(minute: number): string {
  return `${String(Math.floor(minute / 60)).padStart(2, '0')}:${String(minute % 60).padStart(2, '0')}`;
}

export function parseMinute(hhmm: string): number {
  const m = /^([01]\d|2[0-3]):([0-5]\d)$/.exec(hhmm);
  if (!m) throw new RangeError('a time of day is HH:MM, 00:00 to 23:59');
  return Number(m[1]) * 60 + Number(m[2]);
}
