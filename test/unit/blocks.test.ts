import { describe, expect, it } from 'vitest';
import { BLOCK_SIZE, rolloutBlocks } from '../../domain/blocks.ts';

describe('R12: blocks of 50 phones per type', () => {
  it('R12: 120 phones go out as 50, 50, 20 in their original order', () => {
    const phones = Array.from({ length: 120 }, (_, i) => i + 1);
    const blocks = rolloutBlocks(phones);
    expect(blocks.map((b) => b.length)).toEqual([50, 50, 20]);
    expect(blocks.flat()).toEqual(phones);
    expect(BLOCK_SIZE).toBe(50);
  });

  it('R12: exactly 50 is one block, none is no block', () => {
    expect(rolloutBlocks(Array.from({ length: 50 }, (_, i) => i))).toHaveLength(1);
    expect(rolloutBlocks([])).toEqual([]);
  });

  it('refuses a block size that is not a positive integer', () => {
    expect(() => rolloutBlocks([1], 0)).toThrow(RangeError);
  });
});
