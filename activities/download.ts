/**
 * Firmware download into the shared content-addressed store (R3, R4, R10, R16). Runs on the downloads task queue.
 *
 *  1. R4: no account of the type on the PBX → nothing is fetched (`stored: false`). R2: image-managed types never are.
 *  2. The blob is already in the store (another PBX fetched it) → only this PBX's reference is added (`reused`).
 *  3. Otherwise, holding the download lock of the sha256, stream into `<store>/partial/<sha256>.part` while hashing,
 *     heartbeating `{ offset }`. A retry — after a crash, a broken connection, a timeout — re-hashes the bytes already
 *     on disk and asks only for the rest (`Range: bytes=<offset>-`, `If-Range: <ETag>`).
 *  4. Size and sha256 are verified, the file fsynced and renamed atomically to its blob path; the blob row and the
 *     PBX's local_firmware row are written in the same locked transaction. Wrong content (a sha256 or size that
 *     does not match the catalog) deletes the partial file: nothing unverified is ever visible to phones. The bytes
 *     may have been damaged on the way, so it is retried with the retry policy's backoff, at most
 *     MAX_CORRUPT_ATTEMPTS times (counted in the heartbeat details); then it fails for good, journalled, and the next
 *     weekly check finds the type still needing its download and schedules it again (issue 11, item 7).
 *  5. What one PBX's journal and firmwares.log say is the same whether the bytes moved or another PBX had already
 *     fetched them (R16: a tenant must not learn another's fleet); transfer figures go to the service log only.
 * Memory stays flat: the body is streamed in chunks of at most 1 MiB, whatever the file size.
 */
import { createHash, type Hash } from 'node:crypto';
import { mkdir, open } from 'node:fs/promises';
import type { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import { request } from 'undici';
import { z } from 'zod';
import { type CatalogReleaseRow, getPhoneModels, getRelease } from '../db/queries/catalog.ts';
import { appendJournal } from '../db/queries/journal.ts';
import { accountCount, referenceBlob } from '../db/queries/local-firmware.ts';
import type { Logger } from '../lib/logger.ts';
import { partialDir } from '../lib/store-paths.ts';
import { firmwareServerUrl, isRetryableStatus, unavailable } from './catalog.ts';
import { requirePbx } from './check.ts';
import type { DownloadInput, DownloadResult } from './contracts.ts';
import type { ActivityDeps } from './deps.ts';
import {
  acquireDownloadLock,
  blobFileComplete,
  hashFilePrefix,
  partialPath,
  partialSize,
  promotePartial,
  readPartialMeta,
  removePartial,
  withBlobLock,
  writePartialMeta,
} from './firmware-store.ts';
import { activityContext, parseActivityInput } from './temporal-context.ts';

/** ApplicationFailure types of downloadFirmware (all but DownloadInterrupted / FirmwareServerUnavailable are final). */
export const DOWNLOAD_FAILURES = {
  hashMismatch: 'FirmwareHashMismatch',
  sizeMismatch: 'FirmwareSizeMismatch',
  unknownRelease: 'UnknownRelease',
  withdrawn: 'ReleaseWithdrawn',
  notOnServer: 'FirmwareNotOnServer',
  interrupted: 'DownloadInterrupted',
} as const;

/** Attempts that may fetch wrong content (sha256 or size) before the download fails for good. */
export const MAX_CORRUPT_ATTEMPTS = 3;

/** What a download heartbeats; a retry reads it back from `heartbeatDetails`. */
export interface DownloadHeartbeat {
  sha256: string;
  /** Bytes of the file safely on disk in the partial file. */
  offset: number;
  size: number;
  percent: number;
  phase: 'waiting' | 'hashing-partial' | 'downloading' | 'verifying';
  /** Attempts so far that fetched wrong content (issue 11): bounded by MAX_CORRUPT_ATTEMPTS. */
  corruptAttempts?: number;
}

const downloadInputSchema = z.object({
  pbxId: z.string().min(1),
  modelId: z.string().min(1),
  releaseId: z.string().min(1),
  why: z.enum(['schedule', 'manual', 'trigger', 'system']),
  who: z.string().min(1),
});

const WRITE_BATCH = 1 << 20;
/** undici's body buffer: 1 MiB instead of its 64 KiB default (a partial survives a break-off; see below). */
const BODY_HIGH_WATER_MARK = 1 << 20;
const HEARTBEAT_EVERY_MS = 500;
const PROGRESS_LOG_EVERY_MS = 5_000;

interface Transfer {
  resumedFrom: number;
  /** Offset the previous attempt last heartbeated, if there was one. */
  heartbeatOffset: number | undefined;
  fetched: number;
  requests: number;
}

/** Heartbeats and progress logs, throttled. */
class Progress {
  #lastBeat = 0;
  #lastLog = 0;
  #started = performance.now();
  details: DownloadHeartbeat;
  readonly #ctx: Context | null;
  readonly #logger: Logger;

  constructor(ctx: Context | null, logger: Logger, release: CatalogReleaseRow) {
    this.#ctx = ctx;
    this.#logger = logger;
    const previous = ctx?.info.heartbeatDetails as Partial<DownloadHeartbeat> | undefined;
    this.details = {
      sha256: release.sha256,
      offset: 0,
      size: release.size,
      percent: 0,
      phase: 'downloading',
      ...(previous?.sha256 === release.sha256 && typeof previous.corruptAttempts === 'number'
        ? { corruptAttempts: previous.corruptAttempts }
        : {}),
    };
  }

  /**
   * Wrong content arrived: the partial file is gone; retry from byte 0 unless MAX_CORRUPT_ATTEMPTS are used up.
   * The count travels to the next attempt in the heartbeat details, sent before the failure is thrown.
   */
  corrupt(message: string, type: string): ApplicationFailure {
    const attempts = (this.details.corruptAttempts ?? 0) + 1;
    this.details = { ...this.details, corruptAttempts: attempts, offset: 0, percent: 0 };
    this.#ctx?.heartbeat(this.details);
    const details = [{ corruptAttempts: attempts, maxCorruptAttempts: MAX_CORRUPT_ATTEMPTS }];
    if (attempts >= MAX_CORRUPT_ATTEMPTS || !this.#ctx) {
      return ApplicationFailure.create({
        message: `${message}; wrong content ${attempts} time(s), giving up until the next check`,
        type,
        nonRetryable: true,
        details,
      });
    }
    return ApplicationFailure.create({
      message: `${message}; attempt ${attempts} of ${MAX_CORRUPT_ATTEMPTS}, retrying`,
      type,
      nonRetryable: false,
      details,
    });
  }

  update(offset: number, phase: DownloadHeartbeat['phase'], force = false): void {
    this.details = {
      ...this.details,
      offset,
      phase,
      percent: Math.floor((offset / Math.max(1, this.details.size)) * 100),
    };
    const now = performance.now();
    if (force || now - this.#lastBeat >= HEARTBEAT_EVERY_MS) {
      this.#lastBeat = now;
      this.#ctx?.heartbeat(this.details);
    }
    if (now - this.#lastLog >= PROGRESS_LOG_EVERY_MS) {
      this.#lastLog = now;
      const secs = (now - this.#started) / 1000;
      this.#logger.info({ ...this.details, elapsedS: Math.round(secs) }, 'firmware download progress');
    }
  }
}

/** The body is longer than the catalog says: wrong content, found while streaming. */
class TooLong extends Error {}

function abortReason(signal: AbortSignal | undefined): unknown {
  return signal?.aborted ? signal.reason : undefined;
}

function contentRangeStart(header: unknown): { start: number; total: number } | null {
  const m = typeof header === 'string' ? /^bytes (\d+)-(\d+)\/(\d+)$/.exec(header.trim()) : null;
  return m ? { start: Number(m[1]), total: Number(m[3]) } : null;
}

/**
 * Brings `<store>/partial/<sha256>.part` to the complete, verified file. Bytes already there are hashed, not fetched.
 * Throws retryable failures for transient trouble (partial kept) and final ones for wrong content (partial deleted).
 */
async function fetchToPartial(
  deps: ActivityDeps,
  release: CatalogReleaseRow,
  ctx: Context | null,
  progress: Progress,
): Promise<Transfer> {
  const { config } = deps;
  const store = config.firmwareStoreDir;
  const { sha256, size } = release;
  const signal = ctx?.cancellationSignal;
  await mkdir(partialDir(store), { recursive: true });
  const path = partialPath(store, sha256);
  const url = firmwareServerUrl(config.firmwareServer.url, `files/${encodeURIComponent(release.fileName)}`);

  // The partial file on disk is the truth (it survives a crash; a heartbeat may lag behind it); the heartbeat offset
  // of the previous attempt is kept for the log.
  const beat = ctx?.info.heartbeatDetails as Partial<DownloadHeartbeat> | undefined;
  const heartbeatOffset =
    beat?.sha256 === sha256 && typeof beat.offset === 'number' ? beat.offset : undefined;
  let offset = (await partialSize(store, sha256)) ?? 0;
  const meta = await readPartialMeta(store, sha256);
  if (offset > size || (meta && meta.size !== size)) {
    await removePartial(store, sha256);
    offset = 0;
  }
  let hash: Hash = createHash('sha256');
  if (offset > 0) {
    progress.update(offset, 'hashing-partial', true);
    const onDisk = offset;
    await hashFilePrefix(path, onDisk, hash, () => progress.update(onDisk, 'hashing-partial'));
  }
  const transfer: Transfer = { resumedFrom: offset, heartbeatOffset, fetched: 0, requests: 0 };

  if (offset < size) {
    const headers: Record<string, string> = {
      'accept-encoding': 'identity',
      'user-agent': 'pfd-pbx-firmware/1',
    };
    if (offset > 0) {
      headers.range = `bytes=${offset}-`;
      if (meta?.etag) headers['if-range'] = meta.etag;
    }
    let res: Awaited<ReturnType<typeof request>>;
    try {
      transfer.requests += 1;
      res = await request(url, {
        method: 'GET',
        headers,
        headersTimeout: config.firmwareServer.httpTimeoutMs,
        bodyTimeout: config.firmwareServer.httpTimeoutMs,
        // Bigger body chunks, fewer of them (issue 14 target 6): less CPU per byte in the stream and the GC.
        highWaterMark: BODY_HIGH_WATER_MARK,
        signal: signal ?? null,
      });
    } catch (err) {
      throw (
        abortReason(signal) ??
        unavailable(`firmware server unreachable for ${release.fileName}: ${String(err)}`, err)
      );
    }

    if (res.statusCode === 200 && offset > 0) {
      // The server ignored the range (or the file changed, If-Range): start over from byte 0.
      offset = 0;
      hash = createHash('sha256');
      transfer.resumedFrom = 0;
    } else if (res.statusCode === 206) {
      const cr = contentRangeStart(res.headers['content-range']);
      if (!cr || cr.start !== offset || cr.total !== size) {
        await res.body.dump();
        await removePartial(store, sha256);
        throw ApplicationFailure.retryable(
          `unexpected Content-Range ${String(res.headers['content-range'])} for offset ${offset} of ${size}; restarting`,
          DOWNLOAD_FAILURES.interrupted,
        );
      }
    } else if (res.statusCode !== 200) {
      const text = (await res.body.text().catch(() => '')).slice(0, 200).trim();
      const message = `firmware server answered ${res.statusCode} for ${release.fileName}${text ? `: ${text}` : ''}`;
      if (res.statusCode === 416) {
        await removePartial(store, sha256);
        throw ApplicationFailure.retryable(
          `${message}; restarting from byte 0`,
          DOWNLOAD_FAILURES.interrupted,
        );
      }
      if (isRetryableStatus(res.statusCode)) throw unavailable(message);
      if (res.statusCode === 404 || res.statusCode === 410) {
        throw ApplicationFailure.nonRetryable(message, DOWNLOAD_FAILURES.notOnServer);
      }
      throw ApplicationFailure.nonRetryable(message, 'FirmwareServerRefused');
    }
    const expected = size - offset;
    const length = res.headers['content-length'];
    if (length !== undefined && Number(length) !== expected) {
      await res.body.dump();
      await removePartial(store, sha256);
      throw progress.corrupt(
        `${release.fileName}: server sends ${length} bytes from offset ${offset}, the catalog says ${expected}`,
        DOWNLOAD_FAILURES.sizeMismatch,
      );
    }
    const etag = typeof res.headers.etag === 'string' ? res.headers.etag : null;
    await writePartialMeta(store, sha256, { etag, url, size });

    const fh = await open(path, offset > 0 ? 'r+' : 'w');
    // Reading + hashing the next batch overlaps with writing the previous one (at most one write in flight).
    let pending: Buffer[] = [];
    let pendingBytes = 0;
    let received = offset;
    let queuedTo = offset;
    let writing: Promise<void> = Promise.resolve();
    const flush = (): Promise<void> => {
      if (pendingBytes === 0) return writing;
      const batch = pending;
      const at = queuedTo;
      const bytes = pendingBytes;
      pending = [];
      pendingBytes = 0;
      queuedTo += bytes;
      writing = writing.then(async () => {
        await fh.writev(batch, at);
        offset = at + bytes;
        transfer.fetched += bytes;
        progress.update(offset, 'downloading');
      });
      writing.catch(() => {}); // observed where it is awaited; this only keeps Node from calling it unhandled
      return writing;
    };
    let failure: unknown;
    try {
      await fh.truncate(offset);
      progress.update(offset, 'downloading', true);
      for await (const data of res.body) {
        const chunk = data as Buffer;
        if (received + chunk.length > size) {
          throw new TooLong(`${release.fileName}: more bytes than the catalog's ${size}`);
        }
        hash.update(chunk);
        received += chunk.length;
        pending.push(chunk);
        pendingBytes += chunk.length;
        if (pendingBytes >= WRITE_BATCH) {
          await writing;
          void flush();
        }
      }
    } catch (err) {
      failure = err;
    }
    try {
      // Whatever was read is a valid prefix: keep it on disk so a retry does not fetch it again. (When the
      // connection breaks, undici drops what it had buffered but not yet handed over: at most BODY_HIGH_WATER_MARK.)
      await flush();
      await fh.sync();
    } finally {
      await fh.close();
    }
    progress.update(offset, 'downloading', true);
    if (failure !== undefined) {
      if (failure instanceof TooLong) {
        await removePartial(store, sha256);
        throw progress.corrupt(failure.message, DOWNLOAD_FAILURES.sizeMismatch);
      }
      throw (
        abortReason(signal) ??
        ApplicationFailure.create({
          message: `download of ${release.fileName} broke off at ${offset} of ${size} bytes: ${String(failure)}`,
          type: DOWNLOAD_FAILURES.interrupted,
          nonRetryable: false,
          ...(failure instanceof Error ? { cause: failure } : {}),
        })
      );
    }
    if (offset < size) {
      throw ApplicationFailure.retryable(
        `download of ${release.fileName} ended early at ${offset} of ${size} bytes`,
        DOWNLOAD_FAILURES.interrupted,
      );
    }
  }

  progress.update(offset, 'verifying', true);
  const digest = hash.digest('hex');
  if (digest !== sha256) {
    await removePartial(store, sha256);
    const message = `${release.fileName}: sha256 ${digest} does not match the catalog's ${sha256}; discarded`;
    throw progress.corrupt(
      transfer.resumedFrom > 0 ? `${message} (resumed download)` : message,
      DOWNLOAD_FAILURES.hashMismatch,
    );
  }
  return transfer;
}

export async function downloadFirmware(deps: ActivityDeps, raw: DownloadInput): Promise<DownloadResult> {
  const input = parseActivityInput(downloadInputSchema, raw, 'downloadFirmware');
  const { db, logs, config } = deps;
  const ctx = activityContext();
  const started = performance.now();
  await requirePbx(deps, input.pbxId);
  const flog = logs.firmwares(input.pbxId);
  const [model] = await getPhoneModels(db, [input.modelId]);
  if (model?.imageManaged) {
    const reason = 'R2: image-managed type, its firmware comes with the PBX image';
    flog.info(
      { event: 'download', outcome: 'skipped', model: input.modelId, reason },
      'firmware download skipped',
    );
    return {
      pbxId: input.pbxId,
      modelId: input.modelId,
      version: '',
      sha256: '',
      bytes: 0,
      reused: false,
      stored: false,
      reason,
    };
  }
  const release = await getRelease(db, input.releaseId);
  if (!release) {
    throw ApplicationFailure.nonRetryable(
      `unknown release ${input.releaseId}`,
      DOWNLOAD_FAILURES.unknownRelease,
    );
  }
  if (!release.modelIds.includes(input.modelId)) {
    throw ApplicationFailure.nonRetryable(
      `release ${release.id} does not cover ${input.modelId}`,
      DOWNLOAD_FAILURES.unknownRelease,
    );
  }
  const base = {
    pbxId: input.pbxId,
    modelId: input.modelId,
    version: release.version,
    sha256: release.sha256,
  };
  const logBase = {
    event: 'download',
    why: input.why,
    who: input.who,
    model: input.modelId,
    version: release.version,
    release: release.id,
    file: release.fileName,
    size: release.size,
  };
  const journal = (action: string, details: Record<string, unknown>) =>
    appendJournal(db, logs, {
      pbxId: input.pbxId,
      action,
      why: input.why,
      who: input.who,
      modelId: input.modelId,
      details: { version: release.version, release: release.id, ...details },
    });
  const skip = (reason: string): DownloadResult => {
    flog.info({ ...logBase, outcome: 'skipped', reason }, 'firmware download skipped');
    return { ...base, bytes: 0, reused: false, stored: false, reason };
  };

  if ((await accountCount(db, input.pbxId, input.modelId)) === 0) {
    return skip('R4: no phone account of this type on the PBX');
  }
  if (release.withdrawn) {
    throw ApplicationFailure.nonRetryable(
      `release ${release.id} was withdrawn from the catalog`,
      DOWNLOAD_FAILURES.withdrawn,
    );
  }

  const store = config.firmwareStoreDir;
  const row = { ...base, fileName: release.fileName, size: release.size };
  const referenceIfStored = () =>
    withBlobLock(db, release.sha256, async (tx) =>
      (await blobFileComplete(store, release.sha256, release.size)) ? referenceBlob(tx, row) : null,
    );

  const finish = async (
    outcome: 'stored' | 'reused',
    ref: { deleteAtNextRestart: boolean },
    transfer?: Transfer,
  ): Promise<DownloadResult> => {
    const durationMs = Math.round(performance.now() - started);
    const fetched = transfer?.fetched ?? 0;
    const mbPerS =
      fetched > 0 ? Number((fetched / 1e6 / Math.max(durationMs / 1000, 0.001)).toFixed(1)) : undefined;
    // The operator's service log knows how the bytes came (fetched, resumed, or already in the shared store)...
    deps.logger.info(
      {
        pbx: input.pbxId,
        ...logBase,
        outcome,
        bytes: fetched,
        resumedFrom: transfer?.resumedFrom || undefined,
        heartbeatOffset: transfer?.heartbeatOffset,
        durationMs,
        mbPerS,
        sha256: release.sha256,
      },
      outcome === 'stored' ? 'firmware downloaded' : 'firmware already in the shared store',
    );
    // ...the PBX's own log and journal say only that its firmware is stored (R16: nothing about other tenants).
    flog.info(
      {
        ...logBase,
        outcome: 'stored',
        sha256: release.sha256,
        deleteAtNextRestart: ref.deleteAtNextRestart || undefined,
      },
      'firmware stored',
    );
    await journal('firmware.downloaded', {
      sha256: release.sha256,
      size: release.size,
      ...(ref.deleteAtNextRestart ? { deleteAtNextRestart: true } : {}),
    });
    return {
      ...base,
      bytes: outcome === 'stored' ? release.size : 0,
      reused: outcome === 'reused',
      stored: true,
    };
  };

  const already = await referenceIfStored();
  if (already) return finish('reused', already);

  const progress = new Progress(
    ctx,
    deps.logger.child({ pbx: input.pbxId, file: release.fileName }),
    release,
  );
  const lock = await acquireDownloadLock(db, release.sha256, {
    onWait: () => progress.update(progress.details.offset, 'waiting'),
    ...(ctx ? { signal: ctx.cancellationSignal } : {}),
  });
  try {
    // Another PBX may have finished the same image while we waited for the lock.
    const meanwhile = await referenceIfStored();
    if (meanwhile) return await finish('reused', meanwhile);
    const transfer = await fetchToPartial(deps, release, ctx, progress);
    const ref = await withBlobLock(db, release.sha256, async (tx) => {
      await promotePartial(store, release.sha256, release.size);
      return referenceBlob(tx, row);
    });
    return await finish('stored', ref, transfer);
  } catch (err) {
    const final = err instanceof ApplicationFailure && err.nonRetryable;
    const message = err instanceof Error ? err.message : String(err);
    const corrupt =
      err instanceof ApplicationFailure &&
      (err.type === DOWNLOAD_FAILURES.hashMismatch || err.type === DOWNLOAD_FAILURES.sizeMismatch);
    flog[final ? 'error' : 'warn'](
      {
        ...logBase,
        outcome: final ? 'failed' : corrupt ? 'discarded' : 'interrupted',
        error: message,
        type: err instanceof ApplicationFailure ? err.type : undefined,
        offset: progress.details.offset,
        durationMs: Math.round(performance.now() - started),
      },
      final
        ? 'firmware download failed'
        : corrupt
          ? 'firmware download had wrong content, discarded; will retry'
          : 'firmware download interrupted, will resume',
    );
    if (final) {
      const attempts = (err as ApplicationFailure).details?.[0] as { corruptAttempts?: number } | undefined;
      await journal('firmware.download-failed', {
        error: message,
        type: (err as ApplicationFailure).type,
        ...(attempts?.corruptAttempts ? { attempts: attempts.corruptAttempts } : {}),
      });
    }
    throw err;
  } finally {
    await lock.release();
  }
}

export function createDownloadFirmwareActivities(deps: ActivityDeps) {
  return {
    downloadFirmware: (input: DownloadInput) => downloadFirmware(deps, input),
  };
}
