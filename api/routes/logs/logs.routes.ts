import { createRoute, z } from '@hono/zod-openapi';
import { PBX_LOG_NAMES } from '../../../lib/pbx-logs.ts';
import { errorResponses, PbxIdParams, security } from '../../openapi.ts';

/** R14: the three logs by the file names the original appliance uses. */
export const LOG_FILES = PBX_LOG_NAMES.map((n) => `${n}.log` as const);

const text = (description: string) => ({
  description,
  content: { 'text/plain': { schema: z.string().openapi({ description: 'JSON lines (pino)' }) } },
});

export const download = createRoute({
  method: 'get',
  path: '/api/pbxes/{pbxId}/logs/{file}',
  operationId: 'downloadLog',
  tags: ['Journal'],
  security,
  summary:
    'R14: download firmwares.log, firmware-journal.log or autoprov.log of the PBX (streamed; a single byte range with Range: bytes=…, e.g. bytes=-65536 for the last 64 KiB)',
  request: {
    params: PbxIdParams.extend({
      file: z.enum(LOG_FILES as [string, ...string[]]).openapi({ example: 'firmware-journal.log' }),
    }),
  },
  responses: {
    200: text('The whole log (empty when nothing was logged yet)'),
    206: text('The requested byte range'),
    304: { description: 'Unchanged since the ETag given in If-None-Match' },
    416: { description: 'The range lies beyond the end of the log (Content-Range: bytes */<size>)' },
    ...errorResponses(400, 401, 404),
  },
});
