/**
 * What a rollout is and how it ended, in one vocabulary shared by the workflow (result, current details, search
 * attribute), the database, the API, the page and the journal. Every word is derived from what the phones did:
 * a rollout with a failed phone never reads "completed".
 */
import { type Reason, reason } from './reasons.ts';

/**
 * A rollout's state. Open: `running` (blocks go out), `paused` (an admin paused it, or it waits for its maintenance
 * window: the reason says which), `halted` (the error threshold stopped it: nothing more of the type is touched
 * until an admin resumes or cancels). It then ends in one of the others.
 */
export const ROLLOUT_STATUSES = [
  'running',
  'paused',
  'halted',
  'completed',
  'completed-with-failures',
  'failed',
  'cancelled',
  'refused',
] as const;
export type RolloutStatus = (typeof ROLLOUT_STATUSES)[number];
/** The words of a rollout that has not ended (R12: at most one per PBX and type). */
export const OPEN_ROLLOUT_STATUSES = ['running', 'paused', 'halted'] as const;
export type OpenRolloutStatus = (typeof OPEN_ROLLOUT_STATUSES)[number];
export type RolloutEnd = Exclude<RolloutStatus, OpenRolloutStatus>;

/**
 * What became of one phone of a rollout:
 *   updated          reported the target version after this rollout offered it
 *   already-current  ran the target already when its block came (not notified)
 *   failed-download  started fetching the firmware and did not finish
 *   no-answer        answered the NOTIFY, then never came back on the target
 *   wrong-version    came back on another version
 *   unreachable      no live SIP registration, or the NOTIFY was never answered / refused
 *   not-contacted    never reported a version to the PBX (no registration, no provisioning request): not offered
 *                    firmware, since what it runs is unknown
 *   skipped          its block never ran (the rollout was cancelled or failed before it)
 *   parked           failed every attempt the rollout allowed it (default 3, with backoff between them); keeps its
 *                    last reason, is no longer tried and no longer counts against later blocks; an admin can retry it
 */
export const PHONE_OUTCOMES = [
  'updated',
  'already-current',
  'failed-download',
  'no-answer',
  'wrong-version',
  'unreachable',
  'not-contacted',
  'skipped',
  'parked',
] as const;
export type PhoneOutcome = (typeof PHONE_OUTCOMES)[number];

/** Outcomes that leave the phone on the target: the rollout succeeded for it. */
export function isSettled(outcome: PhoneOutcome): boolean {
  return outcome === 'updated' || outcome === 'already-current';
}

/**
 * Outcomes that say something about the release: the phone was offered the firmware and did not come back on it.
 * A phone that could not be reached (offline, NOTIFY unanswered) was never offered it: it is retried and parked
 * like any failed phone, but it does not count towards halting a rollout (domain/rollout-policy.ts).
 */
export function isReleaseFailure(outcome: PhoneOutcome): boolean {
  return outcome === 'failed-download' || outcome === 'no-answer' || outcome === 'wrong-version';
}

/** Outcomes of a phone that was tried and is not on the target: it may be tried again (retry with backoff). */
export function isRetryable(outcome: PhoneOutcome): boolean {
  return isReleaseFailure(outcome) || outcome === 'unreachable';
}

/** Counts of one rollout, all derived from its per-phone outcomes. */
export interface RolloutCounts {
  /** Every phone the rollout covers: the ones below the target and the ones never contacted. */
  total: number;
  updated: number;
  alreadyCurrent: number;
  /** Phones that were tried and are not on the target (failed-download, no-answer, wrong-version, unreachable, parked). */
  failed: number;
  /** Of `failed`: phones parked after their last attempt. */
  parked: number;
  notContacted: number;
  /** Phones whose block was never run (cancelled or failed before it). */
  skipped: number;
  /** Phones without an outcome yet. */
  pending: number;
}

export function countOutcomes(total: number, outcomes: Iterable<PhoneOutcome>): RolloutCounts {
  const c: RolloutCounts = {
    total,
    updated: 0,
    alreadyCurrent: 0,
    failed: 0,
    parked: 0,
    notContacted: 0,
    skipped: 0,
    pending: 0,
  };
  let known = 0;
  for (const o of outcomes) {
    known++;
    if (o === 'updated') c.updated++;
    else if (o === 'already-current') c.alreadyCurrent++;
    else if (o === 'not-contacted') c.notContacted++;
    else if (o === 'skipped') c.skipped++;
    else {
      c.failed++;
      if (o === 'parked') c.parked++;
    }
  }
  c.pending = Math.max(0, total - known);
  return c;
}

/** Phones with an outcome (the progress bar): everything but pending. */
export function doneOf(c: RolloutCounts): number {
  return c.total - c.pending;
}

/** Percent of the rollout's phones that have an outcome; 100 for an empty rollout that ended. */
export function percentDone(c: RolloutCounts, status: RolloutStatus): number {
  if (c.total === 0) return isFinal(status) ? 100 : 0;
  return Math.min(100, Math.floor((doneOf(c) * 100) / c.total));
}

/**
 * How a rollout that ran to its end (every block run) ended:
 *   completed                every phone on the target (updated or already current)
 *   completed-with-failures  some phones on the target, some not (failed, not contacted)
 *   failed                   phones to update and none of them reached the target
 */
export function endOfCompletedRun(
  c: RolloutCounts,
): Extract<RolloutEnd, 'completed' | 'completed-with-failures' | 'failed'> {
  const onTarget = c.updated + c.alreadyCurrent;
  const missed = c.failed + c.notContacted + c.skipped + c.pending;
  if (missed === 0) return 'completed';
  return onTarget > 0 ? 'completed-with-failures' : 'failed';
}

/** The reason a rollout that ran every block gives for its word (none when every phone is on the target). */
export function reasonOfRun(status: RolloutEnd, c: RolloutCounts, version: string): Reason | null {
  const missed = c.failed + c.notContacted + c.skipped + c.pending;
  if (status === 'failed') return reason('no-phone-updated', { total: c.total, version });
  if (status === 'completed-with-failures')
    return reason('phones-failed', { failed: missed, total: c.total, version });
  return null;
}

/** True for the words that mean the rollout is over. */
export function isFinal(status: RolloutStatus): status is RolloutEnd {
  return !(OPEN_ROLLOUT_STATUSES as readonly string[]).includes(status);
}

/** One line for the Temporal UI, logs and the journal: the same words and numbers the page shows. */
export function describeCounts(c: RolloutCounts): string {
  const parts = [`${c.updated} updated`];
  if (c.alreadyCurrent) parts.push(`${c.alreadyCurrent} already current`);
  parts.push(`${c.failed} failed${c.parked ? ` (${c.parked} parked)` : ''}`);
  if (c.notContacted) parts.push(`${c.notContacted} not contacted`);
  if (c.skipped) parts.push(`${c.skipped} skipped`);
  if (c.pending) parts.push(`${c.pending} pending`);
  return `${parts.join(' · ')} of ${c.total} phones`;
}

/** The one-line summary of a rollout (workflow result, Temporal UI, API): status, counts and why. */
export function summaryLine(
  r: { model: string; targetVersion: string; pbxId: string },
  status: RolloutStatus,
  c: RolloutCounts,
  why: { text: string } | null,
): string {
  return `${r.model} → ${r.targetVersion} on ${r.pbxId}: ${status} · ${describeCounts(c)}${why ? ` · ${why.text}` : ''}`;
}
