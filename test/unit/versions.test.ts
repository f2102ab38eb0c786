import { describe, expect, it, vi } from 'vitest';
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

describe('version order at its edges (R6, R10)', () => {
  it.each([
    // Suffixes: the plain number is newer than any suffixed one; suffixes compare as text.
    ['1.0.5', '1.0.5-beta', 1],
    ['1.0.5-alpha', '1.0.5-beta', -1],
    ['1.0.5-beta', '1.0.5-alpha', 1],
    ['1.0.5-rc1', '1.0.5-rc1', 0],
    // A segment that is not a number at all compares as text, before or after a number.
    ['1.0', '1.beta', -1],
    ['1.beta', '1.0', 1],
    ['1.alpha', '1.beta', -1],
    ['1.beta', '1.alpha', 1],
    ['1.beta', '1.beta', 0],
    // A number inside a word is not a version number: x10 sorts as text before x5.
    ['1.x10', '1.x5', -1],
    ['1.x5', '1.x10', 1],
    ['1.x3', '1.5', 1],
    ['1.5', '1.x3', -1],
    // A missing segment counts as 0 on either side.
    ['2.65', '2.65.0', 0],
    // Whitespace around a version is not part of it.
    [' 96.86.0.70 ', '96.86.0.70', 0],
    ['96.86.0.70', '\t96.86.0.70\n', 0],
  ])('%j vs %j → %i', (a, b, want) => {
    expect(Math.sign(compareVersions(a, b))).toBe(want);
  });

  it('newestVersion keeps the first of equal versions (2.65 and 2.65.0 are one version)', () => {
    expect(newestVersion(['2.65', '2.65.0'])).toBe('2.65');
    expect(newestVersion(['2.65.0', '2.65'])).toBe('2.65.0');
  });

  it('R1: VERSION_PATTERN takes vendor versions of 2..6 numeric segments, suffixes allowed, nothing else', async () => {
    // Loaded inside the test so the pattern is built while it runs (see catalog-validation.test.ts).
    vi.resetModules();
    const { VERSION_PATTERN: P } = await import('../../domain/versions.ts');
    for (const ok of [
      '96.86.0.70',
      '10.1.33.33',
      '2.65',
      '1.22',
      '1.0.5-beta',
      '1.2.3.4.5.6',
      '124.85.257.55',
    ]) {
      expect(P.test(ok), ok).toBe(true);
    }
    for (const bad of [
      '1',
      '1.2.3.4.5.6.7',
      'v1.2',
      'a.1',
      '1.beta',
      '1.',
      '.1',
      ' 1.2',
      '1.2 ',
      '1.2_3',
      '1..2',
    ]) {
      expect(P.test(bad), bad).toBe(false);
    }
  });
});
