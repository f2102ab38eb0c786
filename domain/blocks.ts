/** R12: when many phones of one type need updating, they go in blocks of 50, one block after another. */
export const BLOCK_SIZE = 50;
/** How long a block waits for its phones to come back on the target (the block activity's deadline). */
export const BLOCK_TIMEOUT_MS = 10 * 60_000;

export function rolloutBlocks<T>(phones: readonly T[], size: number = BLOCK_SIZE): T[][] {
  if (!Number.isInteger(size) || size < 1)
    throw new RangeError(`block size must be a positive integer, got ${size}`);
  const blocks: T[][] = [];
  for (let i = 0; i < phones.length; i += size) blocks.push(phones.slice(i, i + size));
  return blocks;
}
