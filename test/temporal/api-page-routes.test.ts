/**
 * The read-only routes the page needs (issue 12), on real Postgres through the app in-process: the fleet view over
 * 1,000 PBXes (R16: paged, filtered and sorted by the server, a PBX-scoped token sees its own only), the phones of a
 * type with their registration and last rollout result, the supported models (R1/R2), the three logs (R14) with
 * byte ranges, and the journal filtered by kind with its reasons as codes.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { appendJournal } from '../../db/queries/journal.ts';
import { recordRegistration, setFirmwareTargets } from '../../db/queries/phones.ts';
import { localFirmware, phoneAccounts, rolloutResults, rollouts } from '../../db/schema.ts';
import { reason } from '../../domain/reasons.ts';
import { PbxLogs } from '../../lib/pbx-logs.ts';
import { type ApiHarness, createApiHarness } from '../support/api.ts';
import { insertPbx } from '../support/firmware.ts';
import { FLEET_ZONES, fleetPlan, seedFleet, T54W_NEW, T54W_OLD } from '../support/fleet-seed.ts';

const FLEET = 1000;
let h: ApiHarness;
let admin: string;

beforeAll(async () => {
  h = await createApiHarness({});
  admin = await h.token('operator');
  await seedFleet(h.database.db, FLEET);
}, 120_000);
afterAll(async () => {
  await h?.close();
});

const count = (n: number, rule: (i: number) => boolean) =>
  Array.from({ length: n }, (_, i) => i).filter(rule).length;

describe('R16: the fleet view API over 1,000 PBXes', () => {
  const fleet = async (query: string, token = admin) => h.call('GET', `/api/fleet?${query}`, { token });

  it('R16: pages of the whole fleet, in order, with the total and a summary over every PBX', async () => {
    const first = await fleet('limit=200');
    expect(first.status).toBe(200);
    expect(first.body.total).toBe(FLEET);
    expect(first.body.pbxes).toHaveLength(200);
    expect(first.body.pbxes[0].id).toBe('site-0000');
    const last = await fleet('limit=200&offset=900');
    expect(last.body.pbxes.map((p: { id: string }) => p.id)).toEqual(
      Array.from({ length: 100 }, (_, k) => fleetPlan.id(900 + k)),
    );
    expect(first.body.summary).toEqual({
      pbxes: FLEET,
      behind: count(FLEET, fleetPlan.t54wBehind),
      running: count(FLEET, fleetPlan.running),
      failed: count(FLEET, fleetPlan.failedThisWeek),
      phonesBehind: count(FLEET, fleetPlan.t54wBehind),
    });
    const row = first.body.pbxes.find((p: { id: string }) => p.id === 'site-0100');
    expect(row).toMatchObject({
      timeZone: fleetPlan.zone(100),
      autoDownloadInstall: false,
      nextUpdateAt: null, // R8 off: the update moment does nothing
      phones: 4,
      typesBehind: [
        { modelId: 'yealink-t54w', model: 'T54W', newest: T54W_NEW, phonesBehind: 1, oldest: T54W_OLD },
      ],
      runningRollouts: [{ modelId: 'yealink-t54w', targetVersion: T54W_NEW, percent: 33 }],
      failedRollouts: 1,
    });
  });

  it('R16: "PBXes with T54W below 96.86.0.70" and "failed rollouts this week", filtered by the server', async () => {
    const below = await fleet(`below=yealink-t54w@${T54W_NEW}&limit=200`);
    expect(below.body.total).toBe(count(FLEET, fleetPlan.t54wBehind));
    expect(below.body.pbxes.every((p: { id: string }) => fleetPlan.t54wBehind(Number(p.id.slice(5))))).toBe(
      true,
    );
    const failed = await fleet('failed=true');
    // A rollout that failed 10 days ago is not "this week".
    expect(failed.body.total).toBe(count(FLEET, fleetPlan.failedThisWeek));
    const both = await fleet(`failed=true&running=true&timeZone=${encodeURIComponent(FLEET_ZONES[0])}`);
    expect(both.body.total).toBe(
      count(
        FLEET,
        (i) => fleetPlan.failedThisWeek(i) && fleetPlan.running(i) && fleetPlan.zone(i) === FLEET_ZONES[0],
      ),
    );
    const named = await fleet('q=SITE-0042');
    expect(named.body.pbxes.map((p: { id: string }) => p.id)).toEqual(['site-0042']);
    const off = await fleet('autoDownloadInstall=false&behind=false');
    expect(off.body.total).toBe(count(FLEET, (i) => !fleetPlan.automatic(i) && !fleetPlan.t54wBehind(i)));
  });

  it('R16: sorted by the server — by next update moment (none last), by failures, descending', async () => {
    const byMoment = await fleet('sort=nextUpdate&limit=200&offset=800');
    const moments = byMoment.body.pbxes.map((p: { nextUpdateAt: string | null }) => p.nextUpdateAt);
    const known = moments.filter((m: string | null) => m !== null);
    expect(known).toEqual([...known].sort());
    expect(moments.slice(moments.indexOf(null)).every((m: string | null) => m === null)).toBe(true);
    const byFailures = await fleet('sort=failures&order=desc&limit=5');
    expect(byFailures.body.pbxes.every((p: { failedRollouts: number }) => p.failedRollouts === 1)).toBe(true);
    expect(byFailures.body.pbxes[0].id).toBe('site-0000');
  });

  it('R16: a PBX-scoped token sees its own PBX only', async () => {
    const own = await h.token('tenant', 'site-0007');
    const res = await fleet('limit=200', own);
    expect(res.body.total).toBe(1);
    expect(res.body.pbxes.map((p: { id: string }) => p.id)).toEqual(['site-0007']);
    expect((await fleet('q=site-0008', own)).body.total).toBe(0);
  });

  it('bad filters are a 400 naming the field', async () => {
    expect((await fleet(`below=${T54W_NEW}`)).body.field).toBe('below');
    expect((await fleet('below=yealink-t54w@')).body.field).toBe('below');
    // A type nobody has is simply below nothing.
    expect((await fleet(`below=yealink-t99@${T54W_NEW}`)).body.total).toBe(0);
    expect((await fleet('modelId=yealink-nope')).body.field).toBe('modelId');
    expect((await fleet('limit=201')).body.field).toBe('limit');
    expect((await fleet('sort=price')).body.field).toBe('sort');
    expect((await fleet('failed=yes')).body.field).toBe('failed');
    expect((await fleet('timeZone=Mars%2FOlympus')).body.field).toBe('timeZone');
  });
});

describe('the phones of a type (issue 12)', () => {
  it('version, last contact, registration state, the firmware offered now and what the last rollout did', async () => {
    await insertPbx(h.database.db, 'phones');
    const ids = (
      await h.database.db
        .insert(phoneAccounts)
        .values(
          ['805ec0990001', '805ec0990002', '805ec0990003'].map((mac, k) => ({
            pbxId: 'phones',
            modelId: 'yealink-t54w',
            mac,
            extension: String(301 + k),
          })),
        )
        .returning({ id: phoneAccounts.id })
    ).map((r) => r.id);
    const [registered, expired, never] = ids as [number, number, number];
    const now = Date.now();
    // What the phone edge records (db/queries/phones.ts, the registrar's own queries).
    await recordRegistration(h.database.db, registered, {
      contact: 'sip:p1@127.0.0.1:5070',
      registeredUntil: new Date(now + 3_600_000),
      userAgent: `Yealink SIP-T54W ${T54W_OLD}`,
      version: T54W_OLD,
      callId: 'a',
      at: new Date(now),
    });
    await recordRegistration(h.database.db, expired, {
      contact: 'sip:p2@127.0.0.1:5071',
      registeredUntil: new Date(now - 1000),
      userAgent: null,
      version: T54W_NEW,
      callId: 'b',
      at: new Date(now - 3_601_000),
    });
    const rolloutId = '0193e3f2-7c1d-7000-8000-0000000000aa';
    await h.database.db.insert(rollouts).values({
      id: rolloutId,
      workflowId: 'pbx/phones/rollout/yealink-t54w',
      pbxId: 'phones',
      modelId: 'yealink-t54w',
      targetVersion: T54W_NEW,
      why: 'manual',
      who: 'alice',
      status: 'running',
      total: 3,
      blocks: 1,
    });
    await h.database.db.insert(rolloutResults).values([
      {
        rolloutId,
        phoneAccountId: registered,
        mac: '805ec0990001',
        block: 0,
        outcome: 'wrong-version',
        fromVersion: T54W_OLD,
        reportedVersion: T54W_OLD,
        reason: reason('came-back-old-version', { version: T54W_OLD }),
      },
      { rolloutId, phoneAccountId: expired, mac: '805ec0990002', block: 0 },
    ]);
    await setFirmwareTargets(h.database.db, 'phones', [expired], {
      version: T54W_NEW,
      at: new Date(now),
      rolloutId,
      expiresAt: new Date(now + 600_000),
    });

    const res = await h.call('GET', '/api/pbxes/phones/phones?modelId=yealink-t54w', { token: admin });
    expect(res.status).toBe(200);
    const byId = new Map(res.body.phones.map((p: { id: number }) => [p.id, p]));
    expect(byId.get(registered)).toMatchObject({
      installedVersion: T54W_OLD,
      registration: { state: 'registered' },
      firmwareOffer: null,
      lastRollout: {
        rolloutId,
        status: 'running',
        outcome: 'wrong-version',
        reason: { code: 'came-back-old-version' },
      },
    });
    expect(byId.get(expired)).toMatchObject({
      registration: { state: 'expired' },
      firmwareOffer: { version: T54W_NEW },
      lastRollout: { outcome: null },
    });
    expect(byId.get(never)).toMatchObject({
      lastContactAt: null,
      registration: { state: 'never', until: null },
      lastRollout: null,
    });
    const page = await h.call('GET', '/api/pbxes/phones/phones?limit=2', { token: admin });
    expect(page.body.phones).toHaveLength(2);
    const rest = await h.call('GET', `/api/pbxes/phones/phones?limit=2&afterId=${page.body.nextAfterId}`, {
      token: admin,
    });
    expect(rest.body.phones.map((p: { id: number }) => p.id)).toEqual([never]);
    expect(rest.body.nextAfterId).toBeNull();
    expect(
      (await h.call('GET', '/api/pbxes/phones/phones?modelId=nope-x', { token: admin })).body.field,
    ).toBe('modelId');
  });
});

describe('R1/R2: the supported models', () => {
  it('catalog models with the newest release offered; image-managed ones with the copy this PBX holds', async () => {
    await insertPbx(h.database.db, 'models');
    await h.database.db.insert(phoneAccounts).values({
      pbxId: 'models',
      modelId: 'snom-m900',
      mac: '000413990031',
      extension: '31',
    });
    await h.database.db.insert(localFirmware).values({
      pbxId: 'models',
      modelId: 'snom-m900',
      version: '5.20.1',
      fileName: 'snomM900-5.20.1.bin',
      source: 'image',
    });
    const res = await h.call('GET', '/api/pbxes/models/supported-models', { token: admin });
    expect(res.status).toBe(200);
    const by = new Map(res.body.models.map((m: { modelId: string }) => [m.modelId, m]));
    expect(by.get('snom-m900')).toEqual({
      modelId: 'snom-m900',
      vendor: 'Snom',
      model: 'M900',
      source: 'image',
      inCatalog: false,
      newestOffered: null,
      imageVersion: '5.20.1',
      accounts: 1,
    });
    expect(by.get('yealink-t54w')).toMatchObject({
      source: 'firmware-server',
      newestOffered: T54W_NEW,
      imageVersion: null,
      accounts: 0,
    });
  });
});

describe('R14: the three logs as files', () => {
  const log = (file: string, headers: Record<string, string> = {}, method = 'GET') =>
    h.app.request(`/api/pbxes/logs/logs/${file}`, {
      method,
      headers: { authorization: `Bearer ${admin}`, ...headers },
    });

  it('whole, as a byte range, the last bytes, unchanged (304), beyond the end (416); a log not written yet is empty', async () => {
    await insertPbx(h.database.db, 'logs');
    const logs = new PbxLogs(h.logDir);
    for (let i = 0; i < 50; i++) logs.firmwares('logs').info({ event: 'check', i }, 'firmware check');
    logs.close();
    const whole = await log('firmwares.log');
    expect(whole.status).toBe(200);
    expect(whole.headers.get('content-type')).toBe('text/plain; charset=utf-8');
    expect(whole.headers.get('content-disposition')).toBe('attachment; filename="logs-firmwares.log"');
    expect(whole.headers.get('accept-ranges')).toBe('bytes');
    const text = await whole.text();
    const lines = text
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(lines).toHaveLength(50);
    expect(lines.every((l) => l.pbx === 'logs' && l.msg === 'firmware check')).toBe(true);
    const size = Buffer.byteLength(text);
    expect(Number(whole.headers.get('content-length'))).toBe(size);

    const part = await log('firmwares.log', { range: 'bytes=10-19' });
    expect(part.status).toBe(206);
    expect(part.headers.get('content-range')).toBe(`bytes 10-19/${size}`);
    expect(await part.text()).toBe(Buffer.from(text).subarray(10, 20).toString());
    const tail = await log('firmwares.log', { range: 'bytes=-100' });
    expect(await tail.text()).toBe(
      Buffer.from(text)
        .subarray(size - 100)
        .toString(),
    );
    const etag = whole.headers.get('etag') as string;
    expect((await log('firmwares.log', { 'if-none-match': etag })).status).toBe(304);
    // A range against an older copy (If-Range no longer matching) gets the whole file.
    expect((await log('firmwares.log', { range: 'bytes=0-9', 'if-range': '"old"' })).status).toBe(200);
    const beyond = await log('firmwares.log', { range: `bytes=${size}-` });
    expect(beyond.status).toBe(416);
    expect(beyond.headers.get('content-range')).toBe(`bytes */${size}`);
    const head = await log('firmwares.log', {}, 'HEAD');
    expect(head.status).toBe(200);
    expect(await head.text()).toBe('');

    const empty = await log('autoprov.log');
    expect(empty.status).toBe(200);
    expect(await empty.text()).toBe('');
    expect((await log('passwd')).status).toBe(400);
    expect((await log('..%2F..%2Fetc%2Fpasswd')).status).toBe(400);
  });
});

describe('R14: the journal by kind, with reasons as codes', () => {
  it('actionPrefix keeps one kind; a stored reason text comes back as code and parameters', async () => {
    await insertPbx(h.database.db, 'journal');
    const refused = reason('auto-update-off', { model: 'T31' });
    const entries = [
      { action: 'rollout.started', details: { targetVersion: T54W_NEW } },
      { action: 'rollout.refused', details: { reason: refused.text, reasonCode: refused.code } },
      { action: 'trigger.skipped', details: { reason: reason('automatic-off').text } },
      {
        action: 'firmware.removed',
        details: { reason: 'R5: last account of the type deleted; PBX restarted' },
      },
    ];
    for (const e of entries) {
      await appendJournal(h.database.db, new PbxLogs(h.logDir), {
        pbxId: 'journal',
        why: 'manual',
        who: 'alice',
        ...e,
      });
    }
    const rollout = await h.call('GET', '/api/pbxes/journal/journal?actionPrefix=rollout', { token: admin });
    expect(rollout.body.entries.map((e: { action: string }) => e.action)).toEqual([
      'rollout.refused',
      'rollout.started',
    ]);
    expect(rollout.body.entries[0].reason).toEqual(refused);
    const all = await h.call('GET', '/api/pbxes/journal/journal', { token: admin });
    const reasons = Object.fromEntries(
      all.body.entries.map((e: { action: string; reason: unknown }) => [e.action, e.reason]),
    );
    expect(reasons['trigger.skipped']).toEqual(reason('automatic-off'));
    expect(reasons['firmware.removed']).toBeNull();
    expect(reasons['rollout.started']).toBeNull();
    const bad = await h.call('GET', '/api/pbxes/journal/journal?actionPrefix=rollout.started', {
      token: admin,
    });
    expect([bad.status, bad.body.field]).toEqual([400, 'actionPrefix']);
  });
});
