/**
 * R1/R3: what the PBX accepts from the firmware server's signed catalog, rule by rule: duplicate ids and file
 * names are refused with their path, a release may only cover models of its own vendor, every id and file name
 * pattern is anchored on both sides with its length limit, the canonical JSON the signature covers has one form
 * per document, and the newest release is chosen by version, then id.
 *
 * The module is loaded inside each test (`fresh()` after `vi.resetModules()`): its patterns and schemas are built
 * at load time, so a test that loads it itself is the one that sees them, also under mutation testing (StrykerJS
 * counts top-level code as covered by the test that was running when it executed).
 */
import fc from 'fast-check';
import { describe, expect, it, vi } from 'vitest';
import type { Catalog } from '../../domain/catalog.ts';

async function fresh() {
  vi.resetModules();
  return import('../../domain/catalog.ts');
}

const sha = (c: string) => c.repeat(64);

function model(name: string, vendor = 'yealink', provisioningKey = '096') {
  return { id: `${vendor}-${name.toLowerCase()}`, vendor, model: name, provisioningKey };
}

function release(id: string, fileName: string, models: string[], vendor = 'yealink', version = '96.86.0.70') {
  return {
    id,
    vendor,
    models,
    version,
    fileName,
    size: 47_200_000,
    sha256: sha('a'),
    releasedAt: '2025-04-22T00:00:00.000Z',
    notes: '',
  };
}

function catalog<M, R>(models: M[], releases: R[]) {
  return { serial: 3, generatedAt: '2025-04-22T10:00:00.000Z', models, releases };
}

const good = () =>
  catalog(
    [model('T54W'), model('T57', 'yealink', '097'), model('D785', 'snom', 'snomD785')],
    [
      release('yealink-t54w-96.86.0.70', 'T54W-96.86.0.70.rom', ['yealink-t54w', 'yealink-t57']),
      release('snom-d785-10.1.33.33', 'snomD785-10.1.33.33-SIP-r.bin', ['snom-d785'], 'snom', '10.1.33.33'),
    ],
  );

/** The error text parseCatalogPayload gives for a document, or null when it is accepted. */
async function errorOf(doc: unknown): Promise<string | null> {
  const { parseCatalogPayload } = await fresh();
  const r = parseCatalogPayload(JSON.stringify(doc));
  return r.ok ? null : r.error;
}

describe('R1/R3: the catalog document refuses contradictions, naming where they are', () => {
  it('R1: accepts a well-formed catalog as it is', async () => {
    const { parseCatalogPayload, catalogSchema } = await fresh();
    expect(parseCatalogPayload(JSON.stringify(good()))).toEqual({ ok: true, catalog: good() });
    expect(catalogSchema.safeParse(good()).success).toBe(true);
  });

  it('R1: a model id listed twice is refused at the second entry', async () => {
    const doc = good();
    doc.models.push(model('T54W', 'yealink', '099'));
    expect(await errorOf(doc)).toBe(
      'catalog does not match the schema: models.3: duplicate model yealink-t54w',
    );
  });

  it('R1: a release id listed twice is refused at the second entry, also when its file differs', async () => {
    const doc = good();
    doc.releases.push(release('yealink-t54w-96.86.0.70', 'T54W-other.rom', ['yealink-t54w']));
    expect(await errorOf(doc)).toBe(
      'catalog does not match the schema: releases.2: duplicate release yealink-t54w-96.86.0.70',
    );
  });

  it('R1: two releases with one file name are refused (phones fetch firmware by that name)', async () => {
    const doc = good();
    doc.releases.push(release('yealink-t54w-96.86.0.71', 'T54W-96.86.0.70.rom', ['yealink-t54w']));
    expect(await errorOf(doc)).toBe(
      'catalog does not match the schema: releases.2: duplicate file T54W-96.86.0.70.rom',
    );
  });

  it('R1: every later duplicate is found, not only the first pair', async () => {
    const doc = good();
    doc.releases.push(release('r-2', 'f-2.rom', ['yealink-t54w']));
    doc.releases.push(release('r-3', 'f-3.rom', ['yealink-t54w']));
    doc.releases.push(release('r-3', 'f-3.rom', ['yealink-t54w']));
    expect(await errorOf(doc)).toBe(
      'catalog does not match the schema: releases.4: duplicate release r-3; releases.4: duplicate file f-3.rom',
    );
  });

  it('R1: a release may not cover a model of another vendor', async () => {
    const doc = good();
    doc.releases.push(release('snom-d785-10.1.46.16', 'snomD785-10.1.46.16.bin', ['yealink-t57'], 'snom'));
    expect(await errorOf(doc)).toBe(
      'catalog does not match the schema: releases.2: release snom-d785-10.1.46.16 covers yealink-t57 of another vendor',
    );
  });

  it('R1: a release may not cover a model the catalog does not list', async () => {
    const doc = good();
    doc.releases[0]?.models.push('yealink-t99');
    expect(await errorOf(doc)).toBe(
      'catalog does not match the schema: releases.0: release yealink-t54w-96.86.0.70 covers unknown model yealink-t99',
    );
  });

  it('R1: a model id must be modelIdOf(vendor, model)', async () => {
    const doc = good();
    doc.models.push({ id: 'yealink-t58', vendor: 'yealink', model: 'T58W', provisioningKey: '150' });
    expect(await errorOf(doc)).toBe(
      'catalog does not match the schema: models.3.id: model id must be modelIdOf(vendor, model)',
    );
  });

  it('R3: the error names at most five problems, joined by "; ", and "(root)" for the document itself', async () => {
    const doc = good();
    for (let i = 0; i < 7; i++) doc.models.push(model('T54W', 'yealink', String(i)));
    const error = (await errorOf(doc)) ?? '';
    expect(error.split('; ')).toHaveLength(5);
    expect(error).toMatch(
      /^catalog does not match the schema: models\.3: duplicate model yealink-t54w; models\.4:/,
    );
    expect(await errorOf([])).toMatch(/^catalog does not match the schema: \(root\): /);
    expect(await errorOf(null)).toMatch(/^catalog does not match the schema: \(root\): /);
  });

  it('R1: each contradiction is one custom issue at the entry it concerns', async () => {
    const { catalogSchema } = await fresh();
    const doc = good();
    doc.models.push(model('T57', 'yealink', '098'));
    doc.releases.push(
      release('snom-d785-10.1.33.33', 'T54W-96.86.0.70.rom', ['yealink-t57', 'yealink-t99'], 'snom'),
    );
    const r = catalogSchema.safeParse(doc);
    expect(r.error?.issues.map((i) => [i.code, i.path.join('.'), i.message])).toEqual([
      ['custom', 'models.3', 'duplicate model yealink-t57'],
      ['custom', 'releases.2', 'duplicate release snom-d785-10.1.33.33'],
      ['custom', 'releases.2', 'duplicate file T54W-96.86.0.70.rom'],
      ['custom', 'releases.2', 'release snom-d785-10.1.33.33 covers yealink-t57 of another vendor'],
      ['custom', 'releases.2', 'release snom-d785-10.1.33.33 covers unknown model yealink-t99'],
    ]);
  });

  it('R3: unknown fields are refused at every level (strict), a missing one too', async () => {
    const { catalogSchema, catalogModelSchema, catalogReleaseSchema, signedCatalogSchema } = await fresh();
    const doc = good();
    expect(catalogSchema.safeParse({ ...doc, extra: 1 }).success).toBe(false);
    expect(catalogModelSchema.safeParse({ ...model('T57'), extra: 1 }).success).toBe(false);
    expect(catalogReleaseSchema.safeParse({ ...release('a', 'b', ['c']), extra: 1 }).success).toBe(false);
    const signed = { payload: '{}', signature: 'AAAA', keyId: 'k1' };
    expect(signedCatalogSchema.safeParse(signed).success).toBe(true);
    expect(signedCatalogSchema.safeParse({ ...signed, extra: 1 }).success).toBe(false);
    for (const key of ['serial', 'generatedAt', 'models', 'releases'] as const) {
      const { [key]: _, ...rest } = doc;
      expect(catalogSchema.safeParse(rest).success, key).toBe(false);
    }
  });
});

describe('R1/R3: field limits of models, releases and the signed envelope', () => {
  it('R1: model names 1..40 characters, starting with a letter or digit, spaces inside allowed', async () => {
    const { modelNameSchema } = await fresh();
    const ok = (s: string) => modelNameSchema.safeParse(s).success;
    expect(['T54W', 'N670 IP PRO', 'T19P_E2', 'A', 'x'.repeat(40), '9.x-y'].map(ok)).toEqual([
      true,
      true,
      true,
      true,
      true,
      true,
    ]);
    expect(['', 'x'.repeat(41), ' T54W', '-T54W', 'T54W!', 'T54W\n', 'Ü'].map(ok)).toEqual([
      false,
      false,
      false,
      false,
      false,
      false,
      false,
    ]);
  });

  it('R1: provisioning keys 1..40 of letters, digits and . _ - (they go into file names)', async () => {
    const { provisioningKeySchema } = await fresh();
    const ok = (s: string) => provisioningKeySchema.safeParse(s).success;
    expect(['096', 'snomD785', 'Nx70', 'a.b_c-d', 'k'.repeat(40), '-'].map(ok)).toEqual([
      true,
      true,
      true,
      true,
      true,
      true,
    ]);
    expect(['', 'k'.repeat(41), 'a b', '../x', 'a/b', 'x\n', 'a;b'].map(ok)).toEqual([
      false,
      false,
      false,
      false,
      false,
      false,
      false,
    ]);
  });

  it('R3: a sha256 is exactly 64 lower-case hex digits, anchored at both ends', async () => {
    const { SHA256_PATTERN } = await fresh();
    const hex = sha('0').slice(0, 63);
    expect(SHA256_PATTERN.test(`${hex}f`)).toBe(true);
    for (const bad of [hex, `${hex}ff`, `x${hex}f`, `${hex}fx`, `${hex}F`, `${hex}g`, '0', '']) {
      expect(SHA256_PATTERN.test(bad), bad).toBe(false);
    }
  });

  it('R3: firmware file names are URL-safe, start with a letter or digit, 1..200 characters', async () => {
    const { FIRMWARE_FILE_NAME_PATTERN: P } = await fresh();
    for (const ok of ['T54W-96.86.0.70.rom', 'a', 'a+b_c.d-e', `a${'b'.repeat(199)}`])
      expect(P.test(ok), ok).toBe(true);
    for (const bad of [
      '',
      '.hidden',
      '-x',
      '../etc/passwd',
      'a/b',
      'a b',
      `a${'b'.repeat(200)}`,
      'x?y',
      'x\n',
      '%2e',
    ]) {
      expect(P.test(bad), bad).toBe(false);
    }
  });

  it('R1: model ids are lower-case words joined by single dashes, anchored at both ends', async () => {
    const { MODEL_ID_PATTERN: P } = await fresh();
    for (const ok of ['yealink-t54w', 'snom-d785', 'gigaset-n670-ip-pro', 'a', 'ab-cd'])
      expect(P.test(ok), ok).toBe(true);
    for (const bad of [
      '',
      '-a',
      'a-',
      'a--b',
      'Yealink-t54w',
      'yealink-T54W',
      'a b',
      'a_b',
      'x/y',
      ' a',
      'a ',
    ]) {
      expect(P.test(bad), bad).toBe(false);
    }
  });

  it('R1: release ids start with a letter or digit, then . and -, 1..160 characters', async () => {
    const { RELEASE_ID_PATTERN: P } = await fresh();
    for (const ok of ['yealink-t54w-96.86.0.70', 'a', `a${'b'.repeat(159)}`, '9.-'])
      expect(P.test(ok), ok).toBe(true);
    for (const bad of ['', '.a', '-a', 'A', 'a_b', 'a/b', 'a b', `a${'b'.repeat(160)}`, 'x\n']) {
      expect(P.test(bad), bad).toBe(false);
    }
  });

  it('R3: dates carry an offset; sizes, serials and notes are bounded; a release covers at least one model', async () => {
    const { catalogReleaseSchema, catalogSchema } = await fresh();
    const ok = (patch: object) =>
      catalogReleaseSchema.safeParse({ ...release('r', 'f', ['m']), ...patch }).success;
    expect(ok({ releasedAt: '2025-04-22T02:00:00+02:00' })).toBe(true);
    expect(ok({ releasedAt: '2025-04-22T00:00:00' })).toBe(false);
    expect(ok({ releasedAt: 'yesterday' })).toBe(false);
    expect(ok({ size: 1 })).toBe(true);
    expect(ok({ size: Number.MAX_SAFE_INTEGER })).toBe(true);
    expect(ok({ size: 0 })).toBe(false);
    expect(ok({ size: 1.5 })).toBe(false);
    expect(ok({ notes: 'n'.repeat(4000) })).toBe(true);
    expect(ok({ notes: 'n'.repeat(4001) })).toBe(false);
    expect(ok({ models: [] })).toBe(false);
    expect(ok({ models: ['a', 'b'] })).toBe(true);
    expect(ok({ version: '96.86.0.70' })).toBe(true);
    expect(ok({ version: 'latest' })).toBe(false);
    const serial = (n: number) => catalogSchema.safeParse({ ...catalog([], []), serial: n }).success;
    expect([0, 1, Number.MAX_SAFE_INTEGER].map(serial)).toEqual([true, true, true]);
    expect([-1, 0.5, Number.MAX_SAFE_INTEGER + 1].map(serial)).toEqual([false, false, false]);
    expect(
      catalogSchema.safeParse({ ...catalog([], []), generatedAt: '2025-04-22T10:00:00+02:00' }).success,
    ).toBe(true);
  });

  it('R3: the signed envelope: payload of at least 2 characters, base64 signature, key id 1..64', async () => {
    const { signedCatalogSchema } = await fresh();
    const ok = (patch: object) =>
      signedCatalogSchema.safeParse({ payload: '{}', signature: 'AAAA', keyId: 'k', ...patch }).success;
    expect([{}, { signature: 'ab+/AA==' }, { signature: 'A=' }, { keyId: 'k'.repeat(64) }].map(ok)).toEqual([
      true,
      true,
      true,
      true,
    ]);
    expect(
      [
        { payload: '{' },
        { signature: '' },
        { signature: '=' },
        { signature: 'AA===' },
        { signature: 'AA=A' },
        { signature: ' AAAA' },
        { signature: 'AAAA ' },
        { signature: 'AA-_' },
        { keyId: '' },
        { keyId: 'k'.repeat(65) },
      ].map(ok),
    ).toEqual(Array(10).fill(false));
  });
});

describe('R3: canonical JSON, the bytes the catalog signature covers', () => {
  const json = fc.jsonValue();

  it('R3: is JSON that parses back to the same value, whatever the key order (property)', async () => {
    const { canonicalJson } = await fresh();
    fc.assert(
      fc.property(json, (v) => {
        const text = canonicalJson(v);
        expect(JSON.parse(text)).toEqual(JSON.parse(JSON.stringify(v)));
        expect(text).not.toMatch(/^\s|\s$/);
      }),
      { numRuns: 300 },
    );
  });

  it('R3: keys come out sorted at every depth, so any producer order gives the same bytes (property)', async () => {
    const { canonicalJson } = await fresh();
    // The form written out independently: keys in UTF-16 code-unit order (Array#sort's default, as RFC 8785 §3.2.3
    // sorts them), no whitespace. Not JSON.stringify of a sorted copy: objects put integer-like keys first.
    const expected = (v: unknown): string =>
      Array.isArray(v)
        ? `[${v.map(expected).join(',')}]`
        : v !== null && typeof v === 'object'
          ? `{${Object.keys(v)
              .sort()
              .map((k) => `${JSON.stringify(k)}:${expected((v as Record<string, unknown>)[k])}`)
              .join(',')}}`
          : JSON.stringify(v);
    const reversed = (v: unknown): unknown =>
      Array.isArray(v)
        ? v.map(reversed)
        : v !== null && typeof v === 'object'
          ? Object.fromEntries(
              Object.keys(v)
                .reverse()
                .map((k) => [k, reversed((v as Record<string, unknown>)[k])]),
            )
          : v;
    fc.assert(
      fc.property(json, (v) => {
        expect(canonicalJson(v)).toBe(expected(v));
        expect(canonicalJson(reversed(v))).toBe(canonicalJson(v));
      }),
      { numRuns: 300 },
    );
    expect(canonicalJson({ z: 1, y: 2, x: 3, w: 4, b: 5, a: 6, B: 7, A: 8 })).toBe(
      '{"A":8,"B":7,"a":6,"b":5,"w":4,"x":3,"y":2,"z":1}',
    );
    // Integer-like keys sort as text too (JSON.stringify would put them first, in numeric order).
    expect(canonicalJson({ 9: 'a', 10: 'b', '': 'c', x: 'd' })).toBe('{"":"c","10":"b","9":"a","x":"d"}');
  });

  it('R3: an undefined field is left out as JSON.stringify does; undefined itself and NaN/Infinity are errors', async () => {
    const { canonicalJson } = await fresh();
    expect(canonicalJson({ b: 1, a: undefined, c: { d: undefined } })).toBe('{"b":1,"c":{}}');
    expect(canonicalJson({ notes: undefined })).toBe(JSON.stringify({ notes: undefined }));
    expect(() => canonicalJson(undefined)).toThrow('canonicalJson: undefined has no JSON form');
    expect(() => canonicalJson([1, undefined])).toThrow('canonicalJson: undefined has no JSON form');
    expect(() => canonicalJson({ a: Number.POSITIVE_INFINITY })).toThrow('canonicalJson: non-finite number');
    expect(canonicalJson(['a', 1, true, null, 'é"\\'])).toBe('["a",1,true,null,"é\\"\\\\"]');
  });

  it('R3: a catalog survives canonicalJson → parseCatalogPayload unchanged', async () => {
    const { canonicalJson, parseCatalogPayload } = await fresh();
    const doc = good() as Catalog;
    expect(parseCatalogPayload(canonicalJson(doc))).toEqual({ ok: true, catalog: doc });
  });
});

describe('R6/R10: the newest release of a model', () => {
  const r = (id: string, version: string, extra: object = {}) => ({ id, version, models: ['m'], ...extra });

  it('R6: the highest version wins wherever it stands in the list', async () => {
    const { newestReleaseFor } = await fresh();
    expect(newestReleaseFor([r('a', '1.0.10'), r('b', '1.0.9'), r('c', '1.0.2')], 'm')?.id).toBe('a');
    expect(newestReleaseFor([r('c', '1.0.2'), r('a', '1.0.10'), r('b', '1.0.9')], 'm')?.id).toBe('a');
    expect(newestReleaseFor([r('b', '1.0.9'), r('c', '1.0.2'), r('a', '1.0.10')], 'm')?.id).toBe('a');
    expect(newestReleaseFor([r('z', '2.0'), r('a', '1.0')], 'm')?.id).toBe('z');
  });

  it('R6: equal versions: the later id wins, whatever the list order (a stable answer)', async () => {
    const { newestReleaseFor } = await fresh();
    expect(newestReleaseFor([r('b', '1.0'), r('a', '1.0')], 'm')?.id).toBe('b');
    expect(newestReleaseFor([r('a', '1.0'), r('b', '1.0')], 'm')?.id).toBe('b');
    expect(newestReleaseFor([r('a', '1.0'), r('b', '1.0.0')], 'm')?.id).toBe('b');
  });

  it('R6: withdrawn releases and releases of other models are never chosen', async () => {
    const { newestReleaseFor } = await fresh();
    const list = [r('a', '1.0'), r('b', '9.0', { withdrawn: true }), r('c', '8.0', { models: ['other'] })];
    expect(newestReleaseFor(list, 'm')?.id).toBe('a');
    expect(newestReleaseFor(list, 'other')?.id).toBe('c');
    expect(newestReleaseFor([r('b', '9.0', { withdrawn: true })], 'm')).toBeNull();
    expect(newestReleaseFor([], 'm')).toBeNull();
  });
});
