/**
 * The content-addressed firmware store shared by all PBXes (R16): `<store>/blobs/<xx>/<sha256>`, one file per
 * sha256, written only by an atomic rename of a fully verified partial file. Phones only ever see blob files,
 * so a wrong hash never becomes visible.
 *
 * Two locks keep concurrent workers honest:
 *  - the blob lock (Postgres advisory transaction lock 1/<sha>) around every change to a blob file and its row:
 *    promoting a download, referencing an existing blob, garbage collection;
 *  - the download lock (advisory session lock 2/<sha>, held on a reserved connection for the whole transfer): only
 *    one worker writes `<store>/partial/<sha256>.part`. A crashed worker's connection closes and Postgres frees the
 *    lock at once, so the retry can take the partial file over and resume it.
 */
import { createHash, type Hash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, open, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { ReservedSql, Sql } from 'postgres';
import type { Db } from '../db/client.ts';
import {
  type DbOrTx,
  deleteBlobRow,
  isBlobReferenced,
  knownBlobs,
  lockBlob,
  unreferencedBlobs,
} from '../db/queries/local-firmware.ts';
import { blobPath, partialDir } from '../lib/store-paths.ts';

export function partialPath(storeDir: string, sha256: string): string {
  return join(partialDir(storeDir), `${sha256}.part`);
}

/** Side file of a partial download: the validator (ETag) its bytes came with, for If-Range on resume. */
function partialMetaPath(storeDir: string, sha256: string): string {
  return `${partialPath(storeDir, sha256)}.json`;
}

export interface PartialMeta {
  etag: string | null;
  url: string;
  size: number;
}

export async function readPartialMeta(storeDir: string, sha256: string): Promise<PartialMeta | null> {
  try {
    return JSON.parse(await readFile(partialMetaPath(storeDir, sha256), 'utf8')) as PartialMeta;
  } catch {
    return null;
  }
}

export async function writePartialMeta(storeDir: string, sha256: string, meta: PartialMeta): Promise<void> {
  await writeFile(partialMetaPath(storeDir, sha256), JSON.stringify(meta));
}

export async function removePartial(storeDir: string, sha256: string): Promise<void> {
  await rm(partialPath(storeDir, sha256), { force: true });
  await rm(partialMetaPath(storeDir, sha256), { force: true });
}

async function fileSize(path: string): Promise<number | null> {
  try {
    return (await stat(path)).size;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
}

/** A blob file is complete when it exists with the expected size (it only got there verified). */
export async function blobFileComplete(storeDir: string, sha256: string, size: number): Promise<boolean> {
  return (await fileSize(blobPath(storeDir, sha256))) === size;
}

export async function partialSize(storeDir: string, sha256: string): Promise<number | null> {
  return fileSize(partialPath(storeDir, sha256));
}

/** Feeds the first `length` bytes of a file into `hash` (resume: bytes on disk are hashed, not fetched again). */
export async function hashFilePrefix(
  path: string,
  length: number,
  hash: Hash = createHash('sha256'),
  onProgress?: (bytes: number) => void,
): Promise<Hash> {
  if (length === 0) return hash;
  const stream = createReadStream(path, { start: 0, end: length - 1, highWaterMark: 1 << 20 });
  let done = 0;
  for await (const chunk of stream) {
    hash.update(chunk as Buffer);
    done += (chunk as Buffer).length;
    onProgress?.(done);
  }
  return hash;
}

async function fsyncDir(dir: string): Promise<void> {
  const fh = await open(dir, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/**
 * Moves a verified partial file to its blob path (atomic rename, directory fsynced). Call under the blob lock.
 * When the blob is already there (another worker won), the partial is simply dropped.
 */
export async function promotePartial(storeDir: string, sha256: string, size: number): Promise<void> {
  const dest = blobPath(storeDir, sha256);
  if (await blobFileComplete(storeDir, sha256, size)) {
    await removePartial(storeDir, sha256);
    return;
  }
  await mkdir(dirname(dest), { recursive: true });
  await rename(partialPath(storeDir, sha256), dest);
  await fsyncDir(dirname(dest));
  await rm(partialMetaPath(storeDir, sha256), { force: true });
}

/** Runs `fn` in a transaction holding the blob lock of `sha256`. */
export async function withBlobLock<T>(db: Db, sha256: string, fn: (tx: DbOrTx) => Promise<T>): Promise<T> {
  return db.transaction(async (tx) => {
    await lockBlob(tx, sha256);
    return fn(tx);
  });
}

export interface DownloadLock {
  release(): Promise<void>;
}

/**
 * Takes the download lock of `sha256`, waiting (and calling `onWait` about every `pollMs`) while another worker —
 * another PBX fetching the same image — holds it. `signal` aborts the wait.
 */
export async function acquireDownloadLock(
  db: Db,
  sha256: string,
  options: { onWait?: () => void; signal?: AbortSignal; pollMs?: number } = {},
): Promise<DownloadLock> {
  const client = (db as Db & { $client?: Sql }).$client;
  if (!client?.reserve) throw new Error('the download lock needs a postgres.js database handle (connectDb)');
  const reserved: ReservedSql = await client.reserve();
  try {
    for (;;) {
      const [row] = await reserved<
        { ok: boolean }[]
      >`select pg_try_advisory_lock(2, hashtext(${sha256})) as ok`;
      if (row?.ok) break;
      options.onWait?.();
      options.signal?.throwIfAborted();
      await new Promise((r) => setTimeout(r, options.pollMs ?? 250));
    }
  } catch (err) {
    reserved.release();
    throw err;
  }
  return {
    async release() {
      try {
        await reserved`select pg_advisory_unlock(2, hashtext(${sha256}))`;
      } finally {
        reserved.release();
      }
    },
  };
}

/** The sha256 names of blob files on disk. */
async function blobFilesOnDisk(storeDir: string): Promise<string[]> {
  const root = join(storeDir, 'blobs');
  const out: string[] = [];
  let prefixes: string[];
  try {
    prefixes = await readdir(root);
  } catch {
    return out;
  }
  for (const p of prefixes) {
    for (const name of await readdir(join(root, p)).catch(() => [] as string[])) {
      if (/^[0-9a-f]{64}$/.test(name)) out.push(name);
    }
  }
  return out;
}

/**
 * Deletes blobs no PBX references (file and row), and blob files without a row (a promote whose transaction
 * failed). Each candidate is re-checked under its blob lock, so a download adding a reference at the same moment
 * either wins (the blob stays) or finds the blob gone and fetches it again.
 */
export async function collectUnreferencedBlobs(db: Db, storeDir: string): Promise<string[]> {
  const rows = await unreferencedBlobs(db);
  const known = await knownBlobs(db);
  const orphans = (await blobFilesOnDisk(storeDir)).filter((sha) => !known.has(sha));
  const deleted: string[] = [];
  for (const sha256 of new Set([...rows, ...orphans])) {
    const gone = await withBlobLock(db, sha256, async (tx) => {
      if (await isBlobReferenced(tx, sha256)) return false;
      await deleteBlobRow(tx, sha256);
      await rm(blobPath(storeDir, sha256), { force: true });
      return true;
    });
    if (gone) deleted.push(sha256);
  }
  return deleted;
}
