/**
 * How carefully a rollout goes (issue 13): the canary, the error threshold that halts it, and how often a failed
 * phone is tried again. Defaults here; a PBX may set its own, a single rollout may set its canary. Pure: the
 * workflow judges every block with these functions, the API and the page show the same numbers.
 */
import { BLOCK_SIZE } from './blocks.ts';
import { type Reason, reason } from './reasons.ts';
import { isReleaseFailure, type PhoneOutcome } from './rollout.ts';

export interface RolloutPolicy {
  /** Phones in the first block (the canary); the blocks of 50 (R12) start only when it succeeded. 1..50. */
  canarySize: number;
  /** A block in which more than this percentage of the phones offered the firmware failed halts the rollout. */
  haltFailedPercent: number;
  /** This many blocks in a row with at least one failed phone halt the rollout. */
  haltFailedBlocksInRow: number;
  /** Attempts per phone (the first one included); a phone that failed all of them is parked. */
  maxAttempts: number;
  /** Wait before the second attempt; each further attempt waits `retryBackoffFactor` times longer. */
  retryBackoffMs: number;
  retryBackoffFactor: number;
}

export const MAX_CANARY_SIZE = BLOCK_SIZE;

export const DEFAULT_ROLLOUT_POLICY: RolloutPolicy = {
  canarySize: 5,
  haltFailedPercent: 10,
  haltFailedBlocksInRow: 2,
  maxAttempts: 3,
  retryBackoffMs: 5 * 60_000,
  retryBackoffFactor: 3,
};

/** Bounds of each setting, as the API documents and checks them. */
export const POLICY_LIMITS = {
  canarySize: { min: 1, max: MAX_CANARY_SIZE },
  haltFailedPercent: { min: 0, max: 100 },
  haltFailedBlocksInRow: { min: 1, max: 100 },
  maxAttempts: { min: 1, max: 10 },
} as const;

export type PolicySettings = Partial<
  Pick<RolloutPolicy, 'canarySize' | 'haltFailedPercent' | 'haltFailedBlocksInRow' | 'maxAttempts'>
>;

/** The policy of one rollout: its own canary, else the PBX's settings, else the defaults. */
export function resolvePolicy(pbx: PolicySettings = {}, rollout: PolicySettings = {}): RolloutPolicy {
  const pick = <K extends keyof PolicySettings>(k: K): number => {
    const v = rollout[k] ?? pbx[k] ?? DEFAULT_ROLLOUT_POLICY[k];
    const { min, max } = POLICY_LIMITS[k];
    if (!Number.isInteger(v) || v < min || v > max) {
      throw new RangeError(`${k} must be an integer from ${min} to ${max}, got ${v}`);
    }
    return v;
  };
  return {
    ...DEFAULT_ROLLOUT_POLICY,
    canarySize: pick('canarySize'),
    haltFailedPercent: pick('haltFailedPercent'),
    haltFailedBlocksInRow: pick('haltFailedBlocksInRow'),
    maxAttempts: pick('maxAttempts'),
  };
}

/** What one block did, as the threshold sees it. */
export interface BlockTally {
  /** 1-based, as the page and the journal number blocks. */
  block: number;
  canary: boolean;
  /** Every phone in the block, with the outcome of this attempt. */
  outcomes: Array<{ phoneId: number; outcome: PhoneOutcome }>;
}

export type BlockVerdict =
  | { halt: false; failedBlocksInRow: number }
  | { halt: true; reason: Reason; failedBlocksInRow: number };

/**
 * Whether a rollout may go on after a block of first attempts (the workflow does not judge blocks of retries: their
 * phones counted in their first block). Only release failures count (the phone was offered the firmware and
 * did not come back on it); an offline phone says nothing about the release. The canary must succeed outright:
 * none of its phones failed, and at least one was reached. `failedBlocksInRow` is the streak before this block
 * (an admin's resume starts it again at 0).
 */
export function judgeBlock(
  policy: RolloutPolicy,
  tally: BlockTally,
  failedBlocksInRow: number,
  version: string,
): BlockVerdict {
  const failed = tally.outcomes.filter((o) => isReleaseFailure(o.outcome)).length;
  const offered = tally.outcomes.filter((o) => o.outcome !== 'unreachable').length;
  const streak = failed > 0 ? failedBlocksInRow + 1 : 0;
  if (tally.canary) {
    if (failed > 0) {
      return {
        halt: true,
        failedBlocksInRow: streak,
        reason: reason('canary-failed', { failed, phones: tally.outcomes.length, version }),
      };
    }
    if (offered === 0 && tally.outcomes.length > 0) {
      return {
        halt: true,
        failedBlocksInRow: streak,
        reason: reason('canary-unreached', { phones: tally.outcomes.length }),
      };
    }
  }
  if (failed > 0 && failed * 100 > policy.haltFailedPercent * offered) {
    return {
      halt: true,
      failedBlocksInRow: streak,
      reason: reason('block-failure-rate', {
        failed,
        phones: offered,
        version,
        block: tally.block,
        percent: policy.haltFailedPercent,
      }),
    };
  }
  if (streak >= policy.haltFailedBlocksInRow) {
    return {
      halt: true,
      failedBlocksInRow: streak,
      reason: reason('failed-blocks-in-row', {
        blocks: streak,
        first: tally.block - streak + 1,
        block: tally.block,
      }),
    };
  }
  return { halt: false, failedBlocksInRow: streak };
}

/** How long a phone that failed attempt `attempt` (1-based) waits before the next one. */
export function retryDelayMs(policy: RolloutPolicy, attempt: number): number {
  return Math.round(policy.retryBackoffMs * policy.retryBackoffFactor ** Math.max(0, attempt - 1));
}

/** After a failed attempt: try again at `retryAt`, or park the phone (it had all its attempts). */
export function afterFailedAttempt(
  policy: RolloutPolicy,
  attempt: number,
  failedAt: number,
): { retryAt: number } | { park: true } {
  return attempt >= policy.maxAttempts
    ? { park: true }
    : { retryAt: failedAt + retryDelayMs(policy, attempt) };
}
