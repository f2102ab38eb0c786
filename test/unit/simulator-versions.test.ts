import { describe, expect, it } from 'vitest';
import { compareVersions } from '../../domain/versions.ts';
import { olderVersionThan } from '../../simulator/fleet-from-db.ts';

describe('simulated phones start on an older firmware than the catalog offers', () => {
  it.each([
    ['96.86.0.70', '96.86.0.35'],
    ['10.1.184.15', '10.1.184.7'],
    ['1.0.63.3', '1.0.63.1'],
    ['2.65.0', '2.64.0'],
  ])('%s → %s', (v, older) => {
    expect(olderVersionThan(v)).toBe(older);
    expect(compareVersions(older, v)).toBeLessThan(0);
  });
});
