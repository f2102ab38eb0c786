import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { parseSize } from '../../firmware-server/cli.ts';
import { firmwareChunks, firmwareHeader, hashFirmware } from '../../firmware-server/content.ts';
import { parseRange } from '../../firmware-server/server.ts';

const file = {
  vendor: 'yealink',
  models: ['yealink-t54w', 'yealink-t57'],
  version: '96.86.0.70',
  fileName: 'T54W-96.86.0.70.rom',
  size: 3 * 1024 * 1024 + 77,
};

const whole = Buffer.concat([...firmwareChunks(file)]);

describe('generated firmware content', () => {
  it('is deterministic, of the stated size, and starts with a readable header', async () => {
    expect(whole).toHaveLength(file.size);
    expect(Buffer.concat([...firmwareChunks(file)]).equals(whole)).toBe(true);
    expect(whole.subarray(0, firmwareHeader(file).length).toString()).toMatch(
      /^PFD-FIRMWARE\/1 vendor=yealink models=yealink-t54w,yealink-t57 version=96\.86\.0\.70 /,
    );
    expect(await hashFirmware(file)).toBe(createHash('sha256').update(whole).digest('hex'));
  });

  it('differs between files', async () => {
    expect(await hashFirmware({ ...file, fileName: 'T54W-96.86.0.71.rom' })).not.toBe(
      await hashFirmware(file),
    );
  });

  it('serves any byte range exactly as the same bytes of the whole file (Range / resume)', () => {
    for (const [a, b] of [
      [0, 0],
      [0, 99],
      [5, 200],
      [15, 16],
      [1_048_575, 1_048_577],
      [2_000_001, file.size - 1],
      [file.size - 1, file.size - 1],
    ] as const) {
      expect(
        Buffer.concat([...firmwareChunks(file, a, b)]).equals(whole.subarray(a, b + 1)),
        `${a}-${b}`,
      ).toBe(true);
    }
  });

  it('yields chunks of at most 1 MiB (never the whole file in memory)', () => {
    for (const c of firmwareChunks(file)) expect(c.length).toBeLessThanOrEqual(1 << 20);
  });

  it('fault injection "wrong bytes" keeps the size but changes the hash', () => {
    const bad = Buffer.concat([...firmwareChunks(file, 0, file.size - 1, { corrupt: true })]);
    expect(bad).toHaveLength(file.size);
    expect(bad.equals(whole)).toBe(false);
  });
});

describe('HTTP Range parsing', () => {
  it('handles the single-range forms of RFC 9110', () => {
    expect(parseRange('bytes=0-99', 1000)).toEqual({ start: 0, end: 99 });
    expect(parseRange('bytes=500-', 1000)).toEqual({ start: 500, end: 999 });
    expect(parseRange('bytes=-100', 1000)).toEqual({ start: 900, end: 999 });
    expect(parseRange('bytes=900-5000', 1000)).toEqual({ start: 900, end: 999 });
    expect(parseRange('bytes=1000-', 1000)).toBe('unsatisfiable');
    expect(parseRange('bytes=-0', 1000)).toBe('unsatisfiable');
    expect(parseRange('bytes=5-1', 1000)).toBeNull();
    expect(parseRange('bytes=0-1,5-6', 1000)).toBeNull();
    expect(parseRange('items=0-1', 1000)).toBeNull();
  });
});

describe('publish --size', () => {
  it('reads bytes and decimal / binary units', () => {
    expect(parseSize('123456')).toBe(123456);
    expect(parseSize('48MB')).toBe(48_000_000);
    expect(parseSize('1.5 GB')).toBe(1_500_000_000);
    expect(parseSize('700MiB')).toBe(700 * 1024 * 1024);
    expect(() => parseSize('lots')).toThrow(/not a size/);
    expect(() => parseSize('0')).toThrow(/out of range/);
  });
});
