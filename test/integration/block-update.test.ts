import { createSocket } from 'node:dgram';
import { Context } from '@temporalio/activity';
import { MockActivityEnvironment } from '@temporalio/testing';
import { DefaultLogger } from '@temporalio/worker';
import { and, eq, inArray, isNotNull } from 'drizzle-orm';
import sip from 'sip';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BlockInput, BlockResult } from '../../activities/contracts.ts';
import {
  type BlockProgress,
  createBlockUpdateActivities,
  MAX_NOTIFIES,
  runBlockUpdate,
} from '../../activities/update-block.ts';
import {
  clearRolloutApprovals,
  findApprovedFirmware,
  listPhonesByIds,
  setFirmwareTargets,
} from '../../db/queries/phones.ts';
import { setAutoUpdate } from '../../db/queries/type-settings.ts';
import { journal, phoneAccounts, rolloutResults } from '../../db/schema.ts';
import { createSimulatedFleet, fleetSpecOf, type SimulatedFleetAccounts } from '../../simulator/accounts.ts';
import { type Fleet, startFleet } from '../../simulator/fleet.ts';
import type { Failure } from '../../simulator/types.ts';
import { createTestDatabase, type TestDatabase } from '../support/db.ts';
import {
  approve,
  type EdgeFixture,
  openTestRollout,
  seedFirmware,
  seedModels,
  seedPbx,
  startEdgeFixture,
} from '../support/phone-fixtures.ts';

const TARGETS: Record<string, { version: string; fileName: string }> = {
  'yealink-t54w': { version: '96.86.0.70', fileName: 'T54W-96.86.0.70.rom' },
  'snom-d785': { version: '10.1.84.12', fileName: 'snomD785-10.1.84.12-SIP-r.bin' },
  // Stored under its versioned name, as the reference firmware server publishes it; the ATA asks for ht802fw.bin.
  'grandstream-ht802': { version: '1.0.43.11', fileName: 'ht802fw-1.0.43.11.bin' },
  'gigaset-n670': { version: '2.65.0', fileName: 'Gigaset-Nx70-V2.65.0-build.8504c90.bin' },
};
const FAILING_MODEL = 'yealink-t46u';
const FAILING_TARGET = { version: '108.86.0.90', fileName: 'T46U-108.86.0.90.rom' };

describe('R12: block updates against simulated phones over real UDP and HTTP', () => {
  let t: TestDatabase;
  let fx: EdgeFixture;
  let pbx: Awaited<ReturnType<typeof seedPbx>>;
  let accounts: SimulatedFleetAccounts;
  let fleet: Fleet;
  let activities: ReturnType<typeof createBlockUpdateActivities>;

  const idsOf = (modelId: string, acc = accounts) =>
    acc.phones.filter((p) => p.modelId === modelId).map((p) => p.id);
  const spec = (acc: SimulatedFleetAccounts) =>
    fleetSpecOf(acc, {
      provisioningUrl: fx.edge.provisioningUrlFor(pbx.id),
      provisioningPassword: pbx.provisioningPassword,
      sipHost: '127.0.0.1',
      sipPort: fx.edge.sipPort,
    });

  const openRollout = (modelId: string, targetVersion: string) =>
    openTestRollout(t.db, { pbxId: pbx.id, modelId, targetVersion });
  type Ask = Omit<BlockInput, 'rolloutId' | 'block' | 'why' | 'who'> & Partial<BlockInput>;
  async function blockInput(ask: Ask): Promise<BlockInput> {
    return {
      block: 0,
      why: 'manual',
      who: 'alice',
      ...ask,
      rolloutId: ask.rolloutId ?? (await openRollout(ask.modelId, ask.targetVersion)),
    };
  }
  function runBlock(input: BlockInput, info: ConstructorParameters<typeof MockActivityEnvironment>[0] = {}) {
    const env = new MockActivityEnvironment(info, { logger: new DefaultLogger('ERROR') });
    const heartbeats: BlockProgress[] = [];
    env.on('heartbeat', (d: BlockProgress) => heartbeats.push(d));
    return { env, heartbeats, result: env.run(activities.updatePhoneBlock, input) as Promise<BlockResult> };
  }

  beforeAll(async () => {
    t = await createTestDatabase();
    fx = await startEdgeFixture(t.db, { t1Ms: 100, t2Ms: 800 });
    pbx = await seedPbx(t.db, 'delta');
    await seedModels(t.db);
    for (const [modelId, f] of Object.entries(TARGETS)) {
      await seedFirmware(t.db, fx, { pbxId: pbx.id, modelId, ...f, size: 256 * 1024 });
    }
    accounts = await createSimulatedFleet(t.db, {
      pbxId: pbx.id,
      models: Object.fromEntries(Object.keys(TARGETS).map((m) => [m, 50])),
    });
    fleet = await startFleet(spec(accounts), {
      flashMs: 150,
      bootSpreadMs: 500,
      sipTimers: { t1Ms: 100, t2Ms: 800 },
    });
    await fleet.booted;
    activities = createBlockUpdateActivities(fx.deps, fx.edge);
  });
  afterAll(async () => {
    await fleet?.close();
    await fx?.close();
    await t?.drop();
  });

  it('R7: a booted fleet registers and provisions but is offered no firmware outside a block', async () => {
    const s = fleet.stats();
    expect(s.registered).toBe(200);
    expect(s.downloads).toBe(0);
    const rows = await t.db.select().from(phoneAccounts).where(eq(phoneAccounts.pbxId, pbx.id));
    expect(rows.every((r) => r.sipContact && r.installedVersion && r.lastProvisionedAt)).toBe(true);
  });

  it('R12: a block of 50 phones of each vendor updates to the target version', async () => {
    const inputs: Record<string, BlockInput> = {};
    for (const [modelId, f] of Object.entries(TARGETS)) {
      inputs[modelId] = await blockInput({
        pbxId: pbx.id,
        modelId,
        targetVersion: f.version,
        phoneIds: idsOf(modelId),
        timeoutMs: 60_000,
      });
    }
    const runs = Object.keys(TARGETS).map((modelId) => ({
      modelId,
      ...runBlock(inputs[modelId] as BlockInput),
    }));
    for (const run of runs) {
      const { results } = await run.result;
      const target = TARGETS[run.modelId]!.version;
      expect(results).toHaveLength(50);
      expect(results.filter((r) => r.outcome !== 'updated')).toEqual([]);
      expect(results.every((r) => r.reportedVersion === target && r.fromVersion !== target)).toBe(true);
      expect(run.heartbeats.at(-1)).toMatchObject({ updated: 50, pending: 0 });
      expect(run.heartbeats.at(-1)?.notified).toHaveLength(50);
    }
    for (const p of accounts.phones) {
      const sim = fleet.byMac(p.mac)!;
      expect(sim.version).toBe(TARGETS[p.modelId]!.version);
      expect(sim.notifies).toBe(1);
      expect(sim.flashes).toBe(1);
    }
    const rows = await t.db.select().from(phoneAccounts).where(eq(phoneAccounts.pbxId, pbx.id));
    expect(rows.filter((r) => r.installedVersion !== TARGETS[r.modelId]!.version)).toEqual([]);
    expect(rows.filter((r) => r.firmwareTargetVersion !== null)).toEqual([]);
    const finished = await t.db
      .select()
      .from(journal)
      .where(and(eq(journal.pbxId, pbx.id), eq(journal.action, 'phones.block-finished')));
    expect(finished.map((j) => j.details.outcomes)).toEqual(Array(4).fill({ updated: 50 }));
  });

  it('R12: a retried block does not notify phones already on the target', async () => {
    const before = fleet.stats().notifies;
    const { result } = runBlock(
      await blockInput({
        pbxId: pbx.id,
        modelId: 'snom-d785',
        targetVersion: TARGETS['snom-d785']!.version,
        phoneIds: idsOf('snom-d785'),
      }),
    );
    const { results } = await result;
    expect(new Set(results.map((r) => r.outcome))).toEqual(new Set(['already-current']));
    expect(fleet.stats().notifies).toBe(before);
  });

  it('R12: per-phone failures are reported with the right reason', async () => {
    const failures: Failure[] = [
      'offline',
      'download-aborts',
      'never-returns',
      'returns-old-version',
      'refuses-notify',
    ];
    await seedFirmware(t.db, fx, {
      pbxId: pbx.id,
      modelId: FAILING_MODEL,
      ...FAILING_TARGET,
      // Larger than socket buffers, so the edge sees an aborted download as aborted.
      size: 16 * 1024 * 1024,
    });
    const failing = await createSimulatedFleet(t.db, { pbxId: pbx.id, models: { [FAILING_MODEL]: 12 } });
    const failureOf = new Map(failing.phones.map((p, i) => [p.mac, failures[Math.floor(i / 2)]]));
    const s = spec(failing);
    s.phones = s.phones.map((p) => ({ ...p, failure: failureOf.get(p.mac) }));
    const second = await startFleet(s, { flashMs: 50, sipTimers: { t1Ms: 100, t2Ms: 800 } });
    try {
      await second.booted;
      const { result } = runBlock(
        await blockInput({
          pbxId: pbx.id,
          modelId: FAILING_MODEL,
          targetVersion: FAILING_TARGET.version,
          phoneIds: idsOf(FAILING_MODEL, failing),
          timeoutMs: 5_000,
        }),
      );
      const { results } = await result;
      const expected: Record<string, string> = {
        offline: 'unreachable',
        'download-aborts': 'failed-download',
        'never-returns': 'no-answer',
        'returns-old-version': 'wrong-version',
        'refuses-notify': 'unreachable',
        none: 'updated',
      };
      for (const r of results) {
        expect({ mac: r.mac, outcome: r.outcome }).toEqual({
          mac: r.mac,
          outcome: expected[failureOf.get(r.mac) ?? 'none'],
        });
      }
      expect(
        results
          .filter((r) => r.outcome === 'unreachable')
          .map((r) => r.detail)
          .sort(),
      ).toEqual([
        'NOTIFY refused with 481',
        'NOTIFY refused with 481',
        'no SIP registration',
        'no SIP registration',
      ]);
      expect(results.find((r) => r.outcome === 'failed-download')?.detail).toMatch(/aborted after \d+ bytes/);
      expect(results.find((r) => r.outcome === 'wrong-version')?.reportedVersion).toBe(
        failing.phones[0]!.version,
      );
      const lines = fx
        .autoprovLines(pbx.id)
        .filter((l) => l.event === 'block-outcome' && l.model === FAILING_MODEL);
      expect(lines.map((l) => l.outcome).sort()).toEqual(results.map((r) => r.outcome).sort());
      const left = await t.db
        .select()
        .from(phoneAccounts)
        .where(
          and(
            inArray(phoneAccounts.id, idsOf(FAILING_MODEL, failing)),
            isNotNull(phoneAccounts.firmwareTargetVersion),
          ),
        );
      expect(left).toEqual([]);
    } finally {
      await second.close();
    }
  });

  it('issue 10 defect 6: Grandstream ATAs that challenge the NOTIFY with their model as realm are updated', async () => {
    const ata = await createSimulatedFleet(t.db, { pbxId: pbx.id, models: { 'grandstream-ht802': 3 } });
    const s = spec(ata);
    s.phones = s.phones.map((p) => ({ ...p, notifyAuth: true }));
    const ataFleet = await startFleet(s, { flashMs: 50, sipTimers: { t1Ms: 100, t2Ms: 800 } });
    try {
      await ataFleet.booted;
      const { result } = runBlock(
        await blockInput({
          pbxId: pbx.id,
          modelId: 'grandstream-ht802',
          targetVersion: TARGETS['grandstream-ht802']!.version,
          phoneIds: ata.phones.map((p) => p.id),
          timeoutMs: 20_000,
        }),
      );
      const { results } = await result;
      expect(results.map((r) => r.outcome)).toEqual(['updated', 'updated', 'updated']);
      for (const p of ata.phones)
        expect(ataFleet.byMac(p.mac)?.version).toBe(TARGETS['grandstream-ht802']!.version);
    } finally {
      await ataFleet.close();
    }
  });

  it('R12: a retry while the first attempt still runs waits for the notified phones without notifying them again', async () => {
    const retry = await createSimulatedFleet(t.db, { pbxId: pbx.id, models: { 'gigaset-n670': 5 } });
    const third = await startFleet(spec(retry), { flashMs: 300, sipTimers: { t1Ms: 100, t2Ms: 800 } });
    try {
      await third.booted;
      const input = await blockInput({
        pbxId: pbx.id,
        modelId: 'gigaset-n670',
        targetVersion: TARGETS['gigaset-n670']!.version,
        phoneIds: retry.phones.map((p) => p.id),
        timeoutMs: 60_000,
      });
      const first = runBlock(input);
      await expect.poll(() => first.heartbeats.at(-1)?.notified.length ?? 0).toBe(5);
      // The server retries the activity (say its heartbeat timed out) while the first attempt still runs: the
      // retry knows who was notified from the database, not from heartbeat details.
      const second = runBlock(input, { attempt: 2 });
      const [a, b] = await Promise.all([first.result, second.result]);
      expect(a.results.map((r) => r.outcome)).toEqual(Array(5).fill('updated'));
      expect(b.results.map((r) => r.outcome)).toEqual(Array(5).fill('updated'));
      expect(third.phones.map((p) => p.notifies)).toEqual(Array(5).fill(1));
    } finally {
      await third.close();
    }
  });

  it('R12: a block retried after its worker died mid-flash notifies nobody twice and records the phones as updated, not already-current', async () => {
    const fleetOf = await createSimulatedFleet(t.db, { pbxId: pbx.id, models: { 'gigaset-n670': 4 } });
    const phones = await startFleet(spec(fleetOf), { flashMs: 400, sipTimers: { t1Ms: 100, t2Ms: 800 } });
    try {
      await phones.booted;
      const input = await blockInput({
        pbxId: pbx.id,
        modelId: 'gigaset-n670',
        targetVersion: TARGETS['gigaset-n670']!.version,
        phoneIds: fleetOf.phones.map((p) => p.id),
        timeoutMs: 60_000,
      });
      // The first attempt notifies everyone, then its worker is gone (no heartbeat details survive: the SDK
      // sends them only every so often). A worker going away is no decision about the rollout: the approvals stay.
      const first = runBlock(input);
      await expect.poll(() => phones.phones.filter((p) => p.notifies === 1).length).toBe(4);
      first.env.cancel('WORKER_SHUTDOWN');
      await first.result.catch(() => undefined);
      // The phones flash and come back on the target meanwhile.
      await expect
        .poll(() => phones.phones.every((p) => p.version === TARGETS['gigaset-n670']!.version), {
          timeout: 10_000,
        })
        .toBe(true);
      const retry = runBlock(input, { attempt: 2 });
      const { results } = await retry.result;
      expect(results.map((r) => r.outcome)).toEqual(Array(4).fill('updated'));
      expect(phones.phones.map((p) => p.notifies)).toEqual(Array(4).fill(1));
      const rows = await t.db
        .select()
        .from(rolloutResults)
        .where(eq(rolloutResults.rolloutId, input.rolloutId));
      expect(rows.map((r) => [r.outcome, r.notify])).toEqual(Array(4).fill(['updated', 'answered']));
    } finally {
      await phones.close();
    }
  });

  it('issue 13: a block cancelled because its rollout was cancelled withdraws every approval of its phones at once', async () => {
    const fleetOf = await createSimulatedFleet(t.db, { pbxId: pbx.id, models: { 'gigaset-n670': 3 } });
    const phones = await startFleet(spec(fleetOf), { flashMs: 400, sipTimers: { t1Ms: 100, t2Ms: 800 } });
    try {
      await phones.booted;
      const ids = fleetOf.phones.map((p) => p.id);
      const input = await blockInput({
        pbxId: pbx.id,
        modelId: 'gigaset-n670',
        targetVersion: TARGETS['gigaset-n670']!.version,
        phoneIds: ids,
        timeoutMs: 60_000,
      });
      const block = runBlock(input);
      await expect
        .poll(async () => (await listPhonesByIds(t.db, pbx.id, ids)).filter((p) => p.firmwareTargetVersion))
        .toHaveLength(3);
      block.env.cancel('CANCELLED'); // what the server tells the activity when its workflow cancels it
      await expect(block.result).rejects.toThrow();
      const after = await listPhonesByIds(t.db, pbx.id, ids);
      expect(after.map((p) => p.firmwareTargetVersion)).toEqual([null, null, null]);
    } finally {
      await phones.close();
    }
  });

  it("R12: a registered phone that never answers its NOTIFY is that phone's unreachable, and the block heartbeats all the while", async () => {
    const [silent] = await createSimulatedFleet(t.db, { pbxId: pbx.id, models: { 'yealink-t54w': 1 } }).then(
      (a) => a.phones,
    );
    // A contact that swallows every datagram: a phone unplugged while its registration still stands.
    const sink = createSocket('udp4');
    await new Promise<void>((resolve) => sink.bind(0, '127.0.0.1', resolve));
    try {
      await t.db
        .update(phoneAccounts)
        .set({
          sipContact: `sip:${silent!.extension}@127.0.0.1:${sink.address().port}`,
          sipRegisteredUntil: new Date(Date.now() + 3_600_000),
          installedVersion: '96.86.0.45',
        })
        .where(eq(phoneAccounts.id, silent!.id));
      const env = new MockActivityEnvironment({}, { logger: new DefaultLogger('ERROR') });
      const beats: number[] = [];
      env.on('heartbeat', () => beats.push(Date.now()));
      const started = Date.now();
      const input = await blockInput({
        pbxId: pbx.id,
        modelId: 'yealink-t54w',
        targetVersion: TARGETS['yealink-t54w']!.version,
        phoneIds: [silent!.id],
        timeoutMs: 30_000,
      });
      const { results } = (await env.run(
        (i: BlockInput): Promise<BlockResult> =>
          runBlockUpdate(fx.deps, fx.edge, i, {
            heartbeat: (p) => Context.current().heartbeat(p),
            signal: Context.current().cancellationSignal,
            heartbeatEveryMs: 200,
          }),
        input,
      )) as BlockResult;
      const notifyMs = Date.now() - started;
      expect(results).toEqual([
        expect.objectContaining({
          outcome: 'unreachable',
          detail: expect.stringMatching(/NOTIFY unanswered/),
        }),
      ]);
      // The NOTIFY took the whole RFC 3261 timer B (64 × T1); heartbeats kept coming meanwhile, not only after it.
      expect(notifyMs).toBeGreaterThan(64 * 100 - 500);
      expect(beats.filter((b) => b < started + notifyMs - 1000).length).toBeGreaterThan(5);
    } finally {
      sink.close();
    }
  });

  it('R12: a phone that answered the NOTIFY but never came for its files (its request failed) is notified again, at most three times', async () => {
    const [phone] = await createSimulatedFleet(t.db, { pbxId: pbx.id, models: { 'yealink-t54w': 1 } }).then(
      (a) => a.phones,
    );
    // A phone whose provisioning requests all fail (the edge or the database is down for it): it answers every
    // NOTIFY with 200 OK and never fetches anything.
    const answering = createSocket('udp4');
    let notifies = 0;
    answering.on('message', (msg, from) => {
      const rq = sip.parse(msg.toString('binary'));
      if (rq?.method !== 'NOTIFY') return;
      notifies++;
      const rs = sip.makeResponse(rq, 200, 'OK');
      answering.send(Buffer.from(sip.stringify(rs), 'binary'), from.port, from.address);
    });
    await new Promise<void>((resolve) => answering.bind(0, '127.0.0.1', resolve));
    try {
      await t.db
        .update(phoneAccounts)
        .set({
          sipContact: `sip:${phone!.extension}@127.0.0.1:${answering.address().port}`,
          sipRegisteredUntil: new Date(Date.now() + 3_600_000),
          installedVersion: '96.86.0.45',
        })
        .where(eq(phoneAccounts.id, phone!.id));
      const input = await blockInput({
        pbxId: pbx.id,
        modelId: 'yealink-t54w',
        targetVersion: TARGETS['yealink-t54w']!.version,
        phoneIds: [phone!.id],
        timeoutMs: 6_000,
      });
      const env = new MockActivityEnvironment({}, { logger: new DefaultLogger('ERROR') });
      const { results } = (await env.run(
        (i: BlockInput): Promise<BlockResult> =>
          runBlockUpdate(fx.deps, fx.edge, i, {
            heartbeat: () => {},
            signal: Context.current().cancellationSignal,
            staleAfterMs: 500,
          }),
        input,
      )) as BlockResult;
      expect(notifies).toBe(MAX_NOTIFIES);
      expect(results).toEqual([expect.objectContaining({ outcome: 'no-answer' })]);
      const [row] = await t.db
        .select()
        .from(rolloutResults)
        .where(eq(rolloutResults.rolloutId, input.rolloutId));
      expect(row).toMatchObject({ notifies: MAX_NOTIFIES, outcome: 'no-answer' });
      const again = await t.db.select().from(journal).where(eq(journal.action, 'phones.notified-again'));
      expect(again.filter((j) => (j.details.phones as string[]).includes(phone!.mac))).toHaveLength(
        MAX_NOTIFIES - 1,
      );
    } finally {
      answering.close();
    }
  });

  it("R7/R11: an approval ends by itself when its block is killed, and the rollout's end withdraws what is left", async () => {
    const [phone] = idsOf('yealink-t54w');
    const rolloutId = await openRollout('yealink-t54w', '96.86.0.99');
    await setFirmwareTargets(t.db, pbx.id, [phone!], {
      version: TARGETS['yealink-t54w']!.version,
      at: new Date(),
      rolloutId,
      expiresAt: new Date(Date.now() - 1),
    });
    const [row] = await listPhonesByIds(t.db, pbx.id, [phone!]);
    expect(row?.firmwareTargetVersion).toBe(TARGETS['yealink-t54w']!.version);
    // Provisioning asks this before it offers firmware: an expired approval offers nothing.
    expect(await findApprovedFirmware(t.db, phone!)).toBeUndefined();
    expect(await clearRolloutApprovals(t.db, pbx.id, rolloutId)).toBe(1);
    const [after] = await listPhonesByIds(t.db, pbx.id, [phone!]);
    expect(after?.firmwareTargetVersion).toBeNull();
  });

  it('R7: switching Auto-Update off withdraws every approval of the type at once, even one a killed block left', async () => {
    const phones = idsOf('yealink-t54w').slice(0, 3);
    await approve(t.db, pbx.id, phones, TARGETS['yealink-t54w']!.version);
    expect(await findApprovedFirmware(t.db, phones[0]!)).toBeDefined();
    await setAutoUpdate(t.db, pbx.id, 'yealink-t54w', false);
    for (const id of phones) expect(await findApprovedFirmware(t.db, id)).toBeUndefined();
    await setAutoUpdate(t.db, pbx.id, 'yealink-t54w', true);
  });

  it('R12: refuses an invalid block as non-retryable and changes nothing', async () => {
    const t54w = idsOf('yealink-t54w');
    const base = await blockInput({
      pbxId: pbx.id,
      modelId: 'yealink-t54w',
      targetVersion: '96.86.0.99',
      phoneIds: t54w.slice(0, 2),
    });
    const cases: Array<[BlockInput, RegExp]> = [
      [{ ...base, phoneIds: [...t54w, ...idsOf('snom-d785').slice(0, 1)] }, /at most 50 phones/],
      [{ ...base, phoneIds: [t54w[0]!, idsOf('snom-d785')[0]!] }, /not of type yealink-t54w/],
      [{ ...base, phoneIds: [999_999] }, /not on PBX delta/],
      [base, /holds no firmware 96\.86\.0\.99/],
      [{ ...base, pbxId: 'nowhere' }, /no PBX/],
    ];
    for (const [input, message] of cases) {
      await expect(runBlock(input).result).rejects.toMatchObject({
        nonRetryable: true,
        message: expect.stringMatching(message),
      });
    }
    await setAutoUpdate(t.db, pbx.id, 'yealink-t54w', false);
    await expect(
      runBlock({ ...base, targetVersion: TARGETS['yealink-t54w']!.version }).result,
    ).rejects.toMatchObject({
      nonRetryable: true,
      type: 'AutoUpdateOff',
      message: expect.stringMatching(/Auto-Update is off/),
    });
    const offered = await t.db
      .select()
      .from(phoneAccounts)
      .where(isNotNull(phoneAccounts.firmwareTargetVersion));
    expect(offered).toEqual([]);
  });
});
