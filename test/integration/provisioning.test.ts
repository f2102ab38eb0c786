import { once } from 'node:events';
import { connect } from 'node:net';
import { and, eq } from 'drizzle-orm';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clearFirmwareTargets } from '../../db/queries/phones.ts';
import { journal, localFirmware, phoneAccounts } from '../../db/schema.ts';
import { createSimulatedFleet, type SimulatedFleetAccounts } from '../../simulator/accounts.ts';
import { versionOfImage } from '../../simulator/firmware-image.ts';
import { httpUserAgent } from '../../simulator/identity.ts';
import {
  createHttpContext,
  downloadFirmware,
  fetchProvisioning,
} from '../../simulator/provisioning-client.ts';
import { createTestDatabase, type TestDatabase } from '../support/db.ts';
import {
  approve,
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

  it('R16: an unknown PBX answers exactly like a known PBX asked without valid credentials (no enumeration)', async () => {
    const answer = async (pbxId: string, authorization?: string) => {
      const res = await request(`${fx.edge.provisioningUrlFor(pbxId)}y000000000096.cfg`, {
        headers: authorization ? { authorization } : {},
      });
      const body = await res.body.text();
      const realm = String(res.headers['www-authenticate']).replace(pbxId, '<pbx>');
      return { status: res.statusCode, realm, body };
    };
    const unknown = await answer('nowhere', auth());
    expect(unknown.status).toBe(401);
    expect(await answer('nowhere')).toEqual(unknown);
    expect(await answer('alpha')).toEqual(unknown);
    const wrong = `Basic ${Buffer.from(`${alpha.provisioningUser}:nope`).toString('base64')}`;
    expect(await answer('alpha', wrong)).toEqual(unknown);
    expect(fx.autoprovLines('nowhere')).toEqual([]);
  });

  it('R7: offers no firmware to any vendor while no rollout approved it', async () => {
    const http = createHttpContext(
      { url: base, user: alpha.provisioningUser, password: alpha.provisioningPassword },
      4,
    );
    try {
      for (const p of fleet.phones) expect((await fetchProvisioning(http, p, p.version)).offer).toBeNull();
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
      for (const p of fleet.phones) await approve(t.db, 'alpha', [p.id], TARGETS[p.modelId]!.version);
      const offers = Object.fromEntries(
        await Promise.all(
          fleet.phones.map(
            async (p) => [p.modelId, (await fetchProvisioning(http, p, p.version)).offer] as const,
          ),
        ),
      );
      // Each phone's own firmware path; the Grandstream ATA appends its fixed image name to it.
      const fw = (modelId: string, name: string) =>
        `${base}firmware/${phoneOf(modelId).mac}/${encodeURIComponent(name)}`;
      expect(offers['yealink-t54w']).toEqual({
        url: fw('yealink-t54w', TARGETS['yealink-t54w']!.fileName),
        version: null,
      });
      expect(offers['snom-d785']).toEqual({
        url: fw('snom-d785', TARGETS['snom-d785']!.fileName),
        version: null,
      });
      expect(offers['grandstream-ht802']).toEqual({
        url: fw('grandstream-ht802', 'ht802fw.bin'),
        version: null,
      });
      expect(offers['gigaset-n670']).toEqual({
        url: fw('gigaset-n670', TARGETS['gigaset-n670']!.fileName),
        version: '2.65.0',
      });

      // Issue 10 defect 4: the model-wide Snom firmware list, asked with the current Snom User-Agent (build date
      // before the MAC), names the approved image: the MAC is learned from that User-Agent.
      const snom = phoneOf('snom-d785');
      const snomUa =
        'Mozilla/4.0 (compatible; snomD785-SIP 10.1.33.33 2010.12-00001-gd311851f1 (Feb 25 2019 - 14:19:43) ' +
        `${snom.mac.toUpperCase()} SXM:0 UXM:0 UXMC:0)`;
      const snomList = await (await get('snomD785-firmware.xml', { 'user-agent': snomUa })).body.text();
      expect(snomList).toContain(
        `<firmware perm="RW">${fw('snom-d785', TARGETS['snom-d785']!.fileName)}</firmware>`,
      );

      const yealink = phoneOf('yealink-t54w');
      const common = await get('y000000000096.cfg', {
        'user-agent': httpUserAgent(yealink, yealink.version),
      });
      const commonText = await common.body.text();
      expect(commonText).toContain(`static.auto_provision.server.url = ${base}`);
      expect(commonText).toContain('static.firmware.url = %NULL%');
      const gs = await get(`cfg${phoneOf('grandstream-ht802').mac}.xml`);
      const gsText = await gs.body.text();
      expect(gsText).toMatch(/<gs_provision version="1">/);
      expect(gsText).toContain('<P212>1</P212>');
      expect(gsText).toContain('<P238>0</P238>');
      // The common file of another model carries no firmware; a code no catalog model uses is unknown.
      const other = await get('y000000000108.cfg');
      expect(other.statusCode).toBe(200);
      expect(await other.body.text()).not.toMatch(/firmware\.url = (?!%NULL%)/);
      const unknown = await get('y000000000999.cfg');
      expect(unknown.statusCode).toBe(404);
      await unknown.body.dump();
    } finally {
      await http.agent.close();
    }
  });

  it('serves firmware with HEAD, byte ranges and 416, and records the download per phone', async () => {
    const p = phoneOf('gigaset-n670');
    const name = `${p.mac}/${encodeURIComponent(TARGETS['gigaset-n670']!.fileName)}`;
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
      fx
        .autoprovLines('alpha')
        .filter((l) => l.file === `firmware/${p.mac}/${TARGETS['gigaset-n670']!.fileName}`);
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
    const gs = phoneOf('grandstream-ht802');
    const path = `firmware/${gs.mac}/ht802fw.bin`;
    const ua = httpUserAgent(gs, gs.version);
    const res = await request(`${fx.edge.provisioningUrlFor('beta')}${path}`, {
      headers: {
        authorization: `Basic ${Buffer.from(`${beta.user}:${beta.password}`).toString('base64')}`,
        'user-agent': ua,
      },
    });
    expect(res.statusCode).toBe(404);
    await res.body.dump();
    // Alpha's credentials do not open beta.
    const cross = await request(`${fx.edge.provisioningUrlFor('beta')}${path}`, {
      headers: { authorization: auth(), 'user-agent': ua },
    });
    expect(cross.statusCode).toBe(401);
    await cross.body.dump();
    expect(fx.autoprovLines('beta').map((l) => l.outcome)).toEqual(['404', '401']);
  });

  it('issue 10 defect 1: an approved Grandstream HT802 gets its image under the fixed name it appends (ht802fw.bin)', async () => {
    const gs = phoneOf('grandstream-ht802');
    await approve(t.db, 'alpha', [gs.id], TARGETS['grandstream-ht802']!.version);
    // The stored file has a versioned name, as the reference firmware server publishes it.
    await t.db
      .update(localFirmware)
      .set({ fileName: 'ht802fw-1.0.43.11.bin' })
      .where(and(eq(localFirmware.pbxId, 'alpha'), eq(localFirmware.modelId, 'grandstream-ht802')));
    const http = createHttpContext(
      { url: base, user: alpha.provisioningUser, password: alpha.provisioningPassword },
      2,
    );
    try {
      const { offer } = await fetchProvisioning(http, gs, gs.version);
      expect(offer?.url).toBe(`${base}firmware/${gs.mac}/ht802fw.bin`);
      const image = await downloadFirmware(http, gs, gs.version, offer!.url);
      expect(image.complete).toBe(true);
      expect(versionOfImage(image.head)).toBe('1.0.43.11');
    } finally {
      await http.agent.close();
      await clearFirmwareTargets(t.db, 'alpha', [gs.id], TARGETS['grandstream-ht802']!.version);
    }
  });

  it('R7 (issue 10 defect 5): firmware goes only to the phone a block approved, and the Yealink file clears the URL', async () => {
    const y = phoneOf('yealink-t54w');
    const other = phoneOf('gigaset-n670');
    const name = encodeURIComponent(TARGETS['yealink-t54w']!.fileName);
    const fetchAs = async (mac: string, ua: string, file = name) => {
      const res = await get(`firmware/${mac}/${file}`, { 'user-agent': ua });
      await res.body.dump();
      return res.statusCode;
    };
    const yUa = httpUserAgent(y, y.version);
    // The R11 test above left its approval standing: end it, as a finished block does.
    await clearFirmwareTargets(t.db, 'alpha', [y.id], TARGETS['yealink-t54w']!.version);
    // Not approved: nothing, and the per-phone file says so explicitly.
    expect(await fetchAs(y.mac, yUa)).toBe(404);
    const cfg = await (await get(`${y.mac}.cfg`, { 'user-agent': yUa })).body.text();
    expect(cfg).toMatch(/^static\.firmware\.url = %NULL%$/m);
    // The old PBX-wide path no longer serves anything.
    const legacy = await get(`firmware/${name}`, { 'user-agent': yUa });
    expect(legacy.statusCode).toBe(404);
    await legacy.body.dump();
    await approve(t.db, 'alpha', [y.id], TARGETS['yealink-t54w']!.version);
    try {
      expect(await fetchAs(y.mac, yUa)).toBe(200);
      // Another phone's User-Agent, another phone's path, another file name: not this phone's approval.
      expect(await fetchAs(y.mac, httpUserAgent(other, other.version))).toBe(404);
      expect(await fetchAs(y.mac, 'Yealink SIP-T54W 96.86.0.45 80:5e:c0:ff:ff:ff')).toBe(404);
      expect(await fetchAs(other.mac, yUa)).toBe(404);
      expect(await fetchAs(y.mac, yUa, 'T46U-108.86.0.90.rom')).toBe(404);
    } finally {
      await clearFirmwareTargets(t.db, 'alpha', [y.id], TARGETS['yealink-t54w']!.version);
    }
    expect(await fetchAs(y.mac, yUa)).toBe(404);
  });

  it('issue 10 defect 2: every vendor file gives the phone a working SIP line (the account password, PBX domain, edge SIP)', async () => {
    const http = createHttpContext(
      { url: base, user: alpha.provisioningUser, password: alpha.provisioningPassword },
      4,
    );
    try {
      for (const p of fleet.phones) {
        const { line } = await fetchProvisioning(http, p, p.version);
        expect(line, p.modelId).toEqual({
          user: p.extension,
          authUser: p.extension,
          password: p.sipPassword,
          domain: alpha.sipDomain,
          proxy: { host: fx.edge.sip.publicHost, port: fx.edge.sipPort },
        });
      }
    } finally {
      await http.agent.close();
    }
  });

  it('answers a path with NUL, other control bytes, a bad escape or a forged Host with 400, never 500', async () => {
    const raw = async (requestLine: string, host = '127.0.0.1') => {
      const url = new URL(base);
      const socket = connect(Number(url.port), url.hostname);
      await once(socket, 'connect');
      socket.write(
        `${requestLine}\r\nHost: ${host}\r\nAuthorization: ${auth()}\r\nConnection: close\r\n\r\n`,
      );
      const chunks: Buffer[] = [];
      for await (const c of socket) chunks.push(c as Buffer);
      return Number(/^HTTP\/1\.1 (\d{3})/.exec(Buffer.concat(chunks).toString('latin1'))?.[1]);
    };
    const phone = phoneOf('yealink-t54w');
    expect(await raw(`GET /p/alpha/${phone.mac}.cfg HTTP/1.1`)).toBe(200);
    for (const path of [
      `/p/alpha/${phone.mac}%00.cfg`,
      `/p/alpha/%00`,
      `/p/alpha/${phone.mac}%0d%0a.cfg`,
      `/p/alpha/%ZZ.cfg`,
      `/p/alpha/firmware/${phone.mac}/%E0%A4%A`,
      `/p/alpha/..%5c..%5cetc%5cpasswd`,
    ]) {
      expect(await raw(`GET ${path} HTTP/1.1`), path).toBe(400);
    }
    expect(await raw(`GET /p/alpha/${phone.mac}.cfg HTTP/1.1`, 'evil.test"/><x a="')).toBe(400);
  });
});

describe('provisioning server hardening', () => {
  let t: TestDatabase;
  let fx: EdgeFixture;
  let pbx: Awaited<ReturnType<typeof seedPbx>>;

  beforeAll(async () => {
    t = await createTestDatabase();
    fx = await startEdgeFixture(t.db, undefined, {
      httpTimeouts: { headersMs: 400, requestMs: 800 },
      authThrottle: { maxFailures: 3, windowMs: 60_000 },
    });
    pbx = await seedPbx(t.db, 'delta');
  });
  afterAll(async () => {
    await fx?.close();
    await t?.drop();
  });

  it('R14: throttles repeated credential failures from one address with 429 and journals it once', async () => {
    const url = `${fx.edge.provisioningUrlFor('delta')}y000000000096.cfg`;
    const wrong = `Basic ${Buffer.from(`${pbx.provisioningUser}:guess`).toString('base64')}`;
    const right = `Basic ${Buffer.from(`${pbx.provisioningUser}:${pbx.provisioningPassword}`).toString('base64')}`;
    const statuses: number[] = [];
    for (let i = 0; i < 5; i++) {
      const res = await request(url, { headers: { authorization: wrong } });
      await res.body.dump();
      statuses.push(res.statusCode);
    }
    expect(statuses).toEqual([401, 401, 401, 429, 429]);
    // While throttled even the right password waits (the check is not made at all).
    const blocked = await request(url, { headers: { authorization: right } });
    expect(blocked.statusCode).toBe(429);
    expect(Number(blocked.headers['retry-after'])).toBeGreaterThan(0);
    await blocked.body.dump();
    const rows = await t.db.select().from(journal).where(eq(journal.pbxId, 'delta'));
    expect(rows.map((r) => r.action)).toEqual(['provisioning.auth-throttled']);
    expect(rows[0]?.details).toMatchObject({ failures: 3 });
  });

  it('closes a connection whose request headers never finish (header timeout)', async () => {
    const url = new URL(fx.edge.provisioningUrlFor('delta'));
    const socket = connect(Number(url.port), url.hostname);
    await once(socket, 'connect');
    socket.write('GET /p/delta/y000000000096.cfg HTTP/1.1\r\nHost: 127.0.0.1\r\n');
    const started = Date.now();
    const chunks: Buffer[] = [];
    for await (const c of socket) chunks.push(c as Buffer);
    expect(Date.now() - started).toBeLessThan(5_000);
    const answer = Buffer.concat(chunks).toString('latin1');
    expect(answer === '' || answer.startsWith('HTTP/1.1 408')).toBe(true);
  });
});
