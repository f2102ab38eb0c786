/**
 * What a PBX's lifecycle does next, and when (R9, R10, R11): a pure function of its moments and what already ran.
 * The workflow asks it after every step and sleeps until the answer's moment; tests ask it directly.
 */
import { formatLocal, nextWeeklyOccurrence, type WeeklyMoment } from './timing.ts';

export interface ScheduleState {
  timeZone: string;
  /** R9: drawn once per PBX. */
  weeklyCheck: WeeklyMoment;
  /** When the last weekly check ran (or the lifecycle started). */
  lastWeeklyCheckAt: number;
  /** R10: the drawn evening download moment, while one is pending. */
  pendingDownloadAt: number | null;
  /** R11: the admin's weekly update moment; null = none configured. */
  updateMoment: WeeklyMoment | null;
  /** When the last scheduled update ran (or the moment was set). */
  lastScheduledUpdateAt: number;
}

export type ScheduledStep = 'weekly-check' | 'evening-download' | 'scheduled-update';

export interface Due {
  step: ScheduledStep;
  at: number;
}

/** R9: the next weekly check. */
export function nextWeeklyCheckAt(s: ScheduleState): number {
  return nextWeeklyOccurrence(s.weeklyCheck, s.timeZone, s.lastWeeklyCheckAt);
}

/** R11: the next scheduled update, or null when the admin chose none. */
export function nextScheduledUpdateAt(s: ScheduleState): number | null {
  return s.updateMoment ? nextWeeklyOccurrence(s.updateMoment, s.timeZone, s.lastScheduledUpdateAt) : null;
}

/**
 * Every scheduled step, soonest first. Steps due at the same moment keep the order check → download → update: a
 * check may schedule a download, a download may bring the firmware an update then rolls out.
 */
export function upcomingSteps(s: ScheduleState): Due[] {
  const steps: Due[] = [{ step: 'weekly-check', at: nextWeeklyCheckAt(s) }];
  if (s.pendingDownloadAt !== null) steps.push({ step: 'evening-download', at: s.pendingDownloadAt });
  const update = nextScheduledUpdateAt(s);
  if (update !== null) steps.push({ step: 'scheduled-update', at: update });
  return steps.sort((a, b) => a.at - b.at);
}

const ORDER: ScheduledStep[] = ['weekly-check', 'evening-download', 'scheduled-update'];

/** The step to run now (its moment has come), or null; when several are due, in the order check → download → update. */
export function dueNow(s: ScheduleState, now: number): Due | null {
  const due = upcomingSteps(s).filter((d) => d.at <= now);
  if (due.length === 0) return null;
  return due.sort((a, b) => ORDER.indexOf(a.step) - ORDER.indexOf(b.step))[0] as Due;
}

/** The moment the lifecycle next has something to do. */
export function nextWakeAt(s: ScheduleState): number {
  return (upcomingSteps(s)[0] as Due).at;
}

/** What each scheduled step is called where a human reads it (timer summaries in the Temporal UI). */
export const STEP_NAMES: Record<ScheduledStep, string> = {
  'weekly-check': 'weekly check (R9)',
  'evening-download': 'evening download (R10)',
  'scheduled-update': 'update moment (R11)',
};

/**
 * The summary of the timer the lifecycle sleeps on: which step it wakes for and when, in the PBX's zone
 * ("weekly check (R9) at Tue 2026-12-08 10:00 Europe/Berlin (UTC+01:00)").
 */
export function wakeSummary(s: ScheduleState): string {
  const next = upcomingSteps(s)[0] as Due;
  return `${STEP_NAMES[next.step]} at ${formatLocal(next.at, s.timeZone)}`;
}
