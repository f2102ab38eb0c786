/**
 * Deterministic firmware bytes. We cannot ship vendor images, so every release's file is generated: a short
 * text header naming vendor, models and version, then an AES-256-CTR keystream keyed by the file's identity.
 * CTR mode gives random access (a Range request starts at any byte without generating the ones before) and runs
 * at memory speed; the same (fileName, size) always yields the same bytes, on any machine.
 * Files are streamed in chunks, never held in memory whole.
 */
import { createCipheriv, createHash } from 'node:crypto';
import { Readable } from 'node:stream';

export interface FirmwareFileIdentity {
  vendor: string;
  models: readonly string[];
  version: string;
  fileName: string;
  size: number;
}

const CHUNK = 1 << 20;
const ZEROS = Buffer.alloc(CHUNK);
const BLOCK = 16;

function keyOf(f: FirmwareFileIdentity): Buffer {
  return createHash('sha256').update(`pfd-firmware-v1\0${f.fileName}\0${f.size}`).digest();
}

/** The first bytes of every generated file, so a human (or the phone simulator) can tell what it is. */
export function firmwareHeader(f: FirmwareFileIdentity): Buffer {
  return Buffer.from(
    `PFD-FIRMWARE/1 vendor=${f.vendor} models=${f.models.join(',')} version=${f.version} file=${f.fileName} size=${f.size}\n`,
    'utf8',
  );
}

function counterBlock(blockIndex: number): Buffer {
  const iv = Buffer.alloc(BLOCK);
  iv.writeBigUInt64BE(BigInt(blockIndex), 8);
  return iv;
}

/**
 * Yields the bytes [start, end] (inclusive) of the file in chunks of up to 1 MiB.
 * `corrupt` flips one byte in the middle of the file (fault injection: "wrong bytes").
 */
export function* firmwareChunks(
  f: FirmwareFileIdentity,
  start = 0,
  end = f.size - 1,
  options: { corrupt?: boolean } = {},
): Generator<Buffer> {
  if (start < 0 || end >= f.size || start > end + 1)
    throw new RangeError(`bad range ${start}-${end} of ${f.size}`);
  const header = firmwareHeader(f);
  const corruptAt = options.corrupt ? Math.floor(f.size / 2) : -1;
  const firstBlock = Math.floor(start / BLOCK);
  const cipher = createCipheriv('aes-256-ctr', keyOf(f), counterBlock(firstBlock));
  let pos = firstBlock * BLOCK; // position of the next keystream byte
  while (pos <= end) {
    const want = Math.min(CHUNK, end + 1 - pos);
    const ks = cipher.update(want === CHUNK ? ZEROS : ZEROS.subarray(0, want));
    const from = Math.max(start, pos);
    const chunk = ks.subarray(from - pos);
    // Overlay the header on the first bytes of the file.
    if (from < header.length) header.copy(chunk, 0, from, Math.min(header.length, pos + ks.length));
    if (corruptAt >= from && corruptAt < pos + ks.length) {
      const i = corruptAt - from;
      chunk[i] = (chunk[i] as number) ^ 0xff;
    }
    pos += ks.length;
    yield chunk;
  }
}

export function firmwareStream(
  f: FirmwareFileIdentity,
  start = 0,
  end = f.size - 1,
  options: { corrupt?: boolean } = {},
): Readable {
  return Readable.from(firmwareChunks(f, start, end, options), { objectMode: false, highWaterMark: CHUNK });
}

/** sha256 of the whole generated file (streams through it once; the server caches the result). */
export async function hashFirmware(
  f: FirmwareFileIdentity,
  onProgress?: (bytes: number) => void,
): Promise<string> {
  const hash = createHash('sha256');
  let done = 0;
  let lastReport = 0;
  for (const chunk of firmwareChunks(f)) {
    hash.update(chunk);
    done += chunk.length;
    if (onProgress && done - lastReport >= 64 * CHUNK) {
      lastReport = done;
      onProgress(done);
    }
    // Let the event loop breathe on big files (a running server keeps answering while it hashes).
    if (done % (32 * CHUNK) === 0) await new Promise((r) => setImmediate(r));
  }
  return hash.digest('hex');
}
