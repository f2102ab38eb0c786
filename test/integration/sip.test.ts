import { randomBytes } from 'node:crypto';
import { createSocket, type Socket } from 'node:dgram';
import { eq } from 'drizzle-orm';
import sip, { type SipMessage } from 'sip';
import digest from 'sip/digest.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { phoneAccounts } from '../../db/schema.ts';
import { checkSyncEventOf } from '../../phones/provisioning/vendors/index.ts';
import { createSimulatedFleet, type SimulatedFleetAccounts } from '../../simulator/accounts.ts';
import { createTestDatabase, type TestDatabase } from '../support/db.ts';
import { type EdgeFixture, seedModels, seedPbx, startEdgeFixture } from '../support/phone-fixtures.ts';

/** A bare UDP SIP peer: sends what the test builds and queues what arrives. */
class Peer {
  readonly socket: Socket = createSocket('udp4');
  readonly inbox: Array<{ msg: SipMessage; raw: string; port: number }> = [];
  #waiters: Array<() => void> = [];
  port = 0;

  async open() {
    await new Promise<void>((r) => this.socket.bind(0, '127.0.0.1', () => r()));
    this.port = this.socket.address().port;
    this.socket.on('message', (buf, rinfo) => {
      const msg = sip.parse(buf);
      if (msg) this.inbox.push({ msg, raw: buf.toString('binary'), port: rinfo.port });
      for (const w of this.#waiters.splice(0)) w();
    });
    return this;
  }

  send(m: SipMessage | string, port: number) {
    const data = typeof m === 'string' ? m : sip.stringify(m);
    this.socket.send(Buffer.from(data, 'binary'), port, '127.0.0.1');
  }

  /** The next message that matches, waiting for it to arrive. */
  async next(
    match: (m: SipMessage) => boolean = () => true,
  ): Promise<{ msg: SipMessage; raw: string; port: number }> {
    for (;;) {
      const i = this.inbox.findIndex((e) => match(e.msg));
      if (i >= 0) return this.inbox.splice(i, 1)[0]!;
      await new Promise<void>((r) => this.#waiters.push(r));
    }
  }

  close() {
    this.socket.close();
  }
}

describe('SIP endpoint over real UDP', () => {
  let t: TestDatabase;
  let fx: EdgeFixture;
  let fleet: SimulatedFleetAccounts;
  let domain: string;

  beforeAll(async () => {
    t = await createTestDatabase();
    fx = await startEdgeFixture(t.db);
    domain = (await seedPbx(t.db, 'gamma')).sipDomain;
    await seedModels(t.db);
    fleet = await createSimulatedFleet(t.db, {
      pbxId: 'gamma',
      models: { 'yealink-t54w': 2, 'grandstream-ht802': 1 },
    });
  });
  afterAll(async () => {
    await fx?.close();
    await t?.drop();
  });

  function register(
    peer: Peer,
    phone: { extension: string },
    o: { ua?: string; callId?: string; contactPort?: number; seq?: number; expires?: number } = {},
  ): SipMessage {
    const aor = `sip:${phone.extension}@${domain}`;
    return {
      method: 'REGISTER',
      uri: `sip:${domain}`,
      version: '2.0',
      headers: {
        via: [
          {
            version: '2.0',
            protocol: 'UDP',
            host: '127.0.0.1',
            port: peer.port,
            params: { branch: `z9hG4bK${randomBytes(6).toString('hex')}`, rport: null },
          },
        ],
        'max-forwards': '70',
        to: { uri: aor, params: {} },
        from: { uri: aor, params: { tag: 'ft1' } },
        'call-id': o.callId ?? `${randomBytes(6).toString('hex')}@test`,
        cseq: { seq: o.seq ?? 1, method: 'REGISTER' },
        // A contact port other than the source port, as behind NAT: the source must win (rport).
        contact: [
          {
            uri: `sip:c${phone.extension}@127.0.0.1:${o.contactPort ?? 9}`,
            params: { expires: String(o.expires ?? 120) },
          },
        ],
        'user-agent': o.ua ?? 'Yealink SIP-T54W 96.86.0.45',
      },
      content: '',
    };
  }

  async function registerWithDigest(
    peer: Peer,
    phone: SimulatedFleetAccounts['phones'][number],
    ua?: string,
  ) {
    const callId = `${randomBytes(6).toString('hex')}@test`;
    const first = register(peer, phone, { callId, ...(ua ? { ua } : {}) });
    peer.send(first, fx.edge.sipPort);
    const challenge = await peer.next((m) => m.headers['call-id'] === callId);
    const second = register(peer, phone, { callId, seq: 2, ...(ua ? { ua } : {}) });
    digest.signRequest(null, second, challenge.msg, { user: phone.extension, password: phone.sipPassword! });
    peer.send(second, fx.edge.sipPort);
    return {
      challenge,
      ok: await peer.next((m) => m.headers['call-id'] === callId && m.headers.cseq.seq === 2),
    };
  }

  it('R6: challenges a REGISTER, accepts the digest answer, stores the source address and learns the version', async () => {
    const peer = await new Peer().open();
    try {
      const phone = fleet.phones[0]!;
      const { challenge, ok } = await registerWithDigest(peer, phone, 'Yealink SIP-T54W 96.86.0.45');
      expect(challenge.msg.status).toBe(401);
      expect(challenge.raw).toMatch(
        new RegExp(`WWW-Authenticate: Digest realm="${domain}",nonce="[^"]+",algorithm=MD5,qop="auth"`),
      );
      expect(ok.msg.status).toBe(200);
      expect(ok.msg.headers.via[0]?.params).toMatchObject({
        received: '127.0.0.1',
        rport: String(peer.port),
      });
      expect(ok.msg.headers.to.params.tag).toBeTruthy();
      const [row] = await t.db.select().from(phoneAccounts).where(eq(phoneAccounts.id, phone.id));
      expect(row?.sipContact).toBe(`sip:c${phone.extension}@127.0.0.1:${peer.port}`);
      expect(row?.installedVersion).toBe('96.86.0.45');
      expect(row?.userAgent).toBe('Yealink SIP-T54W 96.86.0.45');
      expect(row!.sipRegisteredUntil!.getTime()).toBeGreaterThan(Date.now() + 60_000);
    } finally {
      peer.close();
    }
  });

  it('R6: does not take the version of a User-Agent that names another model', async () => {
    const peer = await new Peer().open();
    try {
      const phone = fleet.phones[1]!;
      const { ok } = await registerWithDigest(peer, phone, 'snomD785/10.1.84.12');
      expect(ok.msg.status).toBe(200);
      const [row] = await t.db.select().from(phoneAccounts).where(eq(phoneAccounts.id, phone.id));
      expect(row?.installedVersion).toBeNull();
    } finally {
      peer.close();
    }
  });

  it('refuses a wrong SIP password with 403 and an unknown domain with 404', async () => {
    const peer = await new Peer().open();
    try {
      const phone = fleet.phones[0]!;
      const rq = register(peer, phone);
      peer.send(rq, fx.edge.sipPort);
      const challenge = await peer.next();
      const again = register(peer, phone, { callId: rq.headers['call-id'], seq: 2 });
      digest.signRequest(null, again, challenge.msg, { user: phone.extension, password: 'wrong' });
      peer.send(again, fx.edge.sipPort);
      expect((await peer.next()).msg.status).toBe(403);

      const elsewhere = register(peer, phone);
      elsewhere.headers.to = { uri: `sip:${phone.extension}@nowhere.test`, params: {} };
      peer.send(elsewhere, fx.edge.sipPort);
      expect((await peer.next()).msg.status).toBe(404);
    } finally {
      peer.close();
    }
  });

  it('answers a retransmitted REGISTER with the same response without processing it again', async () => {
    const peer = await new Peer().open();
    try {
      const rq = sip.stringify(register(peer, fleet.phones[0]!));
      const before = fx.edge.sip.stats.registers;
      peer.send(rq, fx.edge.sipPort);
      const first = await peer.next();
      peer.send(rq, fx.edge.sipPort);
      const second = await peer.next();
      expect(second.raw).toBe(first.raw);
      expect(fx.edge.sip.stats.registers - before).toBe(1);
    } finally {
      peer.close();
    }
  });

  it('sends an out-of-dialog check-sync NOTIFY to the registered contact and takes its 200', async () => {
    const peer = await new Peer().open();
    try {
      const phone = fleet.phones[0]!;
      await registerWithDigest(peer, phone);
      const [row] = await t.db.select().from(phoneAccounts).where(eq(phoneAccounts.id, phone.id));
      const sent = fx.edge.sip.notify({
        phoneId: phone.id,
        extension: phone.extension,
        sipDomain: domain,
        contact: row!.sipContact!,
        event: checkSyncEventOf('yealink'),
      });
      const { msg, raw } = await peer.next((m) => m.method === 'NOTIFY');
      expect(msg.uri).toBe(`sip:c${phone.extension}@127.0.0.1:${peer.port}`);
      expect(raw).toMatch(/\r\nEvent: check-sync;reboot=true\r\n/);
      expect(raw).toMatch(/\r\nSubscription-State: terminated\r\n/);
      expect(raw).toMatch(/\r\nMax-Forwards: 70\r\n/);
      expect(msg.headers.via[0]?.params.branch).toMatch(/^z9hG4bK/);
      expect(msg.headers.from.params.tag).toBeTruthy();
      expect(msg.headers.to.params.tag).toBeUndefined();
      expect(msg.headers.to.uri).toBe(`sip:${phone.extension}@${domain}`);
      expect(msg.headers.cseq).toEqual({ seq: 1, method: 'NOTIFY' });
      const ok = sip.makeResponse(msg, 200, 'OK');
      ok.headers.to = { ...msg.headers.to, params: { tag: 'pt1' } };
      peer.send(ok, fx.edge.sipPort);
      expect(await sent).toMatchObject({ answered: true, status: 200, outcome: 'ok' });
    } finally {
      peer.close();
    }
  });

  it('uses the resync event for Grandstream and answers a phone that challenges the NOTIFY', async () => {
    const peer = await new Peer().open();
    try {
      const phone = fleet.phones.find((p) => p.vendor === 'grandstream')!;
      const [row] = await t.db.select().from(phoneAccounts).where(eq(phoneAccounts.id, phone.id));
      const contact = `sip:gs@127.0.0.1:${peer.port}`;
      const sent = fx.edge.sip.notify({
        phoneId: phone.id,
        extension: phone.extension,
        sipDomain: domain,
        contact,
        event: checkSyncEventOf('grandstream'),
        ha1: row!.sipHa1,
      });
      const first = await peer.next((m) => m.method === 'NOTIFY');
      expect(first.raw).toMatch(/\r\nEvent: resync\r\n/);
      const nonce = 'phone-nonce-1';
      const challenge = sip.makeResponse(first.msg, 401, 'Unauthorized');
      challenge.headers['www-authenticate'] = [
        { scheme: 'Digest', realm: `"${domain}"`, nonce: `"${nonce}"`, algorithm: 'MD5', qop: '"auth"' },
      ];
      peer.send(challenge, fx.edge.sipPort);
      const second = await peer.next((m) => m.method === 'NOTIFY' && m.headers.cseq.seq === 2);
      const auth = second.msg.headers.authorization?.[0] as Record<string, string>;
      const unq = (v: string | undefined) => v?.replace(/^"|"$/g, '');
      const expected = digest.calculateDigest({
        ha1: digest.calculateUserRealmPasswordHash(phone.extension, domain, phone.sipPassword!),
        method: 'NOTIFY',
        nonce,
        uri: contact,
        qop: 'auth',
        nc: unq(auth.nc)!,
        cnonce: unq(auth.cnonce)!,
      });
      expect(unq(auth.response)).toBe(expected);
      peer.send(sip.makeResponse(second.msg, 200, 'OK'), fx.edge.sipPort);
      expect(await sent).toMatchObject({ answered: true, status: 200 });
    } finally {
      peer.close();
    }
  });

  it('retransmits an unanswered NOTIFY (Timer E) and gives up after Timer F', async () => {
    const peer = await new Peer().open();
    try {
      const phone = fleet.phones[0]!;
      const outcome = await fx.edge.sip.notify({
        phoneId: phone.id,
        extension: phone.extension,
        sipDomain: domain,
        contact: `sip:silent@127.0.0.1:${peer.port}`,
        event: 'check-sync;reboot=true',
      });
      expect(outcome).toMatchObject({ answered: false, status: null, outcome: 'timeout' });
      const copiesOf = () => peer.inbox.filter((e) => e.msg.method === 'NOTIFY');
      // T1 = 20 ms, T2 = 160 ms, F = 64·T1: sends at 0, 20, 60, 140, 300, 460, ... about 11 in all.
      await expect.poll(() => copiesOf().length).toBe(outcome.transmissions);
      const copies = copiesOf();
      expect(copies.length).toBeGreaterThanOrEqual(6);
      expect(new Set(copies.map((c) => c.raw)).size).toBe(1);
    } finally {
      peer.close();
    }
  });
});
