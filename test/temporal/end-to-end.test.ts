/**
 * The whole product at work, every part real: the API registers a PBX with phones of two vendors (simulated phones
 * speaking SIP and HTTP provisioning on loopback), the reference firmware server publishes a new release, and the
 * three buttons (Check now, Download now, Update now) take every phone to the new version through the real
 * lifecycle and rollout workflows on the Temporal dev server.
 */
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { syncImageFirmware, writeDemoImageFirmware } from '../../activities/image-firmware.ts';
import { listJournal } from '../../db/queries/journal.ts';
import { phoneAccounts } from '../../db/schema.ts';
import { repoRoot } from '../../lib/config.ts';
import { DEMO_FLEET } from '../../scripts/demo.ts';
import { type Fleet, startFleet } from '../../simulator/fleet.ts';
import { fleetFromDatabase } from '../../simulator/fleet-from-db.ts';
import { VENDOR_OUI } from '../../simulator/identity.ts';
import { SIP_TIMERS, type System, startSystem } from '../support/system.ts';
import { until } from '../support/until.ts';

const PBX = 'e2e';
const P = `/api/pbxes/${PBX}`;
let system: System;
let fleet: Fleet | undefined;
let provisioningPassword: string;

beforeAll(async () => {
  system = await startSystem();
}, 120_000);
afterAll(async () => {
  await fleet?.close();
  await system?.close();
});

describe('end to end: API → workflows → firmware server → phones', () => {
  it('registers a PBX with Yealink and Snom phones that register with their versions', async () => {
    const reg = await system.call('POST', '/api/pbxes', {
      id: PBX,
      name: 'End to end',
      timeZone: 'Europe/Berlin',
    });
    expect(reg.status).toBe(201);
    provisioningPassword = reg.body.provisioning.password;
    // R8 off: the R13 (c) triggers of the first accounts only check; the buttons do the rest.
    expect((await system.call('PATCH', `${P}/settings`, { autoDownloadInstall: false })).status).toBe(200);
    const accounts = [
      ...Array.from({ length: 60 }, (_, i) => ({
        mac: `805ec0e2${String(i).padStart(4, '0')}`,
        model: 'yealink-t54w',
        extension: `${200 + i}`,
      })),
      ...Array.from({ length: 25 }, (_, i) => ({
        mac: `000413e2${String(i).padStart(4, '0')}`,
        model: 'snom-d785',
        extension: `${300 + i}`,
      })),
    ];
    const created = await system.call('POST', `${P}/accounts/bulk`, { accounts });
    expect(created.status).toBe(201);

    const spec = await fleetFromDatabase(system.database.url, {
      pbxId: PBX,
      initialVersion: undefined,
      endpoints: {
        provisioningUrl: system.edge.provisioningUrlFor(PBX),
        provisioningPassword,
        sipHost: '127.0.0.1',
        sipPort: system.edge.sipPort,
      },
    });
    fleet = await startFleet(spec, { flashMs: 300, bootSpreadMs: 300, sipTimers: SIP_TIMERS });
    await fleet.booted;
    const overview = await until(
      'every phone to report its version',
      () => system.call('GET', `${P}/overview`),
      (r) =>
        r.body.types.every((t: { inUse: Array<{ version: string | null }> }) =>
          t.inUse.every((u) => u.version !== null),
        ),
    );
    expect(
      overview.body.types.map((t: { model: string; accounts: number }) => [t.model, t.accounts]),
    ).toEqual([
      ['D785', 25],
      ['T54W', 60],
    ]);
  });

  it('publishes a new release on the firmware server; Check now sees it (R6 newest available)', async () => {
    execFileSync(process.execPath, [
      join(repoRoot, 'firmware-server/cli.ts'),
      'publish',
      '--data-dir',
      system.firmwareServer.dataDir,
      '--vendor',
      'yealink',
      '--models',
      'T54W,T57,T53',
      '--version',
      '96.86.0.99',
      '--size',
      '64KB',
      '--notes',
      'end-to-end test release',
    ]);
    const check = await system.call('POST', `${P}/check-now`, {});
    expect(check.status).toBe(200);
    expect(check.body.types).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          modelId: 'yealink-t54w',
          newestAvailable: '96.86.0.99',
          needsDownload: true,
        }),
        expect.objectContaining({
          modelId: 'snom-d785',
          newestAvailable: '10.1.184.15',
          needsDownload: true,
        }),
      ]),
    );
  });

  it('Download now brings both firmwares to the PBX (R10, R16 shared store)', async () => {
    const dl = await system.call('POST', `${P}/download-now`, {});
    expect(dl.status).toBe(200);
    expect(dl.body.started.map((s: { version: string }) => s.version).sort()).toEqual([
      '10.1.184.15',
      '96.86.0.99',
    ]);
    await until(
      'the overview to show both as newest local',
      () => system.call('GET', `${P}/overview`),
      (r) =>
        r.body.types.find((t: { modelId: string }) => t.modelId === 'yealink-t54w')?.newestLocal ===
          '96.86.0.99' &&
        r.body.types.find((t: { modelId: string }) => t.modelId === 'snom-d785')?.newestLocal ===
          '10.1.184.15',
    );
  });

  it('Update now takes every phone to the new version: a canary of 5, then blocks of 50 (R11, R12, issue 13)', async () => {
    const up = await system.call('POST', `${P}/update-now`, {});
    expect(up.status).toBe(200);
    expect(
      up.body.decisions.map((d: { model: string; status: string; phones: number }) => [
        d.model,
        d.status,
        d.phones,
      ]),
    ).toEqual([
      ['D785', 'started', 25],
      ['T54W', 'started', 60],
    ]);
    const done = await until(
      'both rollouts to finish',
      () => system.call('GET', `${P}/rollout-progress`),
      (r) =>
        r.body.rollouts.length === 2 &&
        r.body.rollouts.every((x: { status: string }) => x.status !== 'running'),
    );
    for (const r of done.body.rollouts)
      expect(r).toMatchObject({ status: 'completed', failed: 0, percent: 100 });

    const phones = await system.database.db.select().from(phoneAccounts).where(eq(phoneAccounts.pbxId, PBX));
    const byModel = (m: string) => phones.filter((p) => p.modelId === m).map((p) => p.installedVersion);
    expect(new Set(byModel('yealink-t54w'))).toEqual(new Set(['96.86.0.99']));
    expect(new Set(byModel('snom-d785'))).toEqual(new Set(['10.1.184.15']));
    expect(fleet?.stats().versions).toEqual({ '96.86.0.99': 60, '10.1.184.15': 25 });
    const t54w = done.body.rollouts.find((r: { modelId: string }) => r.modelId === 'yealink-t54w');
    expect(t54w).toMatchObject({ total: 60, blocks: 3, blocksDone: 3, updated: 60 }); // 5 + 50 + 5

    // R6: nothing newer left to show; R14: the journal tells the story.
    const overview = await system.call('GET', `${P}/overview`);
    for (const t of overview.body.types)
      expect(t).toMatchObject({ newestLocal: null, newestAvailable: null });
    const actions = (await listJournal(system.database.db, { pbxId: PBX, limit: 200 })).map((j) => j.action);
    expect(actions).toEqual(
      expect.arrayContaining([
        'firmware.checked',
        'firmware.downloaded',
        'rollout.started',
        'rollout.completed',
      ]),
    );
  });
});

describe("end to end: the demo's phone types, Grandstream HT802 included, all reach their newest version", () => {
  const DEMO = 'e2e-demo';
  const D = `/api/pbxes/${DEMO}`;
  let demoFleet: Fleet | undefined;
  afterAll(async () => {
    await demoFleet?.close();
  });

  it('Update now takes every demo type to its newest version, the simulator playing the documented phones', async () => {
    // The image-managed Snom M900 (R2) comes with the PBX image, as `npm start` writes it.
    await writeDemoImageFirmware(system.deps.config.imageFirmwareDir);
    await syncImageFirmware(system.deps);
    const reg = await system.call('POST', '/api/pbxes', {
      id: DEMO,
      name: 'Demo types',
      timeZone: 'Europe/Berlin',
    });
    expect(reg.status).toBe(201);
    expect((await system.call('PATCH', `${D}/settings`, { autoDownloadInstall: false })).status).toBe(200);
    let serial = 1;
    let extension = 500;
    const accounts = DEMO_FLEET.flatMap(({ model, vendor }) =>
      Array.from({ length: 2 }, () => ({
        mac: `${VENDOR_OUI[vendor]}${(0xe90000 + serial++).toString(16)}`,
        model,
        extension: String(extension++),
        // Markup characters the files must encode (line breaks never get this far: the API refuses them).
        displayName: `Desk <${extension}> & "co"`,
      })),
    );
    expect((await system.call('POST', `${D}/accounts/bulk`, { accounts })).status).toBe(201);
    const spec = await fleetFromDatabase(system.database.url, {
      pbxId: DEMO,
      initialVersion: undefined,
      endpoints: {
        provisioningUrl: system.edge.provisioningUrlFor(DEMO),
        provisioningPassword: reg.body.provisioning.password,
        sipHost: '127.0.0.1',
        sipPort: system.edge.sipPort,
      },
    });
    demoFleet = await startFleet(spec, { flashMs: 300, bootSpreadMs: 300, sipTimers: SIP_TIMERS });
    await demoFleet.booted;
    expect(
      demoFleet.phones.filter((p) => !p.registered).map((p) => `${p.spec.model}: ${p.lastError}`),
    ).toEqual([]);
    expect(demoFleet.stats()).toMatchObject({ registered: accounts.length, errors: 0 });
    const types = () => system.call('GET', `${D}/overview`);
    await until(
      'every demo phone to report its version',
      types,
      (r) =>
        r.body.types.length === DEMO_FLEET.length &&
        r.body.types.every((t: { inUse: Array<{ version: string | null }> }) =>
          t.inUse.every((u) => u.version !== null),
        ),
    );
    expect((await system.call('POST', `${D}/check-now`, {})).status).toBe(200);
    expect((await system.call('POST', `${D}/download-now`, {})).status).toBe(200);
    const ready = await until('every demo type to hold a newer local firmware', types, (r) =>
      r.body.types.every((t: { newestLocal: string | null }) => t.newestLocal !== null),
    );
    const newest = new Map<string, string>(
      ready.body.types.map((t: { modelId: string; newestLocal: string }) => [t.modelId, t.newestLocal]),
    );
    const up = await system.call('POST', `${D}/update-now`, {});
    expect(up.status).toBe(200);
    expect(up.body.decisions.map((d: { status: string }) => d.status)).toEqual(
      Array(DEMO_FLEET.length).fill('started'),
    );
    const done = await until(
      'every demo rollout to finish',
      () => system.call('GET', `${D}/rollout-progress`),
      (r) =>
        r.body.rollouts.length === DEMO_FLEET.length &&
        r.body.rollouts.every((x: { status: string }) => x.status !== 'running'),
    );
    const rows = await system.database.db.select().from(phoneAccounts).where(eq(phoneAccounts.pbxId, DEMO));
    const unfinished = done.body.rollouts.filter(
      (r: { status: string; failed: number }) => r.status !== 'completed' || r.failed !== 0,
    );
    expect(
      unfinished.map((r: { modelId: string }) => ({
        rollout: r,
        phones: demoFleet?.phones
          .filter((p) => rows.find((row) => row.mac === p.spec.mac)?.modelId === r.modelId)
          .map((p) => ({ state: p.state, version: p.version, error: p.lastError })),
      })),
    ).toEqual([]);
    for (const r of done.body.rollouts)
      expect(r).toMatchObject({ status: 'completed', failed: 0, percent: 100 });
    expect(rows.filter((p) => p.installedVersion !== newest.get(p.modelId))).toEqual([]);
    for (const p of demoFleet.phones) {
      const row = rows.find((r) => r.mac === p.spec.mac)!;
      expect(p.version).toBe(newest.get(row.modelId));
    }
  });
});
