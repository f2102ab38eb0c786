/**
 * Serves a firmware file the way phones and download managers expect: HEAD, single byte ranges (206, 416 when
 * unsatisfiable), If-Range, ETag/If-None-Match. Reports how many bytes went out and whether the client hung up
 * before the end (autoprov.log "aborted", block outcome failed-download).
 */
import { createReadStream } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { pipeline } from 'node:stream/promises';

export interface FileToServe {
  path: string;
  size: number;
  mtime: Date;
  etag: string;
}

export interface FileServed {
  status: 200 | 206 | 304 | 416;
  /** Body bytes handed to the connection. */
  bytes: number;
  /** First and last byte of the body (inclusive); null for HEAD, 304 and 416. */
  range: { start: number; end: number } | null;
  /** The client went away before the body was complete. */
  aborted: boolean;
}

/** RFC 9110 14.2: one `bytes=` range; null = ignore the header (malformed or several ranges). */
export function parseRange(
  header: string | undefined,
  size: number,
): { start: number; end: number } | 'unsatisfiable' | null {
  if (!header) return null;
  const m = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!m || (m[1] === '' && m[2] === '')) return null;
  if (m[1] === '') {
    const suffix = Number(m[2]);
    if (suffix === 0) return 'unsatisfiable';
    return { start: Math.max(0, size - suffix), end: size - 1 };
  }
  const start = Number(m[1]);
  const end = m[2] === '' ? size - 1 : Math.min(Number(m[2]), size - 1);
  if (m[2] !== '' && Number(m[2]) < start) return null;
  if (start >= size) return 'unsatisfiable';
  return { start, end };
}

function etagMatches(header: string | undefined, etag: string): boolean {
  if (!header) return false;
  if (header.trim() === '*') return true;
  return header.split(',').some((t) => t.trim().replace(/^W\//, '') === etag);
}

export async function serveFile(
  req: IncomingMessage,
  res: ServerResponse,
  file: FileToServe,
  onBodyStart?: (range: { start: number; end: number }) => void,
): Promise<FileServed> {
  res.setHeader('Accept-Ranges', 'bytes');
  res.setHeader('ETag', file.etag);
  res.setHeader('Last-Modified', file.mtime.toUTCString());
  res.setHeader('Content-Type', 'application/octet-stream');
  if (etagMatches(req.headers['if-none-match'], file.etag)) {
    res.writeHead(304).end();
    return { status: 304, bytes: 0, range: null, aborted: false };
  }
  const ifRange = req.headers['if-range'];
  const rangeAllowed = ifRange === undefined || ifRange === file.etag;
  const range = rangeAllowed ? parseRange(req.headers.range, file.size) : null;
  if (range === 'unsatisfiable') {
    res.writeHead(416, { 'Content-Range': `bytes */${file.size}`, 'Content-Length': 0 }).end();
    return { status: 416, bytes: 0, range: null, aborted: false };
  }
  const status = range ? 206 : 200;
  const body = range ?? { start: 0, end: file.size - 1 };
  const length = file.size === 0 ? 0 : body.end - body.start + 1;
  res.setHeader('Content-Length', length);
  if (range) res.setHeader('Content-Range', `bytes ${range.start}-${range.end}/${file.size}`);
  if (req.method === 'HEAD' || length === 0) {
    res.writeHead(status).end();
    return { status, bytes: 0, range: null, aborted: false };
  }
  res.writeHead(status);
  onBodyStart?.(body);
  let bytes = 0;
  const stream = createReadStream(file.path, { start: body.start, end: body.end });
  stream.on('data', (chunk) => {
    bytes += chunk.length;
  });
  try {
    await pipeline(stream, res);
  } catch {
    // Premature close: the phone hung up (or the file became unreadable); either way the body is incomplete.
  }
  const aborted = !res.writableFinished;
  return { status, bytes, range: body, aborted };
}
