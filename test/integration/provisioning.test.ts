import { eq } from 'drizzle-orm';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { setFirmwareTargets } from '../../db/queries/phones.ts';
import { phoneAccounts } from '../../db/schema.ts';
import { createSimulatedFleet, type SimulatedFleetAccounts } from '../../simulator/accounts.ts';
import { httpUserAgent } from '../../simulator/identity.ts';
import {
  createHttpContext,
  downloadFirmware,
  fetchProvisioning,
} from '../../simulator/provisioning-client.ts';
import { createTestDatabase, type TestDatabase } from '../support/db.ts';
import {
  type EdgeFixture,
  seedFirmware,
  seedModels,
  seedPbx,
  startEdgeFixture,
} from '../support/phone-fixtures.ts';

const TARGETS: Record<string, { version: string; fileName: string }> = {
  'yealink-t54w': { version: '96.86.0.70', fileName: 'T54W(T57W,T53W,T53,T53C,T54,T57)-96.86.0.70.rom' },
  'snom-d785': { version: '10.1.84.12', fileName: 'snomD785-10.1.84.12-SIP-r.bin' },
  'grandstream-ht802': { version: '1.0.43.11', fileName: 'ht802fw.bin' },
  'gigaset-n670': { version: '2.65.0', fileName: 'Gigaset-Nx70-V2.65.0-build.8504c90.bin' },
};

describe('provisioning endpoints over real HTTP', () => {
  let t: TestDatabase;
  let fx: EdgeFixture;
  let alpha: Awaited<ReturnType<typeof seedPbx>>;
  let fleet: SimulatedFleetAccounts;
  let base: string;
  const auth = () =>
    `Basic ${Buffer.from(`${alpha.provisioningUser}:${alpha.provisioningPassword}`).toString('base64')}`;
  const phoneOf = (modelId: string) => fleet.phones.find((p) => p.modelId === modelId)!;
  const get = (path: string, headers: Record<string, string> = {}, method: 'GET' | 'HEAD' = 'GET') =>
    request(`${base}${path}`, { method, headers: { authorization: auth(), ...headers } });

  beforeAll(async () => {
    t = await createTestDatabase();
    fx = await startEdgeFixture(t.db);
    alpha = await seedPbx(t.db, 'alpha');
    await seedPbx(t.db, 'beta');
    await seedModels(t.db);
    fleet = await createSimulatedFleet(t.db, {
      pbxId: 'alpha',
      models: { 'yealink-t54w': 1, 'snom-d785': 1, 'grandstream-ht802': 1, 'gigaset-n670': 1 },
    });
    for (const [modelId, f] of Object.entries(TARGETS))
      await seedFirmware(t.db, fx, { pbxId: 'alpha', modelId, ...f });
    base = fx.edge.provisioningUrlFor('alpha');
  });
  afterAll(async () => {
    await fx?.close();
    await t?.drop();
  });

  it('R14: refuses wrong or missing credentials with 401 and logs it to autoprov.log', async () => {
    const phone = phoneOf('yealink-t54w');
    const ua = httpUserAgent(phone, phone.version);
    const wrong = await request(`${base}${phone.mac}.cfg`, {
      headers: {
        authorization: `Basic ${Buffer.from(`${alpha.provisioningUser}:nope`).toString('base64')}`,
        'user-agent': ua,
      },
    });
    expect(wrong.statusCode).toBe(401);
    expect(wrong.headers['www-authenticate']).toMatch(/^Basic realm=/);
    await wrong.body.dump();
    const missing = await request(`${base}${phone.mac}.cfg`, { headers: { 'user-agent': ua } });
    expect(missing.statusCode).toBe(401);
    await missing.body.dump();
    const lines = fx.autoprovLines('alpha').filter((l) => l.outcome === '401');
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatchObject({ mac: phone.mac, file: `${phone.mac}.cfg`, ua, status: 401 });
  });

  it('R14: refuses an unknown MAC with 404 and logs it to autoprov.log', async () => {
    const res = await get('805ec0ffffff.cfg', {
      'user-agent': 'Yealink SIP-T54W 96.86.0.45 80:5e:c0:ff:ff:ff',
    });
    expect(res.statusCode).toBe(404);
    await res.body.dump();
    const gs = await get('cfgec74d7ffffff.xml');
    expect(gs.statusCode).toBe(404);
    await gs.body.dump();
    const lines = fx.autoprovLines('alpha').filter((l) => l.outcome === '404');
    expect(lines.map((l) => l.detail)).toEqual(['unknown MAC 805ec0ffffff', 'unknown MAC ec74d7ffffff']);
    expect(lines[0]).toMatchObject({ mac: '805ec0ffffff', file: '805ec0ffffff.cfg', status: 404 });
  });

  it('R16: a request for an unknown PBX gets 404 and writes no PBX log', async () => {
    const res = await request(`${fx.edge.provisioningUrlFor('nowhere')}y000000000096.cfg`, {
      headers: { authorization: auth() },
    });
    expect(res.statusCode).toBe(404);
    await res.body.dump();
    expect(fx.autoprovLines('nowhere')).toEqual([]);
  });

  it('R7: offers no firmware to any vendor while no rollout approved it', async () => {
    const http = createHttpContext(
      { url: base, user: alpha.provisioningUser, password: alpha.provisioningPassword },
      4,
    );
    try {
      for (const p of fleet.phones) expect(await fetchProvisioning(http, p, p.version)).toBeNull();
    } finally {
      await http.agent.close();
    }
    const snomFw = await get('snomD785-firmware.xml', {
      'user-agent': httpUserAgent(phoneOf('snom-d785'), '10.1.33.33'),
    });
    expect(await snomFw.body.text()).not.toContain('<firmware ');
  });

  it('R6: learns the installed version from the provisioning User-Agent', async () => {
    const [row] = await t.db
      .select()
      .from(phoneAccounts)
      .where(eq(phoneAccounts.id, phoneOf('snom-d785').id));
    expect(row?.installedVersion).toBe('10.1.33.33');
    expect(row?.lastProvisionedAt).toBeInstanceOf(Date);
    expect(row?.userAgent).toContain('snomD785-SIP 10.1.33.33');
  });

  it("R11: offers the approved firmware in each vendor's convention while a block has set the target", async () => {
    const http = createHttpContext(
      { url: base, user: alpha.provisioningUser, password: alpha.provisioningPassword },
      4,
    );
    try {
      for (const p of fleet.phones)
        await setFirmwareTargets(t.db, 'alpha', [p.id], {
          version: TARGETS[p.modelId]!.version,
          at: new Date(),
          rolloutId: null,
          expiresAt: new Date(Date.now() + 600_000),
        });
      const offers = Object.fromEntries(
        await Promise.all(
          fleet.phones.map(async (p) => [p.modelId, await fetchProvisioning(http, p, p.version)] as const),
        ),
      );
      const fw = (name: string) => `${base}firmware/${encodeURIComponent(name)}`;
      expect(offers['yealink-t54w']).toEqual({ url: fw(TARGETS['yealink-t54w']!.fileName), version: null });
      expect(offers['snom-d785']).toEqual({ url: fw(TARGETS['snom-d785']!.fileName), version: null });
      expect(offers['grandstream-ht802']).toEqual({ url: fw('ht802fw.bin'), version: null });
      expect(offers['gigaset-n670']).toEqual({
        url: fw(TARGETS['gigaset-n670']!.fileName),
        version: '2.65.0',
      });

      const yealink = phoneOf('yealink-t54w');
      const common = await get('y000000000096.cfg', {
        'user-agent': httpUserAgent(yealink, yealink.version),
      });
      const commonText = await common.body.text();
      expect(commonText).toContain(`static.auto_provision.server.url = ${base}`);
      expect(commonText).not.toContain('static.firmware.url');
      const gs = await get(`cfg${phoneOf('grandstream-ht802').mac}.xml`);
      const gsText = await gs.body.text();
      expect(gsText).toMatch(/<gs_provision version="1">/);
      expect(gsText).toContain('<P212>1</P212>');
      expect(gsText).toContain('<P238>0</P238>');
      // The common file of another model carries no firmware; a code no catalog model uses is unknown.
      const other = await get('y000000000108.cfg');
      expect(other.statusCode).toBe(200);
      expect(await other.body.text()).not.toContain('firmware');
      const unknown = await get('y000000000999.cfg');
      expect(unknown.statusCode).toBe(404);
      await unknown.body.dump();
    } finally {
      await http.agent.close();
    }
  });

  it('serves firmware with HEAD, byte ranges and 416, and records the download per phone', async () => {
    const p = phoneOf('gigaset-n670');
    const name = encodeURIComponent(TARGETS['gigaset-n670']!.fileName);
    const ua = httpUserAgent(p, p.version);
    const head = await get(`firmware/${name}`, { 'user-agent': ua }, 'HEAD');
    expect(head.statusCode).toBe(200);
    expect(head.headers['accept-ranges']).toBe('bytes');
    const size = Number(head.headers['content-length']);
    expect(size).toBe(128 * 1024);
    await head.body.dump();

    const part = await get(`firmware/${name}`, { 'user-agent': ua, range: 'bytes=0-15' });
    expect(part.statusCode).toBe(206);
    expect(part.headers['content-range']).toBe(`bytes 0-15/${size}`);
    expect(await part.body.text()).toBe('SIMFW version=2.');

    const tail = await get(`firmware/${name}`, { 'user-agent': ua, range: 'bytes=-100' });
    expect(tail.statusCode).toBe(206);
    expect((await tail.body.arrayBuffer()).byteLength).toBe(100);

    const beyond = await get(`firmware/${name}`, { 'user-agent': ua, range: `bytes=${size}-` });
    expect(beyond.statusCode).toBe(416);
    expect(beyond.headers['content-range']).toBe(`bytes */${size}`);
    await beyond.body.dump();

    const http = createHttpContext(
      { url: base, user: alpha.provisioningUser, password: alpha.provisioningPassword },
      1,
    );
    try {
      const full = await downloadFirmware(http, p, p.version, `${base}firmware/${name}`);
      expect(full).toMatchObject({ bytes: size, complete: true });
    } finally {
      await http.agent.close();
    }
    // The server records the download once its response has finished, which the phone may see a moment earlier.
    const served = () =>
      fx.autoprovLines('alpha').filter((l) => l.file === `firmware/${TARGETS['gigaset-n670']!.fileName}`);
    await expect.poll(() => served().length).toBe(5);
    // Lines are written when each response finishes, so their order may differ from the order of the requests.
    expect(
      served()
        .map((l) => l.outcome)
        .sort(),
    ).toEqual(['416', 'served', 'served', 'served', 'served']);
    expect(served()).toContainEqual(expect.objectContaining({ mac: p.mac, bytes: size, status: 200 }));
    const [row] = await t.db.select().from(phoneAccounts).where(eq(phoneAccounts.id, p.id));
    expect(row?.firmwareFetchFile).toBe(TARGETS['gigaset-n670']!.fileName);
    expect(row?.firmwareFetchBytes).toBe(size);
    expect(row!.firmwareFetchCompletedAt!.getTime()).toBeGreaterThanOrEqual(
      row!.firmwareFetchStartedAt!.getTime(),
    );
  });

  it('R16: a PBX serves only firmware files it references', async () => {
    const beta = {
      user: 'prov-beta',
      password: 'secret-beta',
    };
    const res = await request(`${fx.edge.provisioningUrlFor('beta')}firmware/ht802fw.bin`, {
      headers: { authorization: `Basic ${Buffer.from(`${beta.user}:${beta.password}`).toString('base64')}` },
    });
    expect(res.statusCode).toBe(404);
    await res.body.dump();
    // Alpha's credentials do not open beta.
    const cross = await request(`${fx.edge.provisioningUrlFor('beta')}firmware/ht802fw.bin`, {
      headers: { authorization: auth() },
    });
    expect(cross.statusCode).toBe(401);
    await cross.body.dump();
    expect(fx.autoprovLines('beta').map((l) => l.outcome)).toEqual(['404', '401']);
  });
});
