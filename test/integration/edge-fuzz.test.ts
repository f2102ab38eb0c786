/**
 * The phone edge under generated malformed input (bounded: a few hundred datagrams and requests, seeded): the SIP
 * endpoint and the provisioning server must neither crash nor leave an unhandled rejection, answer HTTP with
 * something below 500, and afterwards still answer a valid REGISTER and a valid provisioning request.
 */
import { randomBytes } from 'node:crypto';
import { createSocket } from 'node:dgram';
import { once } from 'node:events';
import { connect } from 'node:net';
import fc from 'fast-check';
import sip, { type SipMessage } from 'sip';
import digest from 'sip/digest.js';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSimulatedFleet, type SimulatedFleetAccounts } from '../../simulator/accounts.ts';
import { httpUserAgent } from '../../simulator/identity.ts';
import { createTestDatabase, type TestDatabase } from '../support/db.ts';
import { type EdgeFixture, seedModels, seedPbx, startEdgeFixture } from '../support/phone-fixtures.ts';

const SEED = 20261001;

describe('phone edge fuzzing (bounded)', () => {
  let t: TestDatabase;
  let fx: EdgeFixture;
  let pbx: Awaited<ReturnType<typeof seedPbx>>;
  let fleet: SimulatedFleetAccounts;
  const problems: unknown[] = [];
  const onProblem = (err: unknown) => problems.push(err);

  beforeAll(async () => {
    process.on('unhandledRejection', onProblem);
    process.on('uncaughtException', onProblem);
    t = await createTestDatabase();
    // Fuzzed credentials must not throttle the valid requests at the end.
    fx = await startEdgeFixture(t.db, undefined, { authThrottle: { maxFailures: 1_000_000 } });
    pbx = await seedPbx(t.db, 'fuzz');
    await seedModels(t.db);
    fleet = await createSimulatedFleet(t.db, { pbxId: 'fuzz', models: { 'yealink-t54w': 1 } });
  });
  afterAll(async () => {
    process.off('unhandledRejection', onProblem);
    process.off('uncaughtException', onProblem);
    await fx?.close();
    await t?.drop();
  });

  function validRegister(port: number, seq: number, callId: string): SipMessage {
    const phone = fleet.phones[0]!;
    const aor = `sip:${phone.extension}@${pbx.sipDomain}`;
    return {
      method: 'REGISTER',
      uri: `sip:${pbx.sipDomain}`,
      version: '2.0',
      headers: {
        via: [
          {
            version: '2.0',
            protocol: 'UDP',
            host: '127.0.0.1',
            port,
            params: { branch: `z9hG4bK${randomBytes(6).toString('hex')}`, rport: null },
          },
        ],
        'max-forwards': '70',
        to: { uri: aor, params: {} },
        from: { uri: aor, params: { tag: 'fz' } },
        'call-id': callId,
        cseq: { seq, method: 'REGISTER' },
        contact: [{ uri: `sip:fz@127.0.0.1:${port}`, params: { expires: '120' } }],
        'user-agent': 'Yealink SIP-T54W 96.86.0.45',
      },
      content: '',
    };
  }

  /** Mutations of a valid datagram: cuts, spliced bytes, doubled or garbled headers, lying lengths, junk. */
  const datagram = (template: string) =>
    fc.oneof(
      fc.uint8Array({ minLength: 0, maxLength: 600 }).map((b) => Buffer.from(b)),
      fc.nat({ max: template.length }).map((n) => Buffer.from(template.slice(0, n), 'binary')),
      fc
        .tuple(fc.nat({ max: template.length }), fc.uint8Array({ minLength: 1, maxLength: 40 }))
        .map(([at, junk]) =>
          Buffer.concat([
            Buffer.from(template.slice(0, at), 'binary'),
            Buffer.from(junk),
            Buffer.from(template.slice(at), 'binary'),
          ]),
        ),
      fc
        .tuple(
          fc.constantFrom(
            'Via',
            'To',
            'From',
            'Call-ID',
            'CSeq',
            'Contact',
            'Content-Length',
            'Authorization',
            'Expires',
          ),
          fc.string({ unit: 'binary', maxLength: 80 }),
        )
        .map(([name, value]) =>
          Buffer.from(template.replace(/\r\n\r\n$/, `\r\n${name}: ${value}\r\n\r\n`), 'utf8'),
        ),
      fc
        .constantFrom('Via', 'To', 'From', 'Call-ID', 'CSeq', 'Contact')
        .map((name) => Buffer.from(template.replace(new RegExp(`\\r\\n${name}:[^\\r]*`, 'i'), ''), 'binary')),
      fc
        .integer({ min: 1, max: 1_000_000 })
        .map((n) => Buffer.from(template.replace(/Content-Length: 0/i, `Content-Length: ${n}`), 'binary')),
    );

  it('the SIP endpoint survives 600 malformed datagrams and still answers a valid REGISTER', async () => {
    const socket = createSocket('udp4');
    await new Promise<void>((r) => socket.bind(0, '127.0.0.1', () => r()));
    const port = socket.address().port;
    const replies: SipMessage[] = [];
    socket.on('message', (buf) => {
      try {
        const m = sip.parse(buf);
        if (m) replies.push(m);
      } catch {
        // the edge never sends what sip cannot parse; a failure here shows in the final check
      }
    });
    try {
      const template = sip.stringify(validRegister(port, 1, 'template@fuzz'));
      const samples = fc.sample(datagram(template), { numRuns: 600, seed: SEED });
      for (const [i, d] of samples.entries()) {
        socket.send(d, fx.edge.sipPort, '127.0.0.1');
        if (i % 50 === 49) await new Promise((r) => setTimeout(r, 20));
      }
      await new Promise((r) => setTimeout(r, 300));
      // Still alive: a valid REGISTER with digest is answered 200.
      replies.length = 0;
      const callId = `after-fuzz-${randomBytes(4).toString('hex')}`;
      socket.send(sip.stringify(validRegister(port, 1, callId)), fx.edge.sipPort, '127.0.0.1');
      const challenge = await waitFor(() => replies.find((r) => r.headers['call-id'] === callId));
      expect(challenge.status).toBe(401);
      const second = validRegister(port, 2, callId);
      digest.signRequest(null, second, challenge, {
        user: fleet.phones[0]!.extension,
        password: fleet.phones[0]!.sipPassword!,
      });
      socket.send(sip.stringify(second), fx.edge.sipPort, '127.0.0.1');
      const ok = await waitFor(() =>
        replies.find((r) => r.headers['call-id'] === callId && r.headers.cseq.seq === 2),
      );
      expect(ok.status).toBe(200);
      expect(problems).toEqual([]);
    } finally {
      socket.close();
    }
  });

  it('the provisioning server answers 300 malformed requests below 500 and still serves a valid one', async () => {
    const url = new URL(fx.edge.provisioningUrlFor('fuzz'));
    const phone = fleet.phones[0]!;
    const auth = `Basic ${Buffer.from(`${pbx.provisioningUser}:${pbx.provisioningPassword}`).toString('base64')}`;
    const pathPart = fc.oneof(
      fc.constantFrom(
        '%00',
        '%0a',
        '%ZZ',
        '%',
        '..',
        '%2e%2e',
        '%5c',
        '//',
        '?',
        '#',
        '%E0%A4%A',
        'firmware/',
        ';',
        '%c0%af',
      ),
      fc.string({ unit: 'binary-ascii', maxLength: 12 }).map((s) => encodeURIComponent(s)),
      fc.stringMatching(/^[a-z0-9.]{0,16}$/),
    );
    const requestText = fc
      .record({
        method: fc.constantFrom('GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'OPTIONS', 'BREW', 'G\u0000T'),
        path: fc.array(pathPart, { maxLength: 5 }).map((parts) => `/p/fuzz/${parts.join('')}`),
        authorization: fc.oneof(
          fc.constant(auth),
          fc.constant(''),
          fc.string({ unit: 'binary-ascii', maxLength: 60 }).map((s) => `Basic ${s}`),
        ),
        range: fc.oneof(fc.constant(''), fc.string({ unit: 'binary-ascii', maxLength: 30 })),
        host: fc.oneof(fc.constant('127.0.0.1'), fc.string({ unit: 'binary-ascii', maxLength: 30 })),
        ua: fc.oneof(
          fc.constant(httpUserAgent(phone, phone.version)),
          fc.string({ unit: 'binary', maxLength: 80 }),
        ),
      })
      .map((r) => {
        const headers = [
          `Host: ${r.host}`,
          ...(r.authorization ? [`Authorization: ${r.authorization}`] : []),
          ...(r.range ? [`Range: ${r.range}`] : []),
          `User-Agent: ${r.ua}`,
          'Connection: close',
        ];
        return `${r.method} ${r.path} HTTP/1.1\r\n${headers.join('\r\n')}\r\n\r\n`;
      });
    const statuses = new Map<number, number>();
    for (const text of fc.sample(requestText, { numRuns: 300, seed: SEED })) {
      const socket = connect(Number(url.port), url.hostname);
      await once(socket, 'connect');
      socket.end(Buffer.from(text, 'utf8'));
      const chunks: Buffer[] = [];
      try {
        for await (const c of socket) chunks.push(c as Buffer);
      } catch {
        // the server may reset a connection it refused: that is an answer too
      }
      const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(Buffer.concat(chunks).toString('latin1'))?.[1] ?? 0);
      statuses.set(status, (statuses.get(status) ?? 0) + 1);
      expect(status, text.slice(0, 200)).toBeLessThan(500);
    }
    const res = await request(`${fx.edge.provisioningUrlFor('fuzz')}${phone.mac}.cfg`, {
      headers: { authorization: auth, 'user-agent': httpUserAgent(phone, phone.version) },
    });
    expect(res.statusCode).toBe(200);
    await res.body.dump();
    expect(problems).toEqual([]);
  });
});

async function waitFor<T>(find: () => T | undefined, ms = 5_000): Promise<T> {
  const until = Date.now() + ms;
  for (;;) {
    const found = find();
    if (found !== undefined) return found;
    if (Date.now() > until) throw new Error('nothing arrived');
    await new Promise((r) => setTimeout(r, 20));
  }
}
