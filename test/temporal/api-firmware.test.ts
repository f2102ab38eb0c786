import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listJournal } from '../../db/queries/journal.ts';
import { recordLifecycleStatus } from '../../db/queries/lifecycle-status.ts';
import {
  catalogReleases,
  localFirmware,
  pbxes,
  phoneAccounts,
  rolloutResults,
  rollouts,
} from '../../db/schema.ts';
import { type ApiHarness, createApiHarness } from '../support/api.ts';
import { lifecycleStubBundle, stubReceived } from '../support/lifecycle-stub.ts';

let h: ApiHarness;
let token: string;
let registeredUpdateMoment: { day: string; time: string };
const PBX = 'hq';

beforeAll(async () => {
  h = await createApiHarness({ workflowBundle: await lifecycleStubBundle() });
  token = await h.token('alice');
  const registered = await h.call('POST', '/api/pbxes', {
    token,
    json: { id: PBX, name: 'HQ', timeZone: 'America/New_York' },
  });
  expect(registered.status).toBe(201);
  // R11: drawn at registration (domain/timing.ts drawDefaultUpdateMoment).
  registeredUpdateMoment = registered.body.pbx.updateMoment;
  const accounts = [
    ...Array.from({ length: 3 }, (_, i) => ({
      mac: `805ec0000${i}01`,
      model: 'yealink-t54w',
      extension: `1${i}`,
    })),
    { mac: '000413000001', model: 'snom-d785', extension: '20' },
    { mac: '000413000002', model: 'snom-m900', extension: '30' },
  ];
  expect(
    (await h.call('POST', `/api/pbxes/${PBX}/accounts/bulk`, { token, json: { accounts } })).status,
  ).toBe(201);
  const db = h.database.db;
  await db
    .update(phoneAccounts)
    .set({ installedVersion: '96.86.0.45' })
    .where(eq(phoneAccounts.extension, '10'));
  await db
    .update(phoneAccounts)
    .set({ installedVersion: '96.86.0.70' })
    .where(eq(phoneAccounts.extension, '11'));
  await db
    .update(phoneAccounts)
    .set({ installedVersion: '10.1.33.33' })
    .where(eq(phoneAccounts.extension, '20'));
  await db.update(phoneAccounts).set({ installedVersion: '3.2.1' }).where(eq(phoneAccounts.extension, '30'));
  await db.insert(localFirmware).values([
    {
      pbxId: PBX,
      modelId: 'yealink-t54w',
      version: '96.86.0.70',
      fileName: 't54w-70.rom',
      source: 'download',
    },
    { pbxId: PBX, modelId: 'snom-d785', version: '10.1.33.33', fileName: 'd785.bin', source: 'download' },
    { pbxId: PBX, modelId: 'snom-m900', version: '3.2.1', fileName: 'm900.fwu', source: 'image' },
  ]);
  const release = (id: string, modelIds: string[], version: string) => ({
    id,
    vendor: modelIds[0]!.split('-')[0]!,
    modelIds,
    version,
    fileName: `${id}.bin`,
    size: 1000,
    sha256: 'a'.repeat(64),
    releasedAt: new Date('2025-01-01T00:00:00Z'),
  });
  await db
    .insert(catalogReleases)
    .values([
      release('t54w-100', ['yealink-t54w', 'yealink-t31'], '96.86.0.100'),
      release('d785-33', ['snom-d785'], '10.1.33.33'),
    ]);
});
afterAll(async () => {
  await h?.close();
});

describe('firmware overview (R6)', () => {
  it('R6: one row per type with accounts, in use with counts, newest local and newest available as defined (and, issue 13, its stored versions)', async () => {
    const res = await h.call('GET', `/api/pbxes/${PBX}/overview`, { token });
    expect(res.status).toBe(200);
    expect(res.body.types).toEqual([
      {
        modelId: 'snom-d785',
        vendor: 'Snom',
        model: 'D785',
        imageManaged: false,
        accounts: 1,
        inUse: [{ version: '10.1.33.33', phones: 1 }],
        newestLocal: null,
        newestAvailable: null,
        imageFirmware: null,
        autoUpdate: true,
        hold: null,
        storedVersions: ['10.1.33.33'],
      },
      {
        modelId: 'snom-m900',
        vendor: 'Snom',
        model: 'M900',
        imageManaged: true,
        accounts: 1,
        inUse: [{ version: '3.2.1', phones: 1 }],
        newestLocal: null,
        newestAvailable: null,
        imageFirmware: '3.2.1',
        autoUpdate: true,
        hold: null,
        storedVersions: ['3.2.1'],
      },
      {
        modelId: 'yealink-t54w',
        vendor: 'Yealink',
        model: 'T54W',
        imageManaged: false,
        accounts: 3,
        inUse: [
          { version: '96.86.0.70', phones: 1 },
          { version: '96.86.0.45', phones: 1 },
          { version: null, phones: 1 },
        ],
        newestLocal: '96.86.0.70',
        newestAvailable: '96.86.0.100',
        imageFirmware: null,
        autoUpdate: true,
        hold: null,
        storedVersions: ['96.86.0.70'],
      },
    ]);
  });
});

describe('switches (R7, R8, R11)', () => {
  it('R7: Auto-Update per type is stored, journalled, shown in the overview and signalled to the workflow', async () => {
    const off = await h.call('PUT', `/api/pbxes/${PBX}/types/yealink-t54w/auto-update`, {
      token,
      json: { enabled: false },
    });
    expect(off.status).toBe(200);
    expect(off.body).toEqual({ modelId: 'yealink-t54w', autoUpdate: false });
    const overview = await h.call('GET', `/api/pbxes/${PBX}/overview`, { token });
    const t54w = overview.body.types.find((t: { modelId: string }) => t.modelId === 'yealink-t54w');
    expect(t54w.autoUpdate).toBe(false);
    const journal = await listJournal(h.database.db, {
      pbxId: PBX,
      action: 'settings.auto-update',
      limit: 5,
    });
    expect(journal.map((j) => [j.modelId, j.details, j.who])).toEqual([
      ['yealink-t54w', { from: true, to: false }, 'alice'],
    ]);
    const { received } = await stubReceived(h, PBX);
    expect(received.filter((r) => r.message === 'settingsChanged')).toEqual([
      { message: 'settingsChanged', payload: { who: 'alice' } },
    ]);
    // Setting the same value again changes nothing and journals nothing.
    await h.call('PUT', `/api/pbxes/${PBX}/types/yealink-t54w/auto-update`, {
      token,
      json: { enabled: false },
    });
    expect(
      await listJournal(h.database.db, { pbxId: PBX, action: 'settings.auto-update', limit: 5 }),
    ).toHaveLength(1);
  });

  it('R7: an unknown type is 404 naming modelId', async () => {
    const res = await h.call('PUT', `/api/pbxes/${PBX}/types/acme-phone9000/auto-update`, {
      token,
      json: { enabled: true },
    });
    expect(res.status).toBe(404);
    expect(res.body.field).toBe('modelId');
  });

  it('R8 + R11: the global switch and the weekly update moment are stored, journalled and signalled', async () => {
    const res = await h.call('PATCH', `/api/pbxes/${PBX}/settings`, {
      token,
      json: { autoDownloadInstall: false, updateMoment: { day: 'wednesday', time: '22:30' } },
    });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      autoDownloadInstall: false,
      updateMoment: { day: 'wednesday', time: '22:30' },
    });
    const [row] = await h.database.db.select().from(pbxes).where(eq(pbxes.id, PBX));
    expect([row!.autoDownloadInstall, row!.updateDay, row!.updateMinute]).toEqual([false, 2, 22 * 60 + 30]);
    const journal = await listJournal(h.database.db, { pbxId: PBX, limit: 2 });
    expect(journal.map((j) => [j.action, j.details])).toEqual([
      ['settings.update-moment', { from: registeredUpdateMoment, to: { day: 'wednesday', time: '22:30' } }],
      ['settings.auto-download-install', { from: true, to: false }],
    ]);
    const off = await h.call('PATCH', `/api/pbxes/${PBX}/settings`, { token, json: { updateMoment: null } });
    expect(off.body.updateMoment).toBeNull();
    const { received } = await stubReceived(h, PBX);
    expect(received.filter((r) => r.message === 'settingsChanged')).toHaveLength(3);
    const got = await h.call('GET', `/api/pbxes/${PBX}`, { token });
    expect(got.body).toMatchObject({ id: PBX, autoDownloadInstall: false, updateMoment: null });
    expect(got.body.temporalUrl).toBe('http://temporal-ui.test:8233/namespaces/default/workflows/pbx%2Fhq');
  });
});

describe('buttons and PBX events (R9, R10, R11, R13, R5)', () => {
  it('Check now / Download now / Update now pass who and the types to the workflow and answer with its result', async () => {
    const check = await h.call('POST', `/api/pbxes/${PBX}/check-now`, { token });
    expect(check.status).toBe(200);
    expect(check.body).toMatchObject({ catalogOk: true, types: [] });
    const download = await h.call('POST', `/api/pbxes/${PBX}/download-now`, {
      token,
      json: { modelIds: ['yealink-t54w'] },
    });
    expect(download.body.started).toEqual([
      { modelId: 'yealink-t54w', model: 'yealink-t54w', version: '1.2.3' },
    ]);
    const update = await h.call('POST', `/api/pbxes/${PBX}/update-now`, {
      token,
      json: { modelIds: ['snom-d785'] },
    });
    expect(update.status).toBe(200);
    expect(update.body.decisions).toEqual([
      {
        modelId: 'snom-d785',
        model: 'snom-d785',
        status: 'refused',
        reason: {
          code: 'auto-update-off',
          params: { model: 'snom-d785' },
          text: 'stub refuses snom-d785 for alice',
        },
      },
    ]);
    const { received } = await stubReceived(h, PBX);
    expect(received.filter((r) => r.message !== 'settingsChanged' && r.message !== 'pbxEvent')).toEqual([
      { message: 'checkNow', payload: { who: 'alice' } },
      { message: 'downloadNow', payload: { who: 'alice', modelIds: ['yealink-t54w'] } },
      { message: 'updateNow', payload: { who: 'alice', modelIds: ['snom-d785'] } },
    ]);
  });

  it('R13 (a): an upgrade stores the version, is journalled and reaches the workflow; the same version is 409', async () => {
    const res = await h.call('POST', `/api/pbxes/${PBX}/events`, {
      token,
      json: { kind: 'upgraded', version: '9.0.0.1' },
    });
    expect(res.status).toBe(200);
    expect(res.body.result.triggerWorkflowId).toBe('pbx/hq/trigger/upgraded/stub');
    const [row] = await h.database.db.select().from(pbxes).where(eq(pbxes.id, PBX));
    expect(row!.softwareVersion).toBe('9.0.0.1');
    const same = await h.call('POST', `/api/pbxes/${PBX}/events`, {
      token,
      json: { kind: 'upgraded', version: '9.0.0.1' },
    });
    expect(same.status).toBe(409);
    expect(same.body.field).toBe('version');
  });

  it('R13 (b) and R5: backup restored and restarted reach the workflow', async () => {
    const restored = await h.call('POST', `/api/pbxes/${PBX}/events`, {
      token,
      json: { kind: 'backup-restored' },
    });
    expect(restored.status).toBe(200);
    const restarted = await h.call('POST', `/api/pbxes/${PBX}/events`, {
      token,
      json: { kind: 'restarted' },
    });
    expect(restarted.body.result).toEqual({ removed: [] });
    const { received } = await stubReceived(h, PBX);
    expect(received.filter((r) => r.message === 'pbxEvent').map((r) => r.payload)).toEqual(
      expect.arrayContaining([
        { kind: 'upgraded', version: '9.0.0.1', who: 'alice' },
        { kind: 'backup-restored', who: 'alice' },
        { kind: 'restarted', who: 'alice' },
      ]),
    );
    const journal = await listJournal(h.database.db, { pbxId: PBX, limit: 3 });
    expect(journal.map((j) => j.action)).toEqual(['pbx.restarted', 'pbx.backup-restored', 'pbx.upgraded']);
  });

  it("a refusal by the workflow's validator is a 409 with its reason", async () => {
    const res = await h.call('POST', `/api/pbxes/${PBX}/events`, {
      token,
      json: { kind: 'upgraded', version: '0.0.0-refused' },
    });
    expect(res.status).toBe(409);
    expect(res.body.error).toContain('stub refuses this upgrade');
  });

  it('reports the status the workflow recorded, a newer report replacing an older one (no Temporal query)', async () => {
    // The stub workflow records nothing: nothing recorded yet is null, not an answer made up by the API.
    const none = await h.call('GET', `/api/pbxes/${PBX}/status`, { token });
    expect(none.status).toBe(200);
    expect(none.body).toEqual({ status: null, recordedAt: null });
    const report = (phase: string, runStartedAt: number, seq: number) =>
      recordLifecycleStatus(h.database.db, { pbxId: PBX, status: { pbxId: PBX, phase }, runStartedAt, seq });
    await report('checking', 2_000, 1);
    await report('idle', 2_000, 2);
    await report('updating', 1_000, 9); // an earlier run's late report
    const res = await h.call('GET', `/api/pbxes/${PBX}/status`, { token });
    expect(res.body.status).toEqual({ pbxId: PBX, phase: 'idle' });
    expect(Date.parse(res.body.recordedAt)).toBeGreaterThan(Date.now() - 60_000);
    await report('downloading', 3_000, 1); // a new run
    expect((await h.call('GET', `/api/pbxes/${PBX}/status`, { token })).body.status.phase).toBe(
      'downloading',
    );
  });
});

describe('rollouts (R12) and the journal (R14)', () => {
  const workflowId = 'pbx/hq/rollout/yealink-t54w/96.86.0.100';
  const rolloutId = '0193e3f2-7c1d-7000-8000-000000000100';
  beforeAll(async () => {
    const db = h.database.db;
    const accounts = await db
      .select()
      .from(phoneAccounts)
      .where(eq(phoneAccounts.modelId, 'yealink-t54w'))
      .orderBy(phoneAccounts.id);
    await db.insert(rollouts).values([
      {
        id: '0193e3f2-7c1d-7000-8000-000000000070',
        workflowId: 'pbx/hq/rollout/yealink-t54w/96.86.0.70',
        pbxId: PBX,
        modelId: 'yealink-t54w',
        targetVersion: '96.86.0.70',
        why: 'schedule',
        who: 'system',
        status: 'completed',
        total: 3,
        updated: 3,
        blocks: 1,
        blocksDone: 1,
        startedAt: new Date('2025-01-01T03:00:00Z'),
        finishedAt: new Date('2025-01-01T03:10:00Z'),
      },
      {
        id: rolloutId,
        workflowId,
        pbxId: PBX,
        modelId: 'yealink-t54w',
        targetVersion: '96.86.0.100',
        why: 'manual',
        who: 'alice',
        status: 'completed-with-failures',
        total: 3,
        updated: 2,
        failed: 1,
        blocks: 1,
        blocksDone: 1,
        startedAt: new Date('2025-02-01T03:00:00Z'),
        finishedAt: new Date('2025-02-01T03:10:00Z'),
      },
    ]);
    await db.insert(rolloutResults).values(
      accounts.map((a, i) => ({
        rolloutId,
        phoneAccountId: a.id,
        mac: a.mac,
        block: 0,
        outcome: i === 2 ? ('no-answer' as const) : ('updated' as const),
        fromVersion: a.installedVersion,
        reportedVersion: i === 2 ? null : '96.86.0.100',
      })),
    );
  });

  it('progress per type shows the most recent rollout with a Temporal UI link', async () => {
    const res = await h.call('GET', `/api/pbxes/${PBX}/rollout-progress`, { token });
    expect(res.status).toBe(200);
    expect(res.body.rollouts).toEqual([
      expect.objectContaining({
        rolloutId,
        modelId: 'yealink-t54w',
        model: 'T54W',
        status: 'completed-with-failures',
        total: 3,
        done: 3,
        updated: 2,
        failed: 1,
        pending: 0,
        percent: 100,
        workflowId,
        temporalUrl: `http://temporal-ui.test:8233/namespaces/default/workflows/${encodeURIComponent(workflowId)}/${rolloutId}/history`,
      }),
    ]);
  });

  it('history filters by type and status; one rollout has its per-phone results', async () => {
    const all = await h.call('GET', `/api/pbxes/${PBX}/rollouts?modelId=yealink-t54w`, { token });
    expect(all.body.rollouts.map((r: { targetVersion: string }) => r.targetVersion)).toEqual([
      '96.86.0.100',
      '96.86.0.70',
    ]);
    const done = await h.call('GET', `/api/pbxes/${PBX}/rollouts?status=completed`, { token });
    expect(done.body.rollouts).toHaveLength(1);
    const one = await h.call('GET', `/api/pbxes/${PBX}/rollouts/${rolloutId}`, { token });
    expect(one.status).toBe(200);
    expect(one.body.rollout.rolloutId).toBe(rolloutId);
    expect(one.body.results.map((r: { outcome: string }) => r.outcome)).toEqual([
      'updated',
      'updated',
      'no-answer',
    ]);
    const missing = await h.call(
      'GET',
      `/api/pbxes/${PBX}/rollouts/${'0193e3f2-7c1d-7000-8000-00000000dead'}`,
      {
        token,
      },
    );
    expect(missing.status).toBe(404);
    expect(missing.body.field).toBe('rolloutId');
  });

  it('R14: the journal pages backwards by id and filters by action, why, type and time', async () => {
    const page1 = await h.call('GET', `/api/pbxes/${PBX}/journal?limit=3`, { token });
    expect(page1.status).toBe(200);
    expect(page1.body.entries).toHaveLength(3);
    const page2 = await h.call(
      'GET',
      `/api/pbxes/${PBX}/journal?limit=3&beforeId=${page1.body.nextBeforeId}`,
      {
        token,
      },
    );
    expect(page2.body.entries[0].id).toBeLessThan(page1.body.entries[2].id);
    const autoUpdate = await h.call(
      'GET',
      `/api/pbxes/${PBX}/journal?action=settings.auto-update&why=manual`,
      {
        token,
      },
    );
    expect(autoUpdate.body.entries).toHaveLength(1);
    const byType = await h.call('GET', `/api/pbxes/${PBX}/journal?modelId=snom-m900`, { token });
    expect(byType.body.entries.map((e: { action: string }) => e.action)).toEqual(['account.created']);
    const future = await h.call('GET', `/api/pbxes/${PBX}/journal?from=2999-01-01T00:00:00Z`, { token });
    expect(future.body.entries).toEqual([]);
    expect(future.body.nextBeforeId).toBeNull();
  });
});

describe('the overview is one shared answer per PBX (issue 14 target 3)', () => {
  const d785 = async () =>
    (await h.call('GET', `/api/pbxes/${PBX}/overview`, { token })).body.types.find(
      (t: { modelId: string }) => t.modelId === 'snom-d785',
    );

  it('R6: a version a phone reports (written by the edge, not this API) shows within API_ANSWER_CACHE_MS', async () => {
    expect((await d785()).inUse).toEqual([{ version: '10.1.33.33', phones: 1 }]);
    const phone = eq(phoneAccounts.mac, '000413000001');
    await h.database.db.update(phoneAccounts).set({ installedVersion: '10.1.54.13' }).where(phone);
    try {
      await expect
        .poll(async () => (await d785()).inUse, { timeout: 5_000 })
        .toEqual([{ version: '10.1.54.13', phones: 1 }]);
    } finally {
      await h.database.db.update(phoneAccounts).set({ installedVersion: '10.1.33.33' }).where(phone);
    }
    await expect
      .poll(async () => (await d785()).inUse, { timeout: 5_000 })
      .toEqual([{ version: '10.1.33.33', phones: 1 }]);
  });

  it('R7: a change made through the API shows in the very next overview (its shared answer is dropped)', async () => {
    expect((await d785()).autoUpdate).toBe(true);
    const url = `/api/pbxes/${PBX}/types/snom-d785/auto-update`;
    expect((await h.call('PUT', url, { token, json: { enabled: false } })).status).toBe(200);
    expect((await d785()).autoUpdate).toBe(false);
    expect((await h.call('PUT', url, { token, json: { enabled: true } })).status).toBe(200);
    expect((await d785()).autoUpdate).toBe(true);
  });
});
