import { randomBytes } from 'node:crypto';
import { createSocket, type Socket } from 'node:dgram';
import { eq } from 'drizzle-orm';
import sip, { type SipMessage } from 'sip';
import digest from 'sip/digest.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { journal, phoneAccounts } from '../../db/schema.ts';
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
    o: {
      ua?: string;
      callId?: string;
      contactPort?: number;
      seq?: number;
      expires?: number;
      /** The sent-by of the Via; another address than the socket's means the phone is behind NAT. */
      via?: { host: string; port: number };
    } = {},
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
            host: o.via?.host ?? '127.0.0.1',
            port: o.via?.port ?? peer.port,
            params: { branch: `z9hG4bK${randomBytes(6).toString('hex')}`, rport: null },
          },
        ],
        'max-forwards': '70',
        to: { uri: aor, params: {} },
        from: { uri: aor, params: { tag: 'ft1' } },
        'call-id': o.callId ?? `${randomBytes(6).toString('hex')}@test`,
        cseq: { seq: o.seq ?? 1, method: 'REGISTER' },
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
    extra: Parameters<typeof register>[2] = {},
  ) {
    const callId = `${randomBytes(6).toString('hex')}@test`;
    const first = register(peer, phone, { callId, ...(ua ? { ua } : {}), ...extra });
    peer.send(first, fx.edge.sipPort);
    const challenge = await peer.next((m) => m.headers['call-id'] === callId);
    const second = register(peer, phone, { callId, seq: 2, ...(ua ? { ua } : {}), ...extra });
    digest.signRequest(null, second, challenge.msg, { user: phone.extension, password: phone.sipPassword! });
    peer.send(second, fx.edge.sipPort);
    return {
      challenge,
      ok: await peer.next((m) => m.headers['call-id'] === callId && m.headers.cseq.seq === 2),
    };
  }

  it('R6: challenges a REGISTER, accepts the digest answer, stores the source address behind NAT and learns the version', async () => {
    const peer = await new Peer().open();
    try {
      const phone = fleet.phones[0]!;
      // Behind NAT: the Via names a private address, the datagram comes from elsewhere (RFC 3581).
      const { challenge, ok } = await registerWithDigest(peer, phone, 'Yealink SIP-T54W 96.86.0.45', {
        via: { host: '10.20.30.40', port: 5062 },
      });
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

  it('issue 10 defect 7: keeps the Contact the phone sent when it is not behind NAT', async () => {
    const peer = await new Peer().open();
    try {
      const phone = fleet.phones[0]!;
      const { ok } = await registerWithDigest(peer, phone, 'Yealink SIP-T54W 96.86.0.45', {
        contactPort: 5070,
      });
      expect(ok.msg.status).toBe(200);
      const [row] = await t.db.select().from(phoneAccounts).where(eq(phoneAccounts.id, phone.id));
      expect(row?.sipContact).toBe(`sip:c${phone.extension}@127.0.0.1:5070`);
    } finally {
      peer.close();
    }
  });

  it('RFC 3261 18.3: answers a REGISTER whose Content-Length exceeds the datagram with 400', async () => {
    const peer = await new Peer().open();
    try {
      const text = sip
        .stringify(register(peer, fleet.phones[0]!))
        .replace(/Content-Length: 0/i, 'Content-Length: 40');
      expect(text).toContain('Content-Length: 40');
      peer.send(`${text}v=0\r\n`, fx.edge.sipPort);
      expect((await peer.next()).msg.status).toBe(400);
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

  it('issue 10 defect 7: answers a wrong SIP password with a fresh challenge, an unknown domain with 404', async () => {
    const peer = await new Peer().open();
    try {
      const phone = fleet.phones[0]!;
      const rq = register(peer, phone);
      peer.send(rq, fx.edge.sipPort);
      const challenge = await peer.next();
      const again = register(peer, phone, { callId: rq.headers['call-id'], seq: 2 });
      digest.signRequest(null, again, challenge.msg, { user: phone.extension, password: 'wrong' });
      peer.send(again, fx.edge.sipPort);
      const fresh = await peer.next();
      expect(fresh.msg.status).toBe(401);
      const nonceOf = (m: SipMessage) => m.headers['www-authenticate']?.[0]?.nonce;
      expect(nonceOf(fresh.msg)).toBeTruthy();
      expect(nonceOf(fresh.msg)).not.toBe(nonceOf(challenge.msg));
      // The fresh challenge works for the right password.
      const third = register(peer, phone, { callId: rq.headers['call-id'], seq: 3 });
      digest.signRequest(null, third, fresh.msg, { user: phone.extension, password: phone.sipPassword! });
      peer.send(third, fx.edge.sipPort);
      expect((await peer.next()).msg.status).toBe(200);

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
      await registerWithDigest(peer, phone, undefined, { contactPort: peer.port });
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

  it("issue 10 defect 6: uses resync for Grandstream and answers a NOTIFY challenge for the phone's own realm", async () => {
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
      // Grandstream ATAs challenge with their model as realm, not the PBX's domain.
      const nonce = 'phone-nonce-1';
      const challenge = sip.makeResponse(first.msg, 401, 'Unauthorized');
      challenge.headers['www-authenticate'] = [
        { scheme: 'Digest', realm: '"HT802"', nonce: `"${nonce}"`, algorithm: 'MD5', qop: '"auth"' },
      ];
      peer.send(challenge, fx.edge.sipPort);
      const second = await peer.next((m) => m.method === 'NOTIFY' && m.headers.cseq.seq === 2);
      const auth = second.msg.headers.authorization?.[0] as Record<string, string>;
      const unq = (v: string | undefined) => v?.replace(/^"|"$/g, '');
      expect(unq(auth.realm)).toBe('HT802');
      const expected = digest.calculateDigest({
        ha1: digest.calculateUserRealmPasswordHash(phone.extension, 'HT802', phone.sipPassword!),
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

describe('SIP digest failures are throttled per address', () => {
  let t: TestDatabase;
  let fx: EdgeFixture;
  let fleet: SimulatedFleetAccounts;
  let domain: string;

  beforeAll(async () => {
    t = await createTestDatabase();
    fx = await startEdgeFixture(t.db, undefined, { authThrottle: { maxFailures: 3, windowMs: 60_000 } });
    domain = (await seedPbx(t.db, 'kappa')).sipDomain;
    await seedModels(t.db);
    fleet = await createSimulatedFleet(t.db, { pbxId: 'kappa', models: { 'yealink-t54w': 1 } });
  });
  afterAll(async () => {
    await fx?.close();
    await t?.drop();
  });

  it('R14 (issue 10 defect 7): after repeated wrong digests the address gets 403 and the journal says so once', async () => {
    const peer = await new Peer().open();
    try {
      const phone = fleet.phones[0]!;
      const aor = `sip:${phone.extension}@${domain}`;
      const rq = (seq: number): SipMessage => ({
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
          to: { uri: aor, params: {} },
          from: { uri: aor, params: { tag: 'tt' } },
          'call-id': 'throttle@test',
          cseq: { seq, method: 'REGISTER' },
          contact: [{ uri: `sip:t@127.0.0.1:${peer.port}`, params: {} }],
        },
        content: '',
      });
      peer.send(rq(1), fx.edge.sipPort);
      let last = (await peer.next()).msg;
      const statuses: number[] = [];
      for (let seq = 2; seq <= 6; seq++) {
        const attempt = rq(seq);
        digest.signRequest(null, attempt, last, { user: phone.extension, password: `guess-${seq}` });
        peer.send(attempt, fx.edge.sipPort);
        const answer = (await peer.next()).msg;
        statuses.push(answer.status!);
        if (answer.status === 401) last = answer;
      }
      expect(statuses).toEqual([401, 401, 401, 403, 403]);
      const rows = await t.db.select().from(journal).where(eq(journal.pbxId, 'kappa'));
      expect(rows.map((r) => r.action)).toEqual(['sip.auth-throttled']);
      expect(rows[0]?.details).toMatchObject({ source: '127.0.0.1', failures: 3 });
    } finally {
      peer.close();
    }
  });
});
