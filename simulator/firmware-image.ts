/**
 * Simulated firmware images. A real phone reads the version from the image it flashes; a simulated one reads it
 * from a first line `SIMFW version=<v>`. Tests, the demo and the benchmark write such files into the store.
 */
import { createHash } from 'node:crypto';

const HEADER = /^SIMFW version=(\S+)\n/;

export function simulatedFirmwareImage(version: string, size = 64 * 1024): Buffer {
  const header = Buffer.from(`SIMFW version=${version}\n`, 'ascii');
  const out = Buffer.alloc(Math.max(size, header.length));
  header.copy(out);
  // Deterministic filler, so equal inputs give equal blobs (content-addressed store).
  let seed = createHash('sha256').update(version).digest();
  for (let off = header.length; off < out.length; off += seed.length) {
    seed.copy(out, off);
    seed = createHash('sha256').update(seed).digest();
  }
  return out;
}

/** The version in the first bytes of an image, or null for an image the simulator does not know. */
export function versionOfImage(firstBytes: Buffer): string | null {
  const m = HEADER.exec(firstBytes.subarray(0, 128).toString('latin1'));
  return m ? (m[1] as string) : null;
}
