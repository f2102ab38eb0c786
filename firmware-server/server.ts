/**
 * The reference central firmware server (R3): a plain HTTP service anyone can run.
 *   GET|HEAD /catalog.json     signed catalog { payload, signature, keyId }; ETag, If-None-Match → 304
 *   GET|HEAD /files/<fileName> firmware bytes; strong ETag ("<sha256>"), If-None-Match, Range (206/416), If-Range
 *   GET /health                serial and counts
 *   GET /requests?limit=N      the recent request log (method, path, range, status, bytes, aborted) for operators
 *   GET /stats                 totals
 * The state lives in `dataDir` (see state.ts); a change made by the CLI while the server runs is served at once.
 * Fault injection (never on by default): 500s, truncated bodies, wrong bytes, tampered catalog, throttling; tests set
 * them with setFaults, operators rehearsing a flaky server with --error-rate / --truncate-share (main.ts).
 */
import type { KeyObject } from 'node:crypto';
import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { canonicalJson, FIRMWARE_FILE_NAME_PATTERN } from '../domain/catalog.ts';
import { signCatalogPayload } from '../lib/catalog-signing.ts';
import { type HttpTimeouts, httpServerOptions } from '../lib/http-timeouts.ts';
import { createLogger, type Logger } from '../lib/logger.ts';
import { firmwareStream } from './content.ts';
import {
  catalogOf,
  ensureSigningKeys,
  ensureState,
  identityOf,
  readState,
  type ServerState,
  type StoredRelease,
  stateStamp,
} from './state.ts';

/** A slow client gets 10 s for its headers and 30 s for the whole request (only GETs without bodies are served). */
export const FIRMWARE_SERVER_TIMEOUTS: HttpTimeouts = { headersTimeoutMs: 10_000, requestTimeoutMs: 30_000 };

export interface FirmwareServerFaults {
  /** Answer the next `count` requests whose path starts with `pathPrefix` (default: any) with 500. */
  fail500?: { count: number; pathPrefix?: string };
  /** Cut the connection after `afterBytes` body bytes of a file, the next `count` times (default 1). */
  truncate?: { afterBytes: number; count?: number; fileName?: string };
  /** Serve files with one byte flipped in the middle (size unchanged, sha256 wrong). */
  wrongBytes?: { fileName?: string };
  /** Serve a catalog whose payload was altered after signing. */
  tamperCatalog?: boolean;
  /** Pace file bodies at this many bytes per second. */
  throttleBytesPerSecond?: number;
  /** Share (0..1) of catalog and file requests answered with 500, drawn per request. */
  errorRate?: number;
  /** Share (0..1) of file bodies cut off at a random byte (the connection is destroyed), drawn per request. */
  truncateShare?: number;
}

export interface RequestLogEntry {
  id: number;
  at: string;
  method: string;
  path: string;
  status: number;
  range: string | null;
  ifRange: string | null;
  ifNoneMatch: string | null;
  /** Body bytes handed to the socket. */
  bytesSent: number;
  durationMs: number;
  /** The connection ended before the whole body was sent (client gone, or an injected truncation). */
  aborted: boolean;
  fault?: string;
  remote: string | null;
}

export interface FirmwareServerOptions {
  dataDir: string;
  /** 0 = an ephemeral port. */
  port?: number;
  host?: string;
  /** Size scale for seeding a new data dir (1 = realistic sizes). */
  sizeScale?: number;
  faults?: FirmwareServerFaults;
  /** Header and request timeouts (issue 11); the defaults suit clients on any network. */
  timeouts?: HttpTimeouts;
  logger?: Logger;
  /** How many requests the in-memory log keeps. */
  requestLogLimit?: number;
}

export interface FirmwareServer {
  url: string;
  port: number;
  /** base64 of the raw 32-byte ed25519 public key the PBX side must trust. */
  publicKey: string;
  keyId: string;
  dataDir: string;
  /** Recent requests, oldest first. */
  requests(): RequestLogEntry[];
  clearRequests(): void;
  stats(): { requests: number; bytesSent: number; filesServed: number; catalogsServed: number };
  setFaults(faults: FirmwareServerFaults): void;
  close(): Promise<void>;
}

interface CatalogCache {
  stamp: string;
  state: ServerState;
  body: string;
  etag: string;
  tampered: string;
}

const ETAG_LIST = /\s*(W\/)?("[^"]*"|\*)\s*(,|$)/g;

function etagMatches(header: string | undefined, etag: string): boolean {
  if (!header) return false;
  for (const m of header.matchAll(ETAG_LIST)) {
    if (m[2] === '*' || m[2] === etag) return true;
  }
  return false;
}

/** Single byte range per RFC 9110; `null` = ignore the header and send the whole file. */
export function parseRange(
  header: string,
  size: number,
): { start: number; end: number } | 'unsatisfiable' | null {
  const m = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!m) return null;
  const [, a, b] = m as unknown as [string, string, string];
  if (a === '' && b === '') return null;
  if (a === '') {
    const n = Number(b);
    if (n === 0) return 'unsatisfiable';
    return { start: Math.max(0, size - n), end: size - 1 };
  }
  const start = Number(a);
  const end = b === '' ? size - 1 : Math.min(Number(b), size - 1);
  if (b !== '' && Number(b) < start) return null;
  if (start >= size) return 'unsatisfiable';
  return { start, end };
}

export async function startFirmwareServer(options: FirmwareServerOptions): Promise<FirmwareServer> {
  const { dataDir } = options;
  const logger = options.logger ?? createLogger('firmware-server');
  const keys = ensureSigningKeys(dataDir);
  await ensureState(dataDir, { sizeScale: options.sizeScale ?? 1, logger });
  let faults: FirmwareServerFaults = { ...options.faults };
  const limit = options.requestLogLimit ?? 1000;
  const log: RequestLogEntry[] = [];
  const totals = { requests: 0, bytesSent: 0, filesServed: 0, catalogsServed: 0 };
  let nextId = 1;
  let cache: CatalogCache | undefined;

  function currentCatalog(): CatalogCache {
    const stamp = stateStamp(dataDir);
    if (cache?.stamp === stamp) return cache;
    const state = readState(dataDir);
    cache = signedCatalog(state, stamp, keys.privateKey, keys.keyId);
    logger.info({ serial: state.serial, etag: cache.etag }, 'catalog (re)loaded');
    return cache;
  }
  currentCatalog();

  function takeFault500(path: string, entry: RequestLogEntry): boolean {
    const served = path === '/catalog.json' || path.startsWith('/files/');
    if (served && faults.errorRate && Math.random() < faults.errorRate) {
      entry.fault = 'errorRate';
      return true;
    }
    const f = faults.fail500;
    if (!f || f.count <= 0 || (f.pathPrefix && !path.startsWith(f.pathPrefix))) return false;
    f.count -= 1;
    return true;
  }

  async function handle(req: IncomingMessage, res: ServerResponse, entry: RequestLogEntry): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const path = url.pathname;
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD', 'content-type': 'text/plain' }).end('method not allowed\n');
      return;
    }
    if (takeFault500(path, entry)) {
      entry.fault ??= 'fail500';
      res.writeHead(500, { 'content-type': 'text/plain' }).end('injected failure\n');
      return;
    }
    if (path === '/catalog.json') return serveCatalog(req, res);
    if (path.startsWith('/files/')) return serveFile(req, res, decodeURIComponent(path.slice(7)), entry);
    if (path === '/health') {
      const c = currentCatalog();
      return json(res, 200, {
        ok: true,
        serial: c.state.serial,
        releases: c.state.releases.length,
        keyId: keys.keyId,
      });
    }
    if (path === '/requests') {
      const n = Math.max(1, Math.min(limit, Number(url.searchParams.get('limit') ?? 100) || 100));
      return json(res, 200, { requests: log.slice(-n) });
    }
    if (path === '/stats') return json(res, 200, totals);
    res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
  }

  function serveCatalog(req: IncomingMessage, res: ServerResponse): void {
    const c = currentCatalog();
    const headers = { etag: c.etag, 'cache-control': 'no-cache', 'content-type': 'application/json' };
    if (etagMatches(req.headers['if-none-match'], c.etag)) {
      res.writeHead(304, headers).end();
      return;
    }
    const body = faults.tamperCatalog ? c.tampered : c.body;
    totals.catalogsServed += 1;
    res.writeHead(200, { ...headers, 'content-length': Buffer.byteLength(body) });
    res.end(req.method === 'HEAD' ? undefined : body);
  }

  async function serveFile(
    req: IncomingMessage,
    res: ServerResponse,
    fileName: string,
    entry: RequestLogEntry,
  ): Promise<void> {
    if (!FIRMWARE_FILE_NAME_PATTERN.test(fileName)) {
      res.writeHead(400, { 'content-type': 'text/plain' }).end('bad file name\n');
      return;
    }
    const release = currentCatalog().state.releases.find((r) => r.fileName === fileName);
    if (!release) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('no such firmware\n');
      return;
    }
    if (release.withdrawnAt) {
      res.writeHead(410, { 'content-type': 'text/plain' }).end('firmware withdrawn\n');
      return;
    }
    const etag = `"${release.sha256}"`;
    const base = {
      etag,
      'accept-ranges': 'bytes',
      'last-modified': new Date(release.releasedAt).toUTCString(),
      'cache-control': 'public, max-age=31536000, immutable',
      'content-type': 'application/octet-stream',
    };
    if (etagMatches(req.headers['if-none-match'], etag)) {
      res.writeHead(304, base).end();
      return;
    }
    let start = 0;
    let end = release.size - 1;
    let status = 200;
    const rangeHeader = req.headers.range;
    const ifRange = req.headers['if-range'];
    if (rangeHeader && (!ifRange || ifRange === etag)) {
      const r = parseRange(rangeHeader, release.size);
      if (r === 'unsatisfiable') {
        res.writeHead(416, { ...base, 'content-range': `bytes */${release.size}` }).end();
        return;
      }
      if (r) {
        ({ start, end } = r);
        status = 206;
      }
    }
    const headers: Record<string, string | number> = { ...base, 'content-length': end - start + 1 };
    if (status === 206) headers['content-range'] = `bytes ${start}-${end}/${release.size}`;
    res.writeHead(status, headers);
    if (req.method === 'HEAD') {
      res.end();
      return;
    }
    totals.filesServed += 1;
    await sendBody(res, release, start, end, entry);
  }

  async function sendBody(
    res: ServerResponse,
    release: StoredRelease,
    start: number,
    end: number,
    entry: RequestLogEntry,
  ): Promise<void> {
    const wrong =
      faults.wrongBytes && (!faults.wrongBytes.fileName || faults.wrongBytes.fileName === release.fileName);
    if (wrong) entry.fault = 'wrongBytes';
    let truncateAt: number | null = null;
    const t = faults.truncate;
    if (t && (t.count ?? 1) > 0 && (!t.fileName || t.fileName === release.fileName)) {
      t.count = (t.count ?? 1) - 1;
      truncateAt = t.afterBytes;
      entry.fault = 'truncate';
    } else if (faults.truncateShare && Math.random() < faults.truncateShare) {
      truncateAt = Math.floor(Math.random() * (end - start + 1));
      entry.fault = 'truncateShare';
    }
    const source = firmwareStream(identityOf(release), start, end, { corrupt: Boolean(wrong) });
    const closed = new Promise<void>((resolve) => res.once('close', resolve));
    try {
      for await (const chunk of source) {
        for (const piece of pieces(chunk as Buffer, faults.throttleBytesPerSecond)) {
          if (res.destroyed) return;
          if (truncateAt !== null && entry.bytesSent + piece.length >= truncateAt) {
            const last = piece.subarray(0, truncateAt - entry.bytesSent);
            count(last.length);
            res.write(last, () => res.socket?.destroy());
            return;
          }
          count(piece.length);
          if (!res.write(piece)) await Promise.race([new Promise((r) => res.once('drain', r)), closed]);
          const rate = faults.throttleBytesPerSecond;
          if (rate)
            await Promise.race([new Promise((r) => setTimeout(r, (piece.length / rate) * 1000)), closed]);
        }
      }
      res.end();
    } finally {
      source.destroy();
    }

    function count(n: number) {
      entry.bytesSent += n;
      totals.bytesSent += n;
    }
  }

  const server = createServer(httpServerOptions(options.timeouts ?? FIRMWARE_SERVER_TIMEOUTS), (req, res) => {
    const started = performance.now();
    const entry: RequestLogEntry = {
      id: nextId++,
      at: new Date().toISOString(),
      method: req.method ?? '?',
      path: (req.url ?? '/').split('?')[0] as string,
      status: 0,
      range: req.headers.range ?? null,
      ifRange: (req.headers['if-range'] as string | undefined) ?? null,
      ifNoneMatch: req.headers['if-none-match'] ?? null,
      bytesSent: 0,
      durationMs: 0,
      aborted: false,
      remote: req.socket.remoteAddress ?? null,
    };
    totals.requests += 1;
    res.once('close', () => {
      entry.status = res.statusCode;
      entry.durationMs = Math.round(performance.now() - started);
      entry.aborted = !res.writableFinished;
      log.push(entry);
      if (log.length > limit) log.splice(0, log.length - limit);
      logger.info(
        {
          method: entry.method,
          path: entry.path,
          status: entry.status,
          range: entry.range ?? undefined,
          bytes: entry.bytesSent,
          ms: entry.durationMs,
          aborted: entry.aborted || undefined,
          fault: entry.fault,
        },
        'request',
      );
    });
    handle(req, res, entry).catch((err) => {
      logger.error({ err, path: entry.path }, 'request failed');
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' }).end('internal error\n');
      else res.destroy();
    });
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => resolve());
  });
  const addr = server.address() as AddressInfo;
  const host = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address;
  const url = `http://${host === '0.0.0.0' || host === '[::]' ? '127.0.0.1' : host}:${addr.port}`;
  logger.info({ url, dataDir, keyId: keys.keyId, publicKey: keys.publicKey }, 'firmware server listening');

  return {
    url,
    port: addr.port,
    publicKey: keys.publicKey,
    keyId: keys.keyId,
    dataDir,
    requests: () => [...log],
    clearRequests: () => {
      log.length = 0;
    },
    stats: () => ({ ...totals }),
    setFaults: (f) => {
      faults = { ...f };
    },
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((err) => (err ? reject(err) : resolve()));
        server.closeAllConnections();
      }),
  };
}

function json(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res
    .writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) })
    .end(text);
}

/** Throttled bodies go out in 64 KiB pieces so the pacing is smooth. */
function* pieces(chunk: Buffer, throttle: number | undefined): Generator<Buffer> {
  if (!throttle) {
    yield chunk;
    return;
  }
  for (let i = 0; i < chunk.length; i += 65536) yield chunk.subarray(i, i + 65536);
}

function signedCatalog(
  state: ServerState,
  stamp: string,
  privateKey: KeyObject,
  keyId: string,
): CatalogCache {
  const catalog = catalogOf(state);
  const payload = canonicalJson(catalog);
  const signature = signCatalogPayload(privateKey, payload);
  const digest = createHash('sha256').update(payload).digest('hex').slice(0, 16);
  // Tampering for tests: the first release points at other bytes, signature unchanged.
  const altered = structuredClone(catalog);
  if (altered.releases[0]) altered.releases[0].sha256 = 'f'.repeat(64);
  else altered.serial += 1;
  return {
    stamp,
    state,
    etag: `"c${state.serial}-${digest}"`,
    body: JSON.stringify({ payload, signature, keyId }),
    tampered: JSON.stringify({ payload: canonicalJson(altered), signature, keyId }),
  };
}
