/**
 * Issue 11, item 6: the reference firmware server does not let a client hold a connection open by announcing more
 * than it sends: slow headers and a Content-Length beyond the body are answered 408 and the connection is closed.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FirmwareServer, startFirmwareServer } from '../../firmware-server/server.ts';
import { sendIncompleteRequest } from '../support/slow-client.ts';

let server: FirmwareServer;
let dataDir: string;

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'pfd-fw-timeouts-'));
  server = await startFirmwareServer({
    dataDir,
    port: 0,
    host: '127.0.0.1',
    sizeScale: 0.001,
    logger: pino({ level: 'silent' }),
    timeouts: { headersTimeoutMs: 400, requestTimeoutMs: 800 },
  });
});
afterAll(async () => {
  await server?.close();
  rmSync(dataDir, { recursive: true, force: true });
});

describe('firmware server timeouts (issue 11, R3)', () => {
  it('a Content-Length beyond the body does not hold the connection: answered, then closed at the deadline', async () => {
    const out = await sendIncompleteRequest(
      server.url,
      'POST /catalog.json HTTP/1.1\r\nHost: fw\r\nContent-Length: 100\r\n\r\n0123456789',
      10_000,
    );
    // The server refuses the method at once (405) or times the body out (408); either way the socket goes.
    expect(out.statusLine).toMatch(/^HTTP\/1\.1 40[58]/);
    expect(out.closedAfterMs).toBeLessThan(3_000);
  });

  it('headers that never end are answered 408 and the connection closed', async () => {
    const out = await sendIncompleteRequest(server.url, 'GET /catalog.json HTTP/1.1\r\nHost: fw\r\n', 10_000);
    expect(out.statusLine).toMatch(/^HTTP\/1\.1 408/);
    expect(out.closedAfterMs).toBeLessThan(5_000);
  });

  it('the server still serves after both', async () => {
    const res = await fetch(`${server.url}/catalog.json`);
    expect(res.status).toBe(200);
  });
});
