/**
 * A fleet rollout (issue 13): one model to one version across many PBXes, in waves — e.g. 1 PBX, then 10 %, then
 * the rest. Each wave is a set of per-PBX rollouts under the same thresholds; a wave starts only when the one
 * before it succeeded. Pure: the API plans the waves with these functions, the fleet workflow judges them.
 */
import type { Reason } from './reasons.ts';
import { isFinal, type RolloutEnd, type RolloutStatus } from './rollout.ts';

/** One wave's size: a number of PBXes, a percentage of all selected PBXes (rounded up, at least 1), or the rest. */
export type WaveSize = number | `${number}%` | 'rest';

export const DEFAULT_WAVES: WaveSize[] = [1, '10%', 'rest'];
export const WAVE_SIZE_PATTERN = /^(rest|[1-9][0-9]{0,3}|([1-9][0-9]?|100)%)$/;

export function parseWaveSize(text: string | number): WaveSize {
  const s = String(text).trim();
  if (!WAVE_SIZE_PATTERN.test(s)) {
    throw new RangeError(
      `a wave is a number of PBXes (1..9999), a percentage (1%..100%) or "rest", got ${s}`,
    );
  }
  if (s === 'rest') return 'rest';
  return s.endsWith('%') ? (s as `${number}%`) : Number(s);
}

/**
 * The PBXes of each wave, in the order given: every PBX exactly once, no empty wave. Sizes beyond what is left
 * shrink; PBXes left over after the last size form a last wave ("the rest").
 */
export function planWaves(pbxIds: readonly string[], sizes: readonly WaveSize[] = DEFAULT_WAVES): string[][] {
  const unique = [...new Set(pbxIds)];
  const waves: string[][] = [];
  let at = 0;
  for (const size of sizes) {
    if (at >= unique.length) break;
    const left = unique.length - at;
    const n =
      size === 'rest'
        ? left
        : typeof size === 'number'
          ? size
          : Math.max(1, Math.ceil((Number(size.slice(0, -1)) * unique.length) / 100));
    waves.push(unique.slice(at, at + Math.min(n, left)));
    at += Math.min(n, left);
  }
  if (at < unique.length) waves.push(unique.slice(at));
  return waves;
}

/** How one PBX of a fleet rollout stands: not yet started, skipped (with why), or its rollout. */
export interface FleetPbxState {
  pbxId: string;
  /** 1-based. */
  wave: number;
  state: 'pending' | 'skipped' | 'rollout';
  /** The rollout's word (state `rollout`). */
  status: RolloutStatus | null;
  rolloutId: string | null;
  reason: Reason | null;
}

/**
 * A wave succeeded when every rollout it started ended `completed`. Skipped PBXes (R7/R8 off there, type held,
 * nothing to do) say why and do not fail it — but a wave in which no PBX got to the version (every one skipped
 * for R7/R8, a hold or missing firmware) proved nothing, so it does not let the next wave start
 * (`needsEvidence`; false only for fleet rollouts recorded before that rule).
 */
export function waveSucceeded(pbxes: readonly FleetPbxState[], needsEvidence = true): boolean {
  const noneFailed = pbxes.every(
    (p) => p.state === 'skipped' || (p.state === 'rollout' && p.status === 'completed'),
  );
  return noneFailed && (!needsEvidence || pbxes.some(onTarget));
}

/** A wave is over when no PBX of it is pending or has an open rollout. */
export function waveOver(pbxes: readonly FleetPbxState[]): boolean {
  return pbxes.every(
    (p) => p.state === 'skipped' || (p.state === 'rollout' && p.status !== null && isFinal(p.status)),
  );
}

/** A PBX skipped because its phones of the type already run the version is as good as a completed rollout. */
function onTarget(p: FleetPbxState): boolean {
  return (
    (p.state === 'rollout' && p.status === 'completed') ||
    (p.state === 'skipped' &&
      (p.reason?.code === 'all-current' || p.reason?.code === 'all-current-some-unknown'))
  );
}

/**
 * How a fleet rollout that ran all its waves ended, from its PBXes: completed when every PBX is on the target,
 * failed when no PBX got there (none ran, or none brought a phone to it), completed-with-failures in between.
 */
export function endOfFleet(
  pbxes: readonly FleetPbxState[],
): Extract<RolloutEnd, 'completed' | 'completed-with-failures' | 'failed'> {
  if (pbxes.every(onTarget)) return 'completed';
  const some = pbxes.some(
    (p) => onTarget(p) || (p.state === 'rollout' && p.status === 'completed-with-failures'),
  );
  return some ? 'completed-with-failures' : 'failed';
}
