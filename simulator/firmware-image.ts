/**
 * Simulated firmware images. A real phone reads the version from the image it flashes; a simulated one reads it
 * from the first line: `SIMFW version=<v>` (what tests and the benchmark write into the store), or the header of
 * the reference firmware server's files (`PFD-FIRMWARE/1 … version=<v> …`) and of the PBX image's files
 * (`PFD-IMAGE-FIRMWARE/1 … version=<v>`), which is what the demo's phones flash.
 */
import { createHash } from 'node:crypto';

const HEADER = /^(?:SIMFW|PFD-FIRMWARE\/1|PFD-IMAGE-FIRMWARE\/1)\b[^\n]*?\bversion=(\S+)[^\n]*\n/;

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
  const m = HEADER.exec(firstBytes.subarray(0, 256).toString('latin1'));
  return m ? (m[1] as string) : null;
}
