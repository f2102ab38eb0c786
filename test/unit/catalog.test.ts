import { describe, expect, it } from 'vitest';
import {
  type Catalog,
  canonicalJson,
  catalogSerialVerdict,
  FIRMWARE_FILE_NAME_PATTERN,
  newestReleaseFor,
  parseCatalogPayload,
  typeNeedsDownload,
} from '../../domain/catalog.ts';
import { modelIdOf } from '../../domain/vendors.ts';
import { SEED_MODELS, SEED_RELEASES } from '../../firmware-server/seed.ts';
import {
  catalogKeyId,
  generateCatalogKeyPair,
  parseCatalogPublicKey,
  privateKeyFromPem,
  rawPublicKeyBase64,
  signCatalogPayload,
  verifyCatalogPayload,
} from '../../lib/catalog-signing.ts';

const R1 = {
  yealink: ['T31', 'T46U', 'T53', 'T54W', 'T57', 'T58W', 'VP59', 'CP920', 'CP925', 'CP960', 'CP965'],
  snom: [
    'D120',
    'D315',
    'D345',
    'D385',
    'D712',
    'D715',
    'D717',
    'D725',
    'D735',
    'D785',
    'D862',
    'D865',
    'PA1',
  ],
  grandstream: ['HT802', 'HT812', 'HT814'],
  gigaset: ['N670', 'N870', 'N610'],
};

const sha = (c: string) => c.repeat(64);

function sampleCatalog(): Catalog {
  return {
    serial: 3,
    generatedAt: '2025-04-22T10:00:00.000Z',
    models: [
      { id: 'yealink-t54w', vendor: 'yealink', model: 'T54W', provisioningKey: '096' },
      { id: 'yealink-t57', vendor: 'yealink', model: 'T57', provisioningKey: '097' },
    ],
    releases: [
      {
        id: 'yealink-t54w-96.86.0.70',
        vendor: 'yealink',
        models: ['yealink-t54w', 'yealink-t57'],
        version: '96.86.0.70',
        fileName: 'T54W-96.86.0.70.rom',
        size: 47_200_000,
        sha256: sha('a'),
        releasedAt: '2025-04-22T00:00:00.000Z',
        notes: '',
      },
    ],
  };
}

describe('catalog document', () => {
  it('R1: the seed covers exactly the models of R1, with vendor provisioning keys', () => {
    const byVendor: Record<string, string[]> = {};
    for (const m of SEED_MODELS) byVendor[m.vendor] = [...(byVendor[m.vendor] ?? []), m.model];
    expect(byVendor).toEqual(R1);
    const key = (model: string) => SEED_MODELS.find((m) => m.model === model)?.provisioningKey;
    expect([key('T31'), key('T46U'), key('T53'), key('T54W'), key('T57'), key('T58W')]).toEqual([
      '123',
      '108',
      '095',
      '096',
      '097',
      '150',
    ]);
    expect([key('VP59'), key('CP920'), key('CP925'), key('CP960'), key('CP965')]).toEqual([
      '091',
      '078',
      '148',
      '073',
      '143',
    ]);
    expect([key('D785'), key('D715'), key('PA1'), key('HT802'), key('N670'), key('N610')]).toEqual([
      'snomD785',
      'snomD715',
      'snomPA1',
      'HT802',
      'Nx70',
      'Nx70',
    ]);
  });

  it('R1: every seeded model has a release; file names are URL-safe and versions vendor-shaped', () => {
    for (const m of SEED_MODELS) {
      expect(
        SEED_RELEASES.some((r) => r.vendor === m.vendor && r.models.includes(m.model)),
        m.model,
      ).toBe(true);
    }
    const shapes = {
      yealink: /^\d{2,3}\.8[5-7]\.\d+\.\d+$/,
      snom: /^(10\.1|8\.7)\.\d+\.\d+$/,
      grandstream: /^1\.0\.\d+\.\d+$/,
      gigaset: /^2\.\d+\.\d+$/,
    };
    for (const r of SEED_RELEASES) {
      expect(r.fileName).toMatch(FIRMWARE_FILE_NAME_PATTERN);
      expect(encodeURIComponent(r.fileName)).toBe(r.fileName);
      expect(r.version).toMatch(shapes[r.vendor]);
      expect(r.fileName).toContain(r.version);
    }
    // One image covers a family.
    expect(SEED_RELEASES.find((r) => r.fileName === 'T54W-96.86.0.70.rom')?.models).toEqual([
      'T54W',
      'T57',
      'T53',
    ]);
    expect(SEED_RELEASES.find((r) => r.vendor === 'gigaset')?.models).toEqual(['N670', 'N870', 'N610']);
    expect(SEED_RELEASES.find((r) => r.models.includes('D715'))?.fileName).toMatch(/^snom715-10\.1\./);
  });

  it('sizes are realistic: tens of MB, the Yealink T58W hundreds', () => {
    const size = (m: string) => SEED_RELEASES.find((r) => r.models.includes(m))?.nominalSize ?? 0;
    expect(size('T54W')).toBeGreaterThan(20e6);
    expect(size('T54W')).toBeLessThan(100e6);
    expect(size('T58W')).toBeGreaterThan(500e6);
    expect(size('N670')).toBeGreaterThan(20e6);
  });

  it('canonical JSON sorts keys at every depth and has no whitespace', () => {
    expect(canonicalJson({ b: 1, a: [{ d: 2, c: 'x' }], e: null })).toBe(
      '{"a":[{"c":"x","d":2}],"b":1,"e":null}',
    );
    expect(canonicalJson({ a: 1, b: 2 })).toBe(canonicalJson({ b: 2, a: 1 }));
    expect(() => canonicalJson({ a: Number.NaN })).toThrow(/non-finite/);
  });

  it('parses a valid catalog and rejects broken ones with a clear error', () => {
    const good = sampleCatalog();
    expect(parseCatalogPayload(canonicalJson(good))).toEqual({ ok: true, catalog: good });
    expect(parseCatalogPayload('{nope')).toMatchObject({
      ok: false,
      error: expect.stringMatching(/not JSON/),
    });

    const unknownModel = sampleCatalog();
    unknownModel.releases[0]?.models.push('yealink-t99');
    expect(parseCatalogPayload(JSON.stringify(unknownModel))).toMatchObject({
      ok: false,
      error: expect.stringMatching(/unknown model yealink-t99/),
    });
    const badName = sampleCatalog();
    if (badName.releases[0]) badName.releases[0].fileName = '../etc/passwd';
    expect(parseCatalogPayload(JSON.stringify(badName)).ok).toBe(false);
    const badId = sampleCatalog();
    if (badId.models[0]) badId.models[0].id = 'yealink-t54';
    expect(parseCatalogPayload(JSON.stringify(badId)).ok).toBe(false);
    const badSha = sampleCatalog();
    if (badSha.releases[0]) badSha.releases[0].sha256 = 'xyz';
    expect(parseCatalogPayload(JSON.stringify(badSha)).ok).toBe(false);
  });

  it('R3: replay protection refuses a lower serial and ignores the same one', () => {
    expect(catalogSerialVerdict(5, 4)).toBe('apply');
    expect(catalogSerialVerdict(4, 4)).toBe('same');
    expect(catalogSerialVerdict(3, 4)).toBe('rollback');
  });
});

describe('catalog signatures (ed25519)', () => {
  it('verifies what was signed and nothing else', () => {
    const pair = generateCatalogKeyPair();
    const priv = privateKeyFromPem(pair.privateKeyPem);
    const pub = parseCatalogPublicKey(pair.publicKey);
    const payload = canonicalJson(sampleCatalog());
    const signature = signCatalogPayload(priv, payload);
    expect(verifyCatalogPayload(pub, payload, signature)).toBe(true);
    expect(verifyCatalogPayload(pub, payload.replace('96.86.0.70', '96.86.0.71'), signature)).toBe(false);
    expect(verifyCatalogPayload(pub, payload, Buffer.alloc(64).toString('base64'))).toBe(false);
    expect(verifyCatalogPayload(pub, payload, 'AAAA')).toBe(false);
    const other = parseCatalogPublicKey(generateCatalogKeyPair().publicKey);
    expect(verifyCatalogPayload(other, payload, signature)).toBe(false);
  });

  it('accepts the public key as base64 raw 32 bytes or PEM, and refuses anything else', () => {
    const pair = generateCatalogKeyPair();
    const fromRaw = parseCatalogPublicKey(pair.publicKey);
    expect(Buffer.from(pair.publicKey, 'base64')).toHaveLength(32);
    const pem = fromRaw.export({ format: 'pem', type: 'spki' }).toString();
    const fromPem = parseCatalogPublicKey(pem);
    expect(rawPublicKeyBase64(fromPem)).toBe(pair.publicKey);
    expect(catalogKeyId(fromPem)).toBe(catalogKeyId(fromRaw));
    expect(() => parseCatalogPublicKey('c2hvcnQ=')).toThrow(/32 raw bytes/);
    expect(() => parseCatalogPublicKey('not a key!')).toThrow(/base64/);
  });
});

describe('what is newest and what needs a download', () => {
  const releases = [
    { id: 'a', version: '96.86.0.45', models: ['yealink-t54w'] },
    { id: 'b', version: '96.86.0.70', models: ['yealink-t54w', 'yealink-t57'] },
    { id: 'c', version: '96.86.0.80', models: ['yealink-t54w'], withdrawn: true },
  ];

  it('picks the newest release covering the model, skipping withdrawn ones', () => {
    expect(newestReleaseFor(releases, 'yealink-t54w')?.id).toBe('b');
    expect(newestReleaseFor(releases, 'yealink-t57')?.id).toBe('b');
    expect(newestReleaseFor(releases, modelIdOf('snom', 'D785'))).toBeNull();
  });

  it('R4/R10: a download is due when the catalog offers something newer than everything held', () => {
    const newestAvailable = { releaseId: 'b', version: '96.86.0.70' };
    expect(typeNeedsDownload({ imageManaged: false, localVersions: [], newestAvailable })).toBe(true);
    expect(typeNeedsDownload({ imageManaged: false, localVersions: ['96.86.0.45'], newestAvailable })).toBe(
      true,
    );
    expect(typeNeedsDownload({ imageManaged: false, localVersions: ['96.86.0.70'], newestAvailable })).toBe(
      false,
    );
    expect(typeNeedsDownload({ imageManaged: false, localVersions: ['96.86.0.80'], newestAvailable })).toBe(
      false,
    );
    expect(typeNeedsDownload({ imageManaged: false, localVersions: [], newestAvailable: null })).toBe(false);
  });

  it('R2: an image-managed type never needs a download', () => {
    expect(
      typeNeedsDownload({
        imageManaged: true,
        localVersions: [],
        newestAvailable: { releaseId: 'x', version: '9.9' },
      }),
    ).toBe(false);
  });
});
