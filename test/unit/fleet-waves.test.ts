/** Issue 13: fleet rollouts in waves (domain/fleet-waves.ts). */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  endOfFleet,
  type FleetPbxState,
  parseWaveSize,
  planWaves,
  type WaveSize,
  waveOver,
  waveSucceeded,
} from '../../domain/fleet-waves.ts';
import { reason } from '../../domain/reasons.ts';
import { allowsDowngrade } from '../../domain/vendors.ts';

const ids = (n: number) => Array.from({ length: n }, (_, i) => `p${i + 1}`);

describe('issue 13: waves across PBXes', () => {
  it('issue 13: 1 PBX, then 10 %, then the rest', () => {
    expect(planWaves(ids(25)).map((w) => w.length)).toEqual([1, 3, 21]);
    expect(planWaves(ids(1))).toEqual([['p1']]);
    expect(planWaves(ids(3), [1, 1])).toEqual([['p1'], ['p2'], ['p3']]);
    expect(planWaves([], [1, 'rest'])).toEqual([]);
    // A size beyond what is left shrinks to it; the last wave takes the rest.
    expect(planWaves(ids(5), [2, 10])).toEqual([
      ['p1', 'p2'],
      ['p3', 'p4', 'p5'],
    ]);
    expect(planWaves(ids(5), [2, 'rest'])).toEqual([
      ['p1', 'p2'],
      ['p3', 'p4', 'p5'],
    ]);
  });

  it('issue 13: wave sizes are a count, a percentage or "rest"', () => {
    expect(parseWaveSize('10%')).toBe('10%');
    expect(parseWaveSize(' 3 ')).toBe(3);
    expect(parseWaveSize('rest')).toBe('rest');
    for (const bad of ['0', '0%', '101%', '-1', 'all', '1.5'])
      expect(() => parseWaveSize(bad)).toThrow(
        new RangeError(
          `a wave is a number of PBXes (1..9999), a percentage (1%..100%) or "rest", got ${String(bad).trim()}`,
        ),
      );
  });

  it('issue 13 (property): every PBX in exactly one wave, in the order given, no wave empty', () => {
    const size = fc.oneof(
      fc.integer({ min: 1, max: 20 }),
      fc.integer({ min: 1, max: 100 }).map((p) => `${p}%` as WaveSize),
      fc.constant<WaveSize>('rest'),
    );
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 120 }),
        fc.array(size, { minLength: 1, maxLength: 6 }),
        (n, sizes) => {
          const waves = planWaves(ids(n), sizes);
          expect(waves.flat()).toEqual(ids(n));
          for (const w of waves) expect(w.length).toBeGreaterThan(0);
        },
      ),
    );
  });

  const rollout = (pbxId: string, status: FleetPbxState['status']): FleetPbxState => ({
    pbxId,
    wave: 1,
    state: 'rollout',
    status,
    rolloutId: `r-${pbxId}`,
    reason: null,
  });
  const skipped = (pbxId: string, code: 'all-current' | 'automatic-off'): FleetPbxState => ({
    pbxId,
    wave: 1,
    state: 'skipped',
    status: null,
    rolloutId: null,
    reason: reason(code, { version: '1' }),
  });

  it('issue 13: a wave succeeds only when every rollout it started completed; skipped PBXes do not fail it', () => {
    expect(waveSucceeded([rollout('a', 'completed'), skipped('b', 'automatic-off')])).toBe(true);
    expect(waveSucceeded([rollout('a', 'completed'), rollout('b', 'completed-with-failures')])).toBe(false);
    expect(waveSucceeded([skipped('a', 'all-current'), skipped('b', 'automatic-off')])).toBe(true);
  });

  it('issue 13: a wave in which no PBX got to the version (all skipped for R8) proves nothing and does not let the next wave start', () => {
    expect(waveSucceeded([skipped('a', 'automatic-off'), skipped('b', 'automatic-off')])).toBe(false);
    expect(waveSucceeded([skipped('a', 'automatic-off')])).toBe(false);
    // Fleet rollouts recorded before this rule replay with the rule they ran under.
    expect(waveSucceeded([skipped('a', 'automatic-off')], false)).toBe(true);
  });

  it('issue 13: a wave is over when every PBX of it was skipped or its rollout ended; pending or running is not over', () => {
    expect(waveOver([rollout('a', 'completed'), skipped('b', 'automatic-off')])).toBe(true);
    expect(waveOver([rollout('a', 'failed'), rollout('b', 'cancelled')])).toBe(true);
    expect(waveOver([rollout('a', 'completed'), rollout('b', 'running')])).toBe(false);
    expect(waveOver([rollout('a', 'paused')])).toBe(false);
    expect(waveOver([rollout('a', null)])).toBe(false);
    expect(waveOver([{ ...rollout('a', null), state: 'pending' }])).toBe(false);
    expect(waveOver([])).toBe(true);
  });

  it('issue 13: a PBX skipped as already current counts as on the version; a pending one does not succeed a wave', () => {
    const someUnknown = {
      ...skipped('a', 'all-current'),
      reason: reason('all-current-some-unknown', { version: '1' }),
    };
    expect(endOfFleet([someUnknown, rollout('b', 'completed')])).toBe('completed');
    expect(endOfFleet([{ ...skipped('a', 'all-current'), reason: null }])).toBe('failed');
    expect(waveSucceeded([{ ...rollout('a', null), state: 'pending' }, rollout('b', 'completed')])).toBe(
      false,
    );
    expect(waveSucceeded([rollout('a', 'running'), rollout('b', 'completed')])).toBe(false);
  });

  it('issue 13: a fleet ends by what its PBXes did', () => {
    expect(endOfFleet([rollout('a', 'completed'), skipped('b', 'all-current')])).toBe('completed');
    expect(endOfFleet([rollout('a', 'completed'), skipped('b', 'automatic-off')])).toBe(
      'completed-with-failures',
    );
    expect(endOfFleet([rollout('a', 'failed'), skipped('b', 'automatic-off')])).toBe('failed');
    // Some phones got there: neither completed nor failed.
    expect(endOfFleet([rollout('a', 'completed-with-failures'), rollout('b', 'failed')])).toBe(
      'completed-with-failures',
    );
    expect(endOfFleet([rollout('a', 'completed-with-failures')])).toBe('completed-with-failures');
  });

  it('issue 13: Gigaset only upgrades; the others may be downgraded', () => {
    expect(allowsDowngrade('gigaset')).toBe(false);
    expect(['yealink', 'snom', 'grandstream'].every(allowsDowngrade)).toBe(true);
    expect(allowsDowngrade('unknown-vendor')).toBe(false);
  });
});
