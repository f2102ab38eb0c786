import { describe, expect, it } from 'vitest';
import { compareVersions, isNewer, newestVersion } from '../../domain/versions.ts';

describe('firmware version order (R6, R10)', () => {
  it.each([
    ['96.86.0.70', '96.86.0.45', 1],
    ['96.86.0.45', '96.86.0.70', -1],
    ['10.1.33.33', '10.1.33.33', 0],
    ['10.1.180.1', '10.1.33.33', 1],
    ['1.0.43.11', '1.0.5.4', 1],
    ['2.65.0', '2.65', 0],
    ['2.65.1', '2.65', 1],
    ['1.0.5-beta', '1.0.5', -1],
  ])('%s vs %s → %i', (a, b, want) => {
    expect(Math.sign(compareVersions(a, b))).toBe(want);
  });

  it('numbers compare as numbers, not text (96.86.0.100 > 96.86.0.99)', () => {
    expect(compareVersions('96.86.0.100', '96.86.0.99')).toBeGreaterThan(0);
  });

  it('picks the newest and treats nothing installed as older than anything', () => {
    expect(newestVersion(['2.43.0', '2.65.0', '2.52.1'])).toBe('2.65.0');
    expect(newestVersion([])).toBeUndefined();
    expect(isNewer('2.65.0', null)).toBe(true);
    expect(isNewer('2.65.0', '2.65.0')).toBe(false);
  });
});
