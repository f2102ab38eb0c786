import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { and, eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listJournal } from '../../db/queries/journal.ts';
import { localFirmware, phoneAccounts } from '../../db/schema.ts';
import { openSecret, sipHa1 } from '../../lib/secrets.ts';
import { type ApiHarness, createApiHarness } from '../support/api.ts';
import { lifecycleStubBundle, stubReceived } from '../support/lifecycle-stub.ts';

let h: ApiHarness;
let adminToken: string;
const PBX = 'branch';

beforeAll(async () => {
  h = await createApiHarness({ workflowBundle: await lifecycleStubBundle() });
  adminToken = await h.token('alice');
  const res = await h.call('POST', '/api/pbxes', {
    token: adminToken,
    json: { id: PBX, name: 'Branch', timeZone: 'Europe/Vienna' },
  });
  expect(res.status).toBe(201);
  // Downloaded and image firmware of the PBX, to watch R5 marks.
  await h.database.db.insert(localFirmware).values([
    { pbxId: PBX, modelId: 'snom-d785', version: '10.1.33.33', fileName: 'snomD785.bin', source: 'download' },
    { pbxId: PBX, modelId: 'snom-m900', version: '3.2.1', fileName: 'm900.fwu', source: 'image' },
  ]);
});
afterAll(async () => {
  await h?.close();
});

const token = () => adminToken;
const events = async () =>
  (await stubReceived(h, PBX)).received.filter((r) => r.message === 'pbxEvent').map((r) => r.payload);

describe('phone accounts (R4, R5, R13 c)', () => {
  it('creates an account from any usual MAC spelling, stores the SIP HA1 and returns the password once', async () => {
    const res = await h.call('POST', `/api/pbxes/${PBX}/accounts`, {
      token: token(),
      json: { mac: '80-5E-C0-AA-BB-01', model: 'yealink-t54w', extension: '201', displayName: 'Reception' },
    });
    expect(res.status).toBe(201);
    expect(res.body.account).toMatchObject({
      mac: '805ec0aabb01',
      modelId: 'yealink-t54w',
      vendor: 'Yealink',
      model: 'T54W',
      extension: '201',
      displayName: 'Reception',
      active: true,
    });
    const [row] = await h.database.db
      .select()
      .from(phoneAccounts)
      .where(eq(phoneAccounts.id, res.body.account.id));
    expect(row!.sipHa1).toBe(sipHa1('201', 'branch.pbx.local', res.body.sipPassword));
    expect(JSON.stringify(row)).not.toContain(res.body.sipPassword);
  });

  it('issue 10 item 2: takes a given SIP password, keeps it sealed for provisioning, and returns it only once', async () => {
    const password = 'Pa$$w0rd<&>"x';
    const res = await h.call('POST', `/api/pbxes/${PBX}/accounts`, {
      token: token(),
      json: { mac: '805ec0aabb09', model: 'yealink-t54w', extension: '209', sipPassword: password },
    });
    expect(res.status).toBe(201);
    expect(res.body.sipPassword).toBe(password);
    const [row] = await h.database.db
      .select()
      .from(phoneAccounts)
      .where(eq(phoneAccounts.id, res.body.account.id));
    expect(row!.sipHa1).toBe(sipHa1('209', 'branch.pbx.local', password));
    expect(row!.sipPasswordSealed).not.toContain(password);
    expect(openSecret(row!.sipPasswordSealed!, h.config.secretsKey)).toBe(password);
    // Never again: not by GET, not in the list, not in the journal or the PBX logs.
    const again = await h.call('GET', `/api/pbxes/${PBX}/accounts/${res.body.account.id}`, {
      token: token(),
    });
    const list = await h.call('GET', `/api/pbxes/${PBX}/accounts?limit=1000`, { token: token() });
    expect(JSON.stringify(again.body)).not.toContain(password);
    expect(JSON.stringify(list.body)).not.toContain(password);
    expect(JSON.stringify(await listJournal(h.database.db, { pbxId: PBX, limit: 500 }))).not.toContain(
      password,
    );
    const logged = readdirSync(h.logDir, { recursive: true, withFileTypes: true })
      .filter((d) => d.isFile())
      .map((d) => readFileSync(join(d.parentPath, d.name), 'utf8'))
      .join('\n');
    expect(logged).not.toContain(password);

    for (const bad of ['short', 'with space inside', '%null%', 'é-not-ascii-x']) {
      const refused = await h.call('POST', `/api/pbxes/${PBX}/accounts`, {
        token: token(),
        json: { mac: '805ec0aabb0a', model: 'yealink-t54w', extension: '210', sipPassword: bad },
      });
      expect(refused.status, bad).toBe(400);
      expect(refused.body.field).toBe('sipPassword');
    }
    // The later tests count this PBX's accounts.
    const gone = await h.call('DELETE', `/api/pbxes/${PBX}/accounts/${res.body.account.id}`, {
      token: token(),
    });
    expect(gone.status).toBe(200);
    expect(JSON.stringify(gone.body)).not.toContain(password);
  });

  it('R13 (c): the first account of a type fires the trigger for that type only; the second does not', async () => {
    const first = await h.call('POST', `/api/pbxes/${PBX}/accounts`, {
      token: token(),
      json: { mac: '000413aabb02', model: 'Snom D785', extension: '202', active: false },
    });
    expect(first.status).toBe(201);
    expect(first.body.triggers).toEqual([
      { modelId: 'snom-d785', triggerWorkflowId: 'pbx/branch/trigger/first-account-of-type/stub' },
    ]);
    const second = await h.call('POST', `/api/pbxes/${PBX}/accounts`, {
      token: token(),
      json: { mac: '00:04:13:aa:bb:03', model: 'snom-d785', extension: '203' },
    });
    expect(second.status).toBe(201);
    expect(second.body.triggers).toEqual([]);
    expect(await events()).toEqual([
      { kind: 'first-account-of-type', modelId: 'yealink-t54w', who: 'alice' },
      { kind: 'first-account-of-type', modelId: 'snom-d785', who: 'alice' },
    ]);
  });

  it('bulk-creates many accounts all or none, one trigger per new type', async () => {
    const accounts = Array.from({ length: 120 }, (_, i) => ({
      mac: `805ec0cc${i.toString(16).padStart(4, '0')}`,
      model: i % 2 === 0 ? 'yealink-t54w' : 'yealink-t31',
      extension: String(1000 + i),
    }));
    const res = await h.call('POST', `/api/pbxes/${PBX}/accounts/bulk`, {
      token: token(),
      json: { accounts },
    });
    expect(res.status).toBe(201);
    expect(res.body.accounts).toHaveLength(120);
    expect(res.body.triggers.map((t: { modelId: string }) => t.modelId)).toEqual(['yealink-t31']);
    expect(new Set(res.body.accounts.map((a: { sipPassword: string }) => a.sipPassword)).size).toBe(120);

    // One taken extension in the middle: nothing of the request is written.
    const clash = await h.call('POST', `/api/pbxes/${PBX}/accounts/bulk`, {
      token: token(),
      json: {
        accounts: [
          { mac: '805ec0dd0001', model: 'yealink-t54w', extension: '3001' },
          { mac: '805ec0dd0002', model: 'yealink-t54w', extension: '1005' },
        ],
      },
    });
    expect(clash.status).toBe(409);
    expect(clash.body.field).toBe('accounts.1.extension');
    const written = await h.database.db
      .select()
      .from(phoneAccounts)
      .where(eq(phoneAccounts.extension, '3001'));
    expect(written).toEqual([]);
  });

  it('lists accounts in pages and reads one', async () => {
    const page1 = await h.call('GET', `/api/pbxes/${PBX}/accounts?limit=100`, { token: token() });
    expect(page1.status).toBe(200);
    expect(page1.body.accounts).toHaveLength(100);
    const page2 = await h.call(
      'GET',
      `/api/pbxes/${PBX}/accounts?limit=100&afterId=${page1.body.nextAfterId}`,
      {
        token: token(),
      },
    );
    expect(page2.body.accounts).toHaveLength(23);
    expect(page2.body.nextAfterId).toBeNull();
    const t31 = await h.call('GET', `/api/pbxes/${PBX}/accounts?modelId=yealink-t31&limit=1000`, {
      token: token(),
    });
    expect(t31.body.accounts).toHaveLength(60);
    const one = await h.call('GET', `/api/pbxes/${PBX}/accounts/${page1.body.accounts[0].id}`, {
      token: token(),
    });
    expect(one.body).toMatchObject({ extension: '201', mac: '805ec0aabb01' });
  });

  it('R5: deleting the last account of a type marks its downloaded firmware for the next restart, not before', async () => {
    const d785 = await h.database.db
      .select()
      .from(phoneAccounts)
      .where(and(eq(phoneAccounts.pbxId, PBX), eq(phoneAccounts.modelId, 'snom-d785')));
    expect(d785).toHaveLength(2);
    const first = await h.call('DELETE', `/api/pbxes/${PBX}/accounts/${d785[0]!.id}`, { token: token() });
    expect(first.status).toBe(200);
    expect(first.body.lastOfType).toBe(false);
    const marked = async () =>
      (await h.database.db.select().from(localFirmware).where(eq(localFirmware.pbxId, PBX))).map((f) => [
        f.modelId,
        f.deleteAtNextRestart,
      ]);
    expect(await marked()).toContainEqual(['snom-d785', false]);
    const last = await h.call('DELETE', `/api/pbxes/${PBX}/accounts/${d785[1]!.id}`, { token: token() });
    expect(last.body.lastOfType).toBe(true);
    expect(await marked()).toContainEqual(['snom-d785', true]);
    // The file itself is still there until the restart event (R5); the row is only marked.
    expect(await marked()).toHaveLength(2);
    const again = await h.call('DELETE', `/api/pbxes/${PBX}/accounts/${d785[1]!.id}`, { token: token() });
    expect(again.status).toBe(404);
    expect(again.body.field).toBe('accountId');

    // An account of the type again: the mark goes, and the type counts as new (R13 c).
    const back = await h.call('POST', `/api/pbxes/${PBX}/accounts`, {
      token: token(),
      json: { mac: '000413aabb09', model: 'snom-d785', extension: '209' },
    });
    expect(back.body.triggers.map((t: { modelId: string }) => t.modelId)).toEqual(['snom-d785']);
    expect(await marked()).toContainEqual(['snom-d785', false]);
  });

  it('R14: creations and deletions are journalled with who and the type', async () => {
    const entries = await listJournal(h.database.db, { pbxId: PBX, limit: 50 });
    const actions = entries.map((e) => [e.action, e.modelId, e.who]);
    expect(actions).toContainEqual(['account.created', 'yealink-t31', 'alice']);
    expect(actions).toContainEqual(['account.deleted', 'snom-d785', 'alice']);
    const lastDelete = entries.find((e) => e.action === 'account.deleted');
    expect(lastDelete?.details).toMatchObject({ lastOfType: true });
  });

  it('lists the phone models accounts can use', async () => {
    const res = await h.call('GET', '/api/phone-models', { token: token() });
    expect(res.status).toBe(200);
    expect(res.body.models).toContainEqual({
      id: 'snom-m900',
      vendor: 'Snom',
      model: 'M900',
      imageManaged: true,
      inCatalog: true,
    });
  });
});
