/**
 * R14: the PBX's three logs as files. The path comes from the PBX id the tenancy check returned and a fixed file
 * name (lib/pbx-logs.ts), never from the request text. Streamed from disk; a log that is being appended to is
 * served up to its size when the request came.
 */
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { Readable } from 'node:stream';
import type { PbxLogName } from '../../../lib/pbx-logs.ts';
import { parseRange } from '../../../phones/provisioning/file-response.ts';
import { pbxForCaller } from '../../auth.ts';
import type { AppRouteHandler } from '../../env.ts';
import type * as routes from './logs.routes.ts';

async function sizeOf(path: string): Promise<{ size: number; mtimeMs: number }> {
  try {
    const s = await stat(path);
    return { size: s.size, mtimeMs: Math.trunc(s.mtimeMs) };
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { size: 0, mtimeMs: 0 };
    throw err;
  }
}

export const download: AppRouteHandler<typeof routes.download> = async (c) => {
  const { pbxId, file } = c.req.valid('param');
  const pbx = await pbxForCaller(c, pbxId);
  const path = c.var.deps.logs.pathOf(pbx.id, file.replace(/\.log$/, '') as PbxLogName);
  const { size, mtimeMs } = await sizeOf(path);
  // An append-only file: its size and modification time name its content.
  const etag = `"${size.toString(16)}-${mtimeMs.toString(16)}"`;
  const headers: Record<string, string> = {
    'content-type': 'text/plain; charset=utf-8',
    'content-disposition': `attachment; filename="${pbx.id}-${file}"`,
    'accept-ranges': 'bytes',
    'cache-control': 'no-store',
    etag,
  };
  if (
    c.req
      .header('if-none-match')
      ?.split(',')
      .some((t) => t.trim() === etag)
  ) {
    return c.body(null, 304, headers);
  }
  const ifRange = c.req.header('if-range');
  const range = ifRange === undefined || ifRange === etag ? parseRange(c.req.header('range'), size) : null;
  if (range === 'unsatisfiable') {
    return c.body(null, 416, { ...headers, 'content-range': `bytes */${size}` });
  }
  const body = range ?? { start: 0, end: size - 1 };
  const length = size === 0 ? 0 : body.end - body.start + 1;
  headers['content-length'] = String(length);
  if (range) headers['content-range'] = `bytes ${range.start}-${range.end}/${size}`;
  const status = range ? 206 : 200;
  if (length === 0 || c.req.method === 'HEAD') return c.body(null, status, headers);
  const stream = Readable.toWeb(createReadStream(path, { start: body.start, end: body.end }));
  return c.body(stream as ReadableStream, status, headers);
};
