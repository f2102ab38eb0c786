/**
 * The buttons, events and rollout routes against the real lifecycle workflow and real activities (firmware server,
 * downloads into the store, block updates over SIP): what the API answers is what the workflows decided.
 * No phones are started here, so a rollout finds every phone unreachable and records that per phone.
 */
import { and, eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listJournal } from '../../db/queries/journal.ts';
import { localFirmware } from '../../db/schema.ts';
import { type System, startSystem } from '../support/system.ts';
import { until } from '../support/until.ts';

let system: System;
const PBX = 'real';
const P = `/api/pbxes/${PBX}`;
let d785AccountId: number;

beforeAll(async () => {
  system = await startSystem();
  expect(
    (await system.call('POST', '/api/pbxes', { id: PBX, name: 'Real', timeZone: 'Europe/Berlin' })).status,
  ).toBe(201);
  // R8 off, so the R13 (c) triggers of the first accounts only check; the buttons below do the rest.
  await system.call('PATCH', `${P}/settings`, { autoDownloadInstall: false });
}, 120_000);
afterAll(async () => {
  await system?.close();
});

describe('buttons, events and rollouts over the real workflows', () => {
  it('R13 (c): the first account of a type starts a real trigger workflow for that type', async () => {
    const res = await system.call('POST', `${P}/accounts/bulk`, {
      accounts: [
        { mac: '805ec0300001', model: 'yealink-t54w', extension: '10' },
        { mac: '805ec0300002', model: 'yealink-t54w', extension: '11' },
        { mac: '000413300001', model: 'snom-d785', extension: '20' },
      ],
    });
    expect(res.status).toBe(201);
    d785AccountId = res.body.accounts[2].account.id;
    const triggers = res.body.triggers as Array<{ modelId: string; triggerWorkflowId: string }>;
    expect(triggers.map((t) => t.modelId).sort()).toEqual(['snom-d785', 'yealink-t54w']);
    for (const t of triggers)
      expect(t.triggerWorkflowId).toMatch(/^pbx\/real\/trigger\/first-account-of-type\//);
    await until(
      'the triggers to check and stop at R8',
      () => listJournal(system.database.db, { pbxId: PBX, action: 'trigger.skipped', limit: 5 }),
      (j) => j.length === 2,
    );
  });

  it('R9 Check now: the catalog answer per type', async () => {
    const res = await system.call('POST', `${P}/check-now`, {});
    expect(res.status).toBe(200);
    expect(res.body.catalogOk).toBe(true);
    expect(res.body.types).toEqual(
      expect.arrayContaining([
        {
          modelId: 'yealink-t54w',
          model: 'T54W',
          newestLocal: null,
          newestAvailable: '96.86.0.70',
          needsDownload: true,
        },
      ]),
    );
  });

  it('R10 Download now: starts the downloads and the firmware arrives on the PBX', async () => {
    const res = await system.call('POST', `${P}/download-now`, { modelIds: ['yealink-t54w', 'snom-d785'] });
    expect(res.status).toBe(200);
    expect(res.body.started).toEqual(
      expect.arrayContaining([
        { modelId: 'yealink-t54w', model: 'T54W', version: '96.86.0.70' },
        { modelId: 'snom-d785', model: 'D785', version: '10.1.184.15' },
      ]),
    );
    await until(
      'both downloads',
      () => system.database.db.select().from(localFirmware).where(eq(localFirmware.pbxId, PBX)),
      (rows) => rows.length === 2,
    );
    const overview = await system.call('GET', `${P}/overview`);
    const t54w = overview.body.types.find((t: { modelId: string }) => t.modelId === 'yealink-t54w');
    // The phones never reported a version: newest local shows what the PBX holds (R6).
    expect(t54w).toMatchObject({
      newestLocal: '96.86.0.70',
      newestAvailable: null,
      inUse: [{ version: null, phones: 2 }],
    });
  });

  it('R7 Update now: refused for a type with Auto-Update off, with the reason', async () => {
    await system.call('PUT', `${P}/types/yealink-t54w/auto-update`, { enabled: false });
    const res = await system.call('POST', `${P}/update-now`, { modelIds: ['yealink-t54w'] });
    expect(res.status).toBe(200);
    expect(res.body.decisions).toEqual([
      {
        modelId: 'yealink-t54w',
        model: 'T54W',
        status: 'refused',
        reason: { code: 'auto-update-off', params: { model: 'T54W' }, text: 'Auto-Update is off for T54W' },
      },
    ]);
    // R7 holds at the rollout's own start too, and no phone of the type was offered anything.
    const offered = await system.database
      .sql`select count(*)::int as n from phone_accounts where pbx_id = ${PBX} and firmware_target_version is not null`;
    expect(offered[0]?.n).toBe(0);
    await system.call('PUT', `${P}/types/yealink-t54w/auto-update`, { enabled: true });
  });

  it('R12 rollout progress and per-phone results: phones that never registered are unreachable, and a rollout no phone survived is failed — never "completed 100 %"', async () => {
    // Phones that reported an older version need the update; the simulator is not running, so nobody answers.
    await system.database
      .sql`update phone_accounts set installed_version = '96.86.0.45' where pbx_id = ${PBX} and model_id = 'yealink-t54w'`;
    // One attempt per phone (issue 13's retries would wait 5 minutes before the next one).
    expect((await system.call('PATCH', `${P}/rollout-settings`, { maxAttempts: 1 })).status).toBe(200);
    const res = await system.call('POST', `${P}/update-now`, { modelIds: ['yealink-t54w'] });
    expect(res.body.decisions).toEqual([
      {
        modelId: 'yealink-t54w',
        model: 'T54W',
        status: 'started',
        workflowId: 'pbx/real/rollout/yealink-t54w',
        targetVersion: '96.86.0.70',
        phones: 2,
      },
    ]);
    // Issue 13: both phones are the canary; none of them could be reached, so the rollout halts and says why.
    const halted = await until(
      'the rollout to halt',
      () => system.call('GET', `${P}/rollout-progress`),
      (r) => r.body.rollouts.some((x: { status: string }) => x.status !== 'running'),
    );
    expect(halted.body.rollouts[0]).toMatchObject({
      status: 'halted',
      reason: { code: 'canary-unreached', params: { phones: 2 } },
    });
    // The admin resumes it: nothing is left to try, and it ends as what it is.
    const resumed = await system.call(
      'POST',
      `${P}/rollouts/${halted.body.rollouts[0].rolloutId}/resume`,
      {},
    );
    expect(resumed.status).toBe(200);
    const progress = await until(
      'the rollout to finish',
      () => system.call('GET', `${P}/rollout-progress`),
      (r) => r.body.rollouts.some((x: { status: string }) => x.status !== 'running' && x.status !== 'halted'),
    );
    const rollout = progress.body.rollouts[0];
    expect(rollout).toMatchObject({
      modelId: 'yealink-t54w',
      model: 'T54W',
      workflowId: 'pbx/real/rollout/yealink-t54w',
      status: 'failed',
      total: 2,
      done: 2,
      updated: 0,
      failed: 2,
      reason: { code: 'no-phone-updated', text: 'none of 2 phones reached 96.86.0.70' },
    });
    const detail = await system.call('GET', `${P}/rollouts/${rollout.rolloutId}`);
    expect(detail.status).toBe(200);
    // Each phone had its one attempt (maxAttempts 1) and is parked with what that attempt found: unreachable.
    expect(
      detail.body.results.map(
        (r: { mac: string; outcome: string; lastOutcome: string; attempts: number }) => [
          r.mac,
          r.outcome,
          r.lastOutcome,
          r.attempts,
        ],
      ),
    ).toEqual([
      ['805ec0300001', 'parked', 'unreachable', 1],
      ['805ec0300002', 'parked', 'unreachable', 1],
    ]);
    const history = await system.call('GET', `${P}/rollouts?modelId=yealink-t54w`);
    expect(history.body.rollouts.map((r: { rolloutId: string }) => r.rolloutId)).toEqual([rollout.rolloutId]);
    // The journal says the same word, with the phones named.
    const [ended] = await listJournal(system.database.db, { pbxId: PBX, action: 'rollout.failed', limit: 1 });
    expect(ended?.details).toMatchObject({
      rolloutId: rollout.rolloutId,
      updated: 0,
      failed: 2,
      phones: [
        expect.objectContaining({ mac: '805ec0300001', outcome: 'parked', lastOutcome: 'unreachable' }),
        expect.objectContaining({ mac: '805ec0300002', outcome: 'parked', lastOutcome: 'unreachable' }),
      ],
    });
  });

  it('R5: the last account of a type goes → its firmware is removed at the restart event, not before', async () => {
    expect((await system.call('DELETE', `${P}/accounts/${d785AccountId}`)).status).toBe(200);
    const d785 = () =>
      system.database.db
        .select()
        .from(localFirmware)
        .where(and(eq(localFirmware.pbxId, PBX), eq(localFirmware.modelId, 'snom-d785')));
    expect(await d785()).toMatchObject([{ deleteAtNextRestart: true }]);
    const restart = await system.call('POST', `${P}/events`, { kind: 'restarted' });
    expect(restart.status).toBe(200);
    expect(restart.body.result).toEqual({ removed: [{ modelId: 'snom-d785', version: '10.1.184.15' }] });
    expect(await d785()).toEqual([]);
    const pbx = await system.call('GET', P);
    expect(pbx.body.lastRestartAt).not.toBeNull();
  });

  it('R13 (a, b): upgrade and backup restore start trigger workflows; the live status answers', async () => {
    const upgraded = await system.call('POST', `${P}/events`, { kind: 'upgraded', version: '9.1.0.3' });
    expect(upgraded.body.result.triggerWorkflowId).toMatch(/^pbx\/real\/trigger\/upgraded\//);
    const restored = await system.call('POST', `${P}/events`, { kind: 'backup-restored' });
    expect(restored.body.result.triggerWorkflowId).toMatch(/^pbx\/real\/trigger\/backup-restored\//);
    // The workflow records its status as it changes; the route reads that record.
    const status = await until(
      'the recorded status with the switch off',
      () => system.call('GET', `${P}/status`),
      (r) => r.body.status?.autoDownloadInstall === false,
      30_000,
    );
    expect(status.body.status).toMatchObject({ pbxId: PBX, autoDownloadInstall: false });
    expect(status.body.status.nextScheduledUpdate).not.toBeNull();
  });

  it('issue 11 / R3: Check now answers at once while the firmware server fails, and its result arrives later', async () => {
    system.firmwareServer.setFaults({ fail500: { count: 10_000, pathPrefix: '/catalog' } });
    const res = await system.call('POST', `${P}/check-now`, {});
    // 202 only comes when the workflow has not answered within API_ANSWER_WAIT_MS: the request was not held.
    expect(res.status).toBe(202);
    expect(res.body.status).toBe('running');
    expect(res.body.message).toMatch(/^firmware server unreachable \(.*500.*\), retrying; see journal$/);
    expect(res.body.resultUrl).toBe(`${P}/check-now/${res.body.actionId}`);
    const journal = await listJournal(system.database.db, { pbxId: PBX, action: 'check.retrying', limit: 5 });
    expect(journal[0]?.details.error).toMatch(/500/);
    // Still failing: asking again gives 202 and the same news.
    expect((await system.call('GET', res.body.resultUrl)).status).toBe(202);

    system.firmwareServer.setFaults({});
    const done = await until(
      'the retried check to answer',
      () => system.call('GET', res.body.resultUrl),
      (r) => r.status !== 202,
      90_000,
    );
    expect(done.status).toBe(200);
    expect(done.body.catalogOk).toBe(true);
    expect(done.body.types.length).toBeGreaterThan(0);
  }, 120_000);

  it("issue 11: a result id of another PBX's workflow or an unknown one is 404, a malformed one 400", async () => {
    const unknown = `${'0193e3f2-7c1d-7000-8000-00000000beef'}.${'0193e3f2-7c1d-7000-8000-00000000cafe'}`;
    expect((await system.call('GET', `${P}/check-now/${unknown}`)).status).toBe(404);
    expect((await system.call('GET', `${P}/check-now/not-an-id`)).status).toBe(400);
  });
});
