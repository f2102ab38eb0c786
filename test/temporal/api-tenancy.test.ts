/**
 * R16: a PBX-scoped token can never read or change another PBX. Every route with a PBX id in its path is tried
 * with the other tenant's id (taken from the served OpenAPI document, so a new route cannot be forgotten): the
 * answer is the same 404 an id that does not exist gets, and nothing changes anywhere.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rollouts } from '../../db/schema.ts';
import { type ApiHarness, createApiHarness, snapshotState } from '../support/api.ts';
import { lifecycleStubBundle, stubReceived } from '../support/lifecycle-stub.ts';

let h: ApiHarness;
let admin: string;
let tenantA: string;
let accountOfB: number;
const ROLLOUT_OF_B = '0193e3f2-7c1d-7000-8000-00000000000b';

/** A valid body for every route that takes one, so that only the tenant check can refuse. */
const VALID_BODIES: Record<string, unknown> = {
  'PATCH /api/pbxes/{pbxId}/settings': { autoDownloadInstall: false },
  'POST /api/pbxes/{pbxId}/accounts': { mac: '805ec0ffff01', model: 'yealink-t54w', extension: '901' },
  'POST /api/pbxes/{pbxId}/accounts/bulk': {
    accounts: [{ mac: '805ec0ffff02', model: 'yealink-t54w', extension: '902' }],
  },
  'PUT /api/pbxes/{pbxId}/types/{modelId}/auto-update': { enabled: false },
  'POST /api/pbxes/{pbxId}/check-now': { modelIds: ['yealink-t54w'] },
  'POST /api/pbxes/{pbxId}/download-now': {},
  'POST /api/pbxes/{pbxId}/update-now': {},
  'POST /api/pbxes/{pbxId}/events': { kind: 'restarted' },
  // Issue 13: rollout safety
  'POST /api/pbxes/{pbxId}/rollouts/{rolloutId}/pause': {},
  'POST /api/pbxes/{pbxId}/rollouts/{rolloutId}/resume': {},
  'POST /api/pbxes/{pbxId}/rollouts/{rolloutId}/cancel': {},
  'POST /api/pbxes/{pbxId}/rollouts/{rolloutId}/retry-parked': {},
  'POST /api/pbxes/{pbxId}/rollout-previews': { modelIds: ['yealink-t54w'] },
  'PATCH /api/pbxes/{pbxId}/rollout-settings': { canarySize: 7 },
  'PUT /api/pbxes/{pbxId}/types/{modelId}/hold': { version: '96.86.0.45', reason: 'tenant test' },
  'POST /api/pbxes/{pbxId}/types/{modelId}/downgrade': { version: '96.86.0.45', reason: 'tenant test' },
  'POST /api/pbxes/{pbxId}/types/{modelId}/rollout': { canarySize: 3 },
};

function fill(template: string, pbxId: string) {
  return template
    .replace('{pbxId}', pbxId)
    .replace('{accountId}', String(accountOfB))
    .replace('{modelId}', 'yealink-t54w')
    .replace('{rolloutId}', ROLLOUT_OF_B)
    .replace('{previewId}', '0193e3f2-7c1d-7000-8000-00000000a00b')
    .replace('{file}', 'firmware-journal.log')
    .replace('{actionId}', '0193e3f2-7c1d-7000-8000-00000000000a.0193e3f2-7c1d-7000-8000-00000000000b');
}

beforeAll(async () => {
  h = await createApiHarness({ workflowBundle: await lifecycleStubBundle() });
  admin = await h.token('root');
  for (const id of ['tenant-a', 'tenant-b']) {
    const res = await h.call('POST', '/api/pbxes', {
      token: admin,
      json: { id, name: id, timeZone: 'Europe/Berlin' },
    });
    expect(res.status).toBe(201);
  }
  const b = await h.call('POST', '/api/pbxes/tenant-b/accounts', {
    token: admin,
    json: { mac: '805ec0bbbb01', model: 'yealink-t54w', extension: '100' },
  });
  accountOfB = b.body.account.id;
  await h.database.db.insert(rollouts).values({
    id: ROLLOUT_OF_B,
    workflowId: 'pbx/tenant-b/rollout/yealink-t54w/96.86.0.100',
    pbxId: 'tenant-b',
    modelId: 'yealink-t54w',
    targetVersion: '96.86.0.100',
    why: 'manual',
    who: 'root',
    status: 'completed',
  });
  tenantA = await h.token('alice', 'tenant-a');
});
afterAll(async () => {
  await h?.close();
});

async function pbxRoutes(): Promise<Array<{ method: string; path: string }>> {
  const doc = (await h.call('GET', '/openapi.json')).body as {
    paths: Record<string, Record<string, unknown>>;
  };
  return Object.entries(doc.paths)
    .filter(([path]) => path.includes('{pbxId}'))
    .flatMap(([path, ops]) => Object.keys(ops).map((method) => ({ method: method.toUpperCase(), path })));
}

describe('tenant isolation (R16)', () => {
  it('R16: a PBX-scoped token lists and reads only its own PBX', async () => {
    const list = await h.call('GET', '/api/pbxes', { token: tenantA });
    expect(list.body.pbxes.map((p: { id: string }) => p.id)).toEqual(['tenant-a']);
    expect((await h.call('GET', '/api/pbxes/tenant-a', { token: tenantA })).status).toBe(200);
    const all = await h.call('GET', '/api/pbxes', { token: admin });
    expect(all.body.pbxes.map((p: { id: string }) => p.id)).toEqual(['tenant-a', 'tenant-b']);
  });

  it('R16: every PBX route answers 404 for the other tenant, exactly as for a missing PBX, and changes nothing', async () => {
    const routes = await pbxRoutes();
    expect(routes.length).toBeGreaterThanOrEqual(18);
    const before = await snapshotState(h);
    const receivedBefore = await stubReceived(h, 'tenant-b');
    for (const { method, path } of routes) {
      const key = `${method} ${path}`;
      const json = VALID_BODIES[key];
      if (['POST', 'PUT', 'PATCH'].includes(method)) expect(json, `a valid body for ${key}`).toBeDefined();
      const other = await h.call(method, fill(path, 'tenant-b'), { token: tenantA, json });
      const missing = await h.call(method, fill(path, 'no-such-pbx'), { token: tenantA, json });
      expect(other.status, key).toBe(404);
      expect(other.body.field, key).toBe('pbxId');
      expect(other.body.error.replace('tenant-b', 'X'), key).toBe(
        missing.body.error.replace('no-such-pbx', 'X'),
      );
    }
    expect(await snapshotState(h)).toEqual(before);
    expect(await stubReceived(h, 'tenant-b')).toEqual(receivedBefore);
  });

  it("R16: the other tenant's account and rollout ids are unknown under the own PBX", async () => {
    const before = await snapshotState(h);
    const read = await h.call('GET', `/api/pbxes/tenant-a/accounts/${accountOfB}`, { token: tenantA });
    const del = await h.call('DELETE', `/api/pbxes/tenant-a/accounts/${accountOfB}`, { token: tenantA });
    const rollout = await h.call('GET', `/api/pbxes/tenant-a/rollouts/${ROLLOUT_OF_B}`, {
      token: tenantA,
    });
    expect([read.status, del.status, rollout.status]).toEqual([404, 404, 404]);
    expect([read.body.field, del.body.field, rollout.body.field]).toEqual([
      'accountId',
      'accountId',
      'rolloutId',
    ]);
    const list = await h.call('GET', '/api/pbxes/tenant-a/accounts', { token: tenantA });
    expect(list.body.accounts).toEqual([]);
    const history = await h.call('GET', '/api/pbxes/tenant-a/rollouts', { token: tenantA });
    expect(history.body.rollouts).toEqual([]);
    expect(await snapshotState(h)).toEqual(before);
  });

  it('R16 + issue 13: a PBX-scoped token cannot see or start fleet rollouts across PBXes (403), and nothing changes', async () => {
    const before = await snapshotState(h);
    const id = '0193e3f2-7c1d-7000-8000-00000000f00b';
    const calls: Array<[string, string, unknown?]> = [
      ['GET', '/api/fleet-rollouts'],
      [
        'POST',
        '/api/fleet-rollouts',
        { modelId: 'yealink-t54w', version: '96.86.0.100', pbxIds: ['tenant-a'] },
      ],
      ['GET', `/api/fleet-rollouts/${id}`],
      ['POST', `/api/fleet-rollouts/${id}/pause`, {}],
      ['POST', `/api/fleet-rollouts/${id}/resume`, {}],
      ['POST', `/api/fleet-rollouts/${id}/cancel`, {}],
    ];
    for (const [method, path, json] of calls) {
      expect((await h.call(method, path, { token: tenantA, json })).status, `${method} ${path}`).toBe(403);
    }
    expect(await snapshotState(h)).toEqual(before);
  });

  it('R16: a PBX-scoped token cannot register PBXes', async () => {
    const res = await h.call('POST', '/api/pbxes', {
      token: tenantA,
      json: { id: 'tenant-c', name: 'C', timeZone: 'Europe/Berlin' },
    });
    expect(res.status).toBe(403);
  });

  it('R16: the same routes work for the own PBX with the same token', async () => {
    const res = await h.call('POST', '/api/pbxes/tenant-a/accounts', {
      token: tenantA,
      json: { mac: '805ec0aaaa01', model: 'yealink-t54w', extension: '100' },
    });
    expect(res.status).toBe(201);
    const journal = await h.call('GET', '/api/pbxes/tenant-a/journal', { token: tenantA });
    expect(journal.body.entries[0]).toMatchObject({ action: 'account.created', who: 'alice' });
  });
});
