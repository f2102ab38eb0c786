import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Catalog, parseCatalogPayload, signedCatalogSchema } from '../../domain/catalog.ts';
import { SEED_MODELS } from '../../firmware-server/seed.ts';
import { parseCatalogPublicKey, verifyCatalogPayload } from '../../lib/catalog-signing.ts';
import { repoRoot } from '../../lib/config.ts';
import { startTestFirmwareServer, type TestFirmwareServer } from '../support/firmware.ts';

const run = promisify(execFile);

async function get(url: string, headers: Record<string, string> = {}, method: 'GET' | 'HEAD' = 'GET') {
  const res = await request(url, { method, headers });
  const body = Buffer.from(await res.body.arrayBuffer());
  return { status: res.statusCode, headers: res.headers, body };
}

async function fetchCatalog(
  server: TestFirmwareServer,
): Promise<{ catalog: Catalog; etag: string; valid: boolean }> {
  const res = await get(`${server.url}/catalog.json`);
  expect(res.status).toBe(200);
  const signed = signedCatalogSchema.parse(JSON.parse(res.body.toString()));
  const valid = verifyCatalogPayload(
    parseCatalogPublicKey(server.publicKey),
    signed.payload,
    signed.signature,
  );
  const parsed = parseCatalogPayload(signed.payload);
  if (!parsed.ok) throw new Error(parsed.error);
  return { catalog: parsed.catalog, etag: String(res.headers.etag), valid };
}

function cli(dataDir: string, ...args: string[]) {
  return run(process.execPath, [join(repoRoot, 'firmware-server/cli.ts'), ...args, '--data-dir', dataDir], {
    env: { ...process.env, LOG_LEVEL: 'warn' },
  });
}

describe('reference firmware server over loopback', () => {
  let server: TestFirmwareServer;
  let catalog: Catalog;

  beforeAll(async () => {
    server = await startTestFirmwareServer();
    catalog = (await fetchCatalog(server)).catalog;
  });
  afterAll(async () => {
    await server.cleanup();
  });

  it('R1/R3: serves a catalog signed with ed25519 that lists every model of R1', async () => {
    const { valid } = await fetchCatalog(server);
    expect(valid).toBe(true);
    expect(catalog.models.map((m) => m.model).sort()).toEqual(SEED_MODELS.map((m) => m.model).sort());
    expect(catalog.models).toHaveLength(30);
    const family = catalog.releases.find((r) => r.fileName === 'T54W-96.86.0.70.rom');
    expect(family?.models).toEqual(['yealink-t54w', 'yealink-t57', 'yealink-t53']);
    expect(family?.sha256).toMatch(/^[0-9a-f]{64}$/);
  });

  it('answers a conditional catalog request with 304 while nothing changed', async () => {
    const first = await get(`${server.url}/catalog.json`);
    const again = await get(`${server.url}/catalog.json`, { 'if-none-match': String(first.headers.etag) });
    expect(again.status).toBe(304);
    expect(again.body).toHaveLength(0);
    const head = await get(`${server.url}/catalog.json`, {}, 'HEAD');
    expect(head.status).toBe(200);
    expect(head.headers.etag).toBe(first.headers.etag);
  });

  it('serves every file with the size and sha256 the catalog states', async () => {
    for (const r of catalog.releases.slice(0, 6)) {
      const res = await get(`${server.url}/files/${r.fileName}`);
      expect(res.status).toBe(200);
      expect(res.body).toHaveLength(r.size);
      expect(createHash('sha256').update(res.body).digest('hex')).toBe(r.sha256);
      expect(res.headers.etag).toBe(`"${r.sha256}"`);
      expect(res.headers['accept-ranges']).toBe('bytes');
    }
  });

  it('honours Range (206), suffix ranges, 416, If-Range, If-None-Match and HEAD', async () => {
    const r = catalog.releases.find(
      (x) => x.fileName === 'T54W-96.86.0.70.rom',
    ) as Catalog['releases'][number];
    const url = `${server.url}/files/${r.fileName}`;
    const whole = (await get(url)).body;

    const part = await get(url, { range: 'bytes=1000-' });
    expect(part.status).toBe(206);
    expect(part.headers['content-range']).toBe(`bytes 1000-${r.size - 1}/${r.size}`);
    expect(part.body.equals(whole.subarray(1000))).toBe(true);

    const mid = await get(url, { range: 'bytes=10-19' });
    expect(mid.body.equals(whole.subarray(10, 20))).toBe(true);
    const tail = await get(url, { range: 'bytes=-16' });
    expect(tail.body.equals(whole.subarray(r.size - 16))).toBe(true);

    const beyond = await get(url, { range: `bytes=${r.size}-` });
    expect(beyond.status).toBe(416);
    expect(beyond.headers['content-range']).toBe(`bytes */${r.size}`);

    const staleIfRange = await get(url, { range: 'bytes=1000-', 'if-range': '"somethingelse"' });
    expect(staleIfRange.status).toBe(200);
    expect(staleIfRange.body).toHaveLength(r.size);
    const goodIfRange = await get(url, { range: 'bytes=1000-', 'if-range': `"${r.sha256}"` });
    expect(goodIfRange.status).toBe(206);

    expect((await get(url, { 'if-none-match': `"${r.sha256}"` })).status).toBe(304);
    const head = await get(url, {}, 'HEAD');
    expect(head.status).toBe(200);
    expect(Number(head.headers['content-length'])).toBe(r.size);
    expect(head.body).toHaveLength(0);

    expect((await get(`${server.url}/files/nope.rom`)).status).toBe(404);
    expect((await get(`${server.url}/files/..%2Fstate.json`)).status).toBe(400);
  });

  it('keeps a request log operators (and tests) can read', async () => {
    const log = await get(`${server.url}/requests?limit=5`);
    const entries = JSON.parse(log.body.toString()).requests as Array<{ path: string; status: number }>;
    expect(entries.length).toBeGreaterThan(0);
    expect(entries.length).toBeLessThanOrEqual(5);
    expect(server.requests().some((e) => e.status === 206 && e.range === 'bytes=1000-')).toBe(true);
  });

  it('the CLI publishes and withdraws releases; the running server serves the change (serial, ETag)', async () => {
    const before = await fetchCatalog(server);
    const published = await cli(
      server.dataDir,
      'publish',
      '--vendor',
      'yealink',
      '--models',
      'T54W,T57,T53',
      '--version',
      '96.86.0.80',
      '--size',
      '30000',
      '--notes',
      'test release',
    );
    const out = JSON.parse(published.stdout) as {
      published: { id: string; fileName: string; sha256: string };
    };
    expect(out.published).toMatchObject({ id: 'yealink-t54w-96.86.0.80', fileName: 'T54W-96.86.0.80.rom' });
    const after = await fetchCatalog(server);
    expect(after.valid).toBe(true);
    expect(after.catalog.serial).toBe(before.catalog.serial + 1);
    expect(after.etag).not.toBe(before.etag);
    const rel = after.catalog.releases.find((r) => r.id === 'yealink-t54w-96.86.0.80');
    expect(rel).toMatchObject({
      size: 30000,
      notes: 'test release',
      models: ['yealink-t54w', 'yealink-t57', 'yealink-t53'],
    });
    const file = await get(`${server.url}/files/T54W-96.86.0.80.rom`);
    expect(createHash('sha256').update(file.body).digest('hex')).toBe(out.published.sha256);

    await cli(server.dataDir, 'withdraw', 'yealink-t54w-96.86.0.80');
    const withdrawn = await fetchCatalog(server);
    expect(withdrawn.catalog.serial).toBe(after.catalog.serial + 1);
    expect(withdrawn.catalog.releases.some((r) => r.id === 'yealink-t54w-96.86.0.80')).toBe(false);
    expect((await get(`${server.url}/files/T54W-96.86.0.80.rom`)).status).toBe(410);

    const listed = await cli(server.dataDir, 'list');
    expect(listed.stdout).toMatch(/W yealink-t54w-96\.86\.0\.80/);
  });

  it('the CLI refuses bad input and changes nothing', async () => {
    const { catalog: before } = await fetchCatalog(server);
    await expect(
      cli(server.dataDir, 'publish', '--vendor', 'yealink', '--models', 'T99', '--version', '1.2.3'),
    ).rejects.toMatchObject({
      stderr: expect.stringMatching(/unknown yealink model "T99"/),
    });
    await expect(
      cli(server.dataDir, 'publish', '--vendor', 'acme', '--models', 'X', '--version', '1.2.3'),
    ).rejects.toMatchObject({
      stderr: expect.stringMatching(/unknown vendor/),
    });
    await expect(
      cli(server.dataDir, 'publish', '--vendor', 'snom', '--models', 'D785', '--version', '10.1.184.15'),
    ).rejects.toMatchObject({ stderr: expect.stringMatching(/already exists/) });
    await expect(cli(server.dataDir, 'withdraw', 'no-such-release')).rejects.toMatchObject({
      stderr: expect.stringMatching(/no release/),
    });
    expect((await fetchCatalog(server)).catalog.serial).toBe(before.serial);
  });

  it('fault injection: 500s, a truncated body, wrong bytes, a tampered catalog', async () => {
    const r = catalog.releases[0] as Catalog['releases'][number];
    const url = `${server.url}/files/${r.fileName}`;
    server.setFaults({ fail500: { count: 2, pathPrefix: '/files/' } });
    expect((await get(url)).status).toBe(500);
    expect((await get(url)).status).toBe(500);
    expect((await get(url)).status).toBe(200);

    server.setFaults({ truncate: { afterBytes: 1000 } });
    await expect(get(url)).rejects.toThrow();
    expect((await get(url)).body).toHaveLength(r.size);
    const cut = server.requests().filter((e) => e.fault === 'truncate');
    expect(cut.at(-1)).toMatchObject({ bytesSent: 1000, aborted: true });

    server.setFaults({ wrongBytes: {} });
    const wrong = await get(url);
    expect(wrong.body).toHaveLength(r.size);
    expect(createHash('sha256').update(wrong.body).digest('hex')).not.toBe(r.sha256);

    server.setFaults({ tamperCatalog: true });
    expect((await fetchCatalog(server)).valid).toBe(false);
    server.setFaults({});
    expect((await fetchCatalog(server)).valid).toBe(true);
  });
});

describe('reference firmware server data dir', () => {
  it('generates the same files in any data dir, and keeps its key pair across restarts', async () => {
    const dirA = mkdtempSync(join(tmpdir(), 'pfd-fw-a-'));
    const dirB = mkdtempSync(join(tmpdir(), 'pfd-fw-b-'));
    try {
      const a = await startTestFirmwareServer({ dataDir: dirA });
      const b = await startTestFirmwareServer({ dataDir: dirB });
      const [ca, cb] = [(await fetchCatalog(a)).catalog, (await fetchCatalog(b)).catalog];
      expect(ca.releases.map((r) => r.sha256)).toEqual(cb.releases.map((r) => r.sha256));
      expect(a.publicKey).not.toBe(b.publicKey);
      await a.cleanup();
      const again = await startTestFirmwareServer({ dataDir: dirA });
      expect(again.publicKey).toBe(a.publicKey);
      expect((await fetchCatalog(again)).catalog.serial).toBe(ca.serial);
      await again.cleanup();
      await b.cleanup();
    } finally {
      rmSync(dirA, { recursive: true, force: true });
      rmSync(dirB, { recursive: true, force: true });
    }
  });
});
