/**
 * Bad input: every malformed request gets a 4xx whose `field` names what was wrong, nothing changes (database,
 * workflow), and nothing is ever a 5xx.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ApiHarness, type CallOptions, createApiHarness, snapshotState } from '../support/api.ts';
import { lifecycleStubBundle, stubReceived } from '../support/lifecycle-stub.ts';

let h: ApiHarness;
let token: string;
let accountId: number;
const P = '/api/pbxes/acme';

beforeAll(async () => {
  h = await createApiHarness({ workflowBundle: await lifecycleStubBundle() });
  token = await h.token('alice');
  await h.call('POST', '/api/pbxes', {
    token,
    json: { id: 'acme', name: 'ACME', timeZone: 'Europe/Berlin' },
  });
  const res = await h.call('POST', `${P}/accounts`, {
    token,
    json: { mac: '805ec0aabbcc', model: 'yealink-t54w', extension: '100' },
  });
  accountId = res.body.account.id;
});
afterAll(async () => {
  await h?.close();
});

const account = { mac: '805ec0000001', model: 'yealink-t54w', extension: '200' };
const pbx = { name: 'New', timeZone: 'Europe/Berlin' };

type Case = [
  name: string,
  method: string,
  path: string,
  request: CallOptions,
  status: number,
  field?: string,
];

const cases: Case[] = [
  // malformed bodies
  [
    'malformed JSON',
    'POST',
    '/api/pbxes',
    { body: '{"name": "x",', headers: { 'content-type': 'application/json' } },
    400,
    'body',
  ],
  [
    'JSON null',
    'POST',
    '/api/pbxes',
    { body: 'null', headers: { 'content-type': 'application/json' } },
    400,
    'body',
  ],
  ['JSON array instead of object', 'POST', '/api/pbxes', { json: [pbx] }, 400, 'body'],
  [
    'text/plain body',
    'POST',
    '/api/pbxes',
    { body: JSON.stringify(pbx), headers: { 'content-type': 'text/plain' } },
    415,
    'body',
  ],
  ['body without content type', 'POST', `${P}/check-now`, { body: '{}' }, 415, 'body'],
  [
    'empty required body',
    'POST',
    '/api/pbxes',
    { headers: { 'content-type': 'application/json' }, body: '' },
    400,
    'body',
  ],
  [
    'oversize body',
    'POST',
    `${P}/accounts/bulk`,
    { json: { accounts: [{ ...account, displayName: 'x'.repeat(1_100_000) }] } },
    413,
    'body',
  ],
  // register a PBX
  ['name of wrong type', 'POST', '/api/pbxes', { json: { ...pbx, name: 5 } }, 400, 'name'],
  ['name missing', 'POST', '/api/pbxes', { json: { timeZone: 'Europe/Berlin' } }, 400, 'name'],
  ['name too long', 'POST', '/api/pbxes', { json: { ...pbx, name: 'n'.repeat(201) } }, 400, 'name'],
  [
    'unknown time zone',
    'POST',
    '/api/pbxes',
    { json: { ...pbx, timeZone: 'Mars/Olympus_Mons' } },
    400,
    'timeZone',
  ],
  [
    'offset instead of time zone',
    'POST',
    '/api/pbxes',
    { json: { ...pbx, timeZone: '+01:00' } },
    400,
    'timeZone',
  ],
  ['bad PBX id', 'POST', '/api/pbxes', { json: { ...pbx, id: 'Bad_ID' } }, 400, 'id'],
  [
    'weekly check moment given',
    'POST',
    '/api/pbxes',
    { json: { ...pbx, weeklyCheckDay: 3 } },
    400,
    'weeklyCheckDay',
  ],
  ['bad SIP domain', 'POST', '/api/pbxes', { json: { ...pbx, sipDomain: 'not a domain' } }, 400, 'sipDomain'],
  ['existing PBX id', 'POST', '/api/pbxes', { json: { ...pbx, id: 'acme' } }, 409, 'id'],
  // PBX ids in the path
  ['PBX id with capitals', 'GET', '/api/pbxes/ACME', {}, 400, 'pbxId'],
  ['unknown PBX', 'GET', '/api/pbxes/nope', {}, 404, 'pbxId'],
  // settings (R8, R11)
  ['no setting named', 'PATCH', `${P}/settings`, { json: {} }, 400, 'body'],
  [
    'switch as text',
    'PATCH',
    `${P}/settings`,
    { json: { autoDownloadInstall: 'false' } },
    400,
    'autoDownloadInstall',
  ],
  [
    'bad weekday',
    'PATCH',
    `${P}/settings`,
    { json: { updateMoment: { day: 'funday', time: '03:00' } } },
    400,
    'updateMoment.day',
  ],
  [
    'weekday as number',
    'PATCH',
    `${P}/settings`,
    { json: { updateMoment: { day: 8, time: '03:00' } } },
    400,
    'updateMoment.day',
  ],
  [
    'time 24:00',
    'PATCH',
    `${P}/settings`,
    { json: { updateMoment: { day: 'monday', time: '24:00' } } },
    400,
    'updateMoment.time',
  ],
  [
    'time without leading zero',
    'PATCH',
    `${P}/settings`,
    { json: { updateMoment: { day: 'monday', time: '7:00' } } },
    400,
    'updateMoment.time',
  ],
  [
    'time missing',
    'PATCH',
    `${P}/settings`,
    { json: { updateMoment: { day: 'monday' } } },
    400,
    'updateMoment.time',
  ],
  [
    'weekly check moment changed',
    'PATCH',
    `${P}/settings`,
    { json: { weeklyCheckMinute: 5 } },
    400,
    'weeklyCheckMinute',
  ],
  // Auto-Update (R7)
  [
    'enabled as number',
    'PUT',
    `${P}/types/yealink-t54w/auto-update`,
    { json: { enabled: 1 } },
    400,
    'enabled',
  ],
  ['enabled missing', 'PUT', `${P}/types/yealink-t54w/auto-update`, { json: {} }, 400, 'enabled'],
  [
    'malformed model id',
    'PUT',
    `${P}/types/Bad%20Model/auto-update`,
    { json: { enabled: true } },
    400,
    'modelId',
  ],
  ['unknown model id', 'PUT', `${P}/types/acme-x1/auto-update`, { json: { enabled: true } }, 404, 'modelId'],
  // phone accounts
  ['bad MAC', 'POST', `${P}/accounts`, { json: { ...account, mac: '80:5e:c0:aa:bb' } }, 400, 'mac'],
  [
    'MAC with a non-hex digit',
    'POST',
    `${P}/accounts`,
    { json: { ...account, mac: '805ec0aabbcg' } },
    400,
    'mac',
  ],
  ['MAC of wrong type', 'POST', `${P}/accounts`, { json: { ...account, mac: 805 } }, 400, 'mac'],
  ['unknown model', 'POST', `${P}/accounts`, { json: { ...account, model: 'Nokia 3310' } }, 400, 'model'],
  [
    'extension with a space',
    'POST',
    `${P}/accounts`,
    { json: { ...account, extension: '2 00' } },
    400,
    'extension',
  ],
  ['active as text', 'POST', `${P}/accounts`, { json: { ...account, active: 'yes' } }, 400, 'active'],
  [
    'unknown account field',
    'POST',
    `${P}/accounts`,
    { json: { ...account, sipPassword: 'x' } },
    400,
    'sipPassword',
  ],
  [
    'MAC already used',
    'POST',
    `${P}/accounts`,
    { json: { ...account, mac: '80:5E:C0:AA:BB:CC' } },
    409,
    'mac',
  ],
  [
    'extension already used',
    'POST',
    `${P}/accounts`,
    { json: { ...account, extension: '100' } },
    409,
    'extension',
  ],
  ['empty bulk', 'POST', `${P}/accounts/bulk`, { json: { accounts: [] } }, 400, 'accounts'],
  [
    'bulk over the limit',
    'POST',
    `${P}/accounts/bulk`,
    {
      json: {
        accounts: Array.from({ length: 1001 }, (_, i) => ({
          ...account,
          mac: `805ec0${i.toString(16).padStart(6, '0')}`,
          extension: `${5000 + i}`,
        })),
      },
    },
    400,
    'accounts',
  ],
  [
    'bad MAC in bulk item 2',
    'POST',
    `${P}/accounts/bulk`,
    {
      json: {
        accounts: [
          account,
          { ...account, mac: '805ec0000002', extension: '201' },
          { ...account, mac: 'nope', extension: '202' },
        ],
      },
    },
    400,
    'accounts.2.mac',
  ],
  [
    'MAC twice in one bulk',
    'POST',
    `${P}/accounts/bulk`,
    {
      json: { accounts: [account, { ...account, mac: '80-5E-C0-00-00-01', extension: '201' }] },
    },
    409,
    'accounts.1.mac',
  ],
  [
    'unknown model in bulk item 1',
    'POST',
    `${P}/accounts/bulk`,
    {
      json: { accounts: [account, { ...account, mac: '805ec0000002', extension: '201', model: 'x' }] },
    },
    400,
    'accounts.1.model',
  ],
  [
    'taken MAC in bulk item 1',
    'POST',
    `${P}/accounts/bulk`,
    {
      json: { accounts: [account, { ...account, mac: '805ec0aabbcc', extension: '201' }] },
    },
    409,
    'accounts.1.mac',
  ],
  ['account id not a number', 'GET', `${P}/accounts/abc`, {}, 400, 'accountId'],
  ['account id negative', 'DELETE', `${P}/accounts/-1`, {}, 400, 'accountId'],
  ['account id beyond range', 'GET', `${P}/accounts/1${'0'.repeat(30)}`, {}, 400, 'accountId'],
  ['unknown account', 'DELETE', `${P}/accounts/999999`, {}, 404, 'accountId'],
  ['page size 0', 'GET', `${P}/accounts?limit=0`, {}, 400, 'limit'],
  ['page size as text', 'GET', `${P}/accounts?limit=many`, {}, 400, 'limit'],
  // buttons and events
  [
    'unknown model for Check now',
    'POST',
    `${P}/check-now`,
    { json: { modelIds: ['yealink-t99'] } },
    400,
    'modelIds.0',
  ],
  ['types not a list', 'POST', `${P}/update-now`, { json: { modelIds: 'yealink-t54w' } }, 400, 'modelIds'],
  ['empty type list', 'POST', `${P}/download-now`, { json: { modelIds: [] } }, 400, 'modelIds'],
  ['unknown event', 'POST', `${P}/events`, { json: { kind: 'exploded' } }, 400, 'kind'],
  [
    'internal event from outside',
    'POST',
    `${P}/events`,
    { json: { kind: 'first-account-of-type', modelId: 'yealink-t54w' } },
    400,
    'kind',
  ],
  ['upgrade without version', 'POST', `${P}/events`, { json: { kind: 'upgraded' } }, 400, 'version'],
  [
    'upgrade to a bad version',
    'POST',
    `${P}/events`,
    { json: { kind: 'upgraded', version: '../../etc' } },
    400,
    'version',
  ],
  // rollouts and journal
  ['unknown rollout status', 'GET', `${P}/rollouts?status=sleeping`, {}, 400, 'status'],
  ['malformed rollout id', 'GET', `${P}/rollouts/no-such-run`, {}, 400, 'rolloutId'],
  ['unknown rollout', 'GET', `${P}/rollouts/0193e3f2-7c1d-7000-8000-00000000dead`, {}, 404, 'rolloutId'],
  ['journal why', 'GET', `${P}/journal?why=whim`, {}, 400, 'why'],
  ['journal date', 'GET', `${P}/journal?from=yesterday`, {}, 400, 'from'],
  ['journal page size', 'GET', `${P}/journal?limit=501`, {}, 400, 'limit'],
  ['journal beforeId 0', 'GET', `${P}/journal?beforeId=0`, {}, 400, 'beforeId'],
];

describe('bad input: 4xx naming the field, nothing changed, never a 5xx', () => {
  let before: Awaited<ReturnType<typeof snapshotState>>;
  let receivedBefore: Awaited<ReturnType<typeof stubReceived>>;
  beforeAll(async () => {
    before = await snapshotState(h);
    receivedBefore = await stubReceived(h, 'acme');
  });

  it.each(cases)('%s: %s %s → %i', async (_name, method, path, request, status, field) => {
    const res = await h.call(method, path.replace('{accountId}', String(accountId)), { token, ...request });
    expect(res.status).toBe(status);
    expect(typeof res.body?.error).toBe('string');
    if (field) expect(res.body.field).toBe(field);
    if (field && field !== 'body' && status === 400) expect(res.body.error).toContain(field);
    expect(await snapshotState(h)).toEqual(before);
  });

  it('the workflow heard nothing of the refused requests', async () => {
    expect(await stubReceived(h, 'acme')).toEqual(receivedBefore);
  });

  it('unknown routes are 404 JSON, not HTML', async () => {
    const res = await h.call('GET', '/api/nothing-here', { token });
    expect(res.status).toBe(404);
    expect(res.body.error).toContain('/api/nothing-here');
  });
});
