/**
 * A small SIP UDP endpoint for the PBX side of phone updates:
 *  - accepts REGISTER with digest auth (realm = the PBX's SIP domain, which the request's domain selects; the
 *    user part selects the phone account), records contact, User-Agent (R6 version) and expiry;
 *  - sends out-of-dialog NOTIFY (check-sync / resync) to a registered contact as an RFC 3261 17.1.2 non-INVITE
 *    client transaction: Timer E retransmits from T1 doubling up to T2, Timer F (64·T1) gives up.
 * Retransmitted requests get the same response again without being processed twice (17.2.2). Responses go to the
 * source address when the phone asked for rport (RFC 3581); the stored contact is the Contact the phone sent,
 * unless its Via shows it behind NAT (rport, and a source other than the Via's sent-by), then the source address.
 * A wrong digest gets a fresh challenge (RFC 3261 22.2: the client may retry); repeated failures from one address
 * are throttled and journalled. A datagram whose Content-Length exceeds its body is answered 400 (18.3).
 * A phone that challenges our NOTIFY is answered for the realm it names (Grandstream ATAs use their model), with
 * the account's password opened from its sealed copy.
 * Messages are parsed and serialised by the `sip` package; transactions and the socket are ours.
 */
import { randomBytes } from 'node:crypto';
import { createSocket, type RemoteInfo, type Socket } from 'node:dgram';
import { isIPv6 } from 'node:net';
import sip, { type SipMessage, type SipVia } from 'sip';
import type { Db } from '../db/client.ts';
import { appendJournal } from '../db/queries/journal.ts';
import { type EdgePbx, findSealedSipPassword, recordUnregistration } from '../db/queries/phones.ts';
import { parseUserAgent, trustedVersion } from '../domain/user-agent.ts';
import type { Logger } from '../lib/logger.ts';
import type { PbxLogs } from '../lib/pbx-logs.ts';
import { openSecret, sipHa1 } from '../lib/secrets.ts';
import { AuthThrottle } from './auth-throttle.ts';
import type { EdgeDirectory } from './edge-directory.ts';
import { EdgeStore } from './edge-store.ts';
import { authorizationFor, challengeFor, NonceIssuer, verifyDigest } from './sip-digest.ts';

export interface SipEndpointOptions {
  db: Db;
  logger: Logger;
  /** R14: throttled addresses go to the PBX's journal. */
  logs?: PbxLogs | undefined;
  /** SECRETS_KEY, to open an account's sealed password when a phone challenges a NOTIFY with its own realm. */
  secretsKey?: string | undefined;
  /** Credential failures per source address (the phone edge shares one with provisioning). */
  throttle?: AuthThrottle | undefined;
  directory: EdgeDirectory;
  /** Phone lookups and registrations, batched under load (default: one of its own on `db`). */
  store?: EdgeStore | undefined;
  /** Address to bind, e.g. 0.0.0.0 or 127.0.0.1. */
  host: string;
  /** 0 = any free port. */
  port: number;
  /** The address phones reach us at (Via/Contact of our NOTIFYs); defaults to `host` unless that is a wildcard. */
  publicHost?: string | undefined;
  /** RFC 3261 timers: T1 500 ms, T2 4 s. Tests shorten them. */
  t1Ms?: number | undefined;
  t2Ms?: number | undefined;
  /** Registration interval bounds in seconds (423 below the minimum). */
  minExpires?: number | undefined;
  maxExpires?: number | undefined;
  onPhoneChange?: ((phoneId: number) => void) | undefined;
}

export interface NotifyTarget {
  phoneId: number;
  extension: string;
  sipDomain: string;
  /** The registered contact, e.g. `sip:p17@127.0.0.1:40001`. */
  contact: string;
  /** The vendor's check-sync event, e.g. `check-sync;reboot=true` or `resync`. */
  event: string;
  /**
   * The account's HA1 for the PBX's realm. Only a fallback: a phone that challenges is answered with credentials
   * for the realm it names, computed from the account's sealed password (looked up by `phoneId`).
   */
  ha1?: string | null | undefined;
}

export interface NotifyOutcome {
  /** A 2xx came back. */
  answered: boolean;
  /** Final status, or null when nothing came back before Timer F. */
  status: number | null;
  outcome: 'ok' | 'rejected' | 'timeout' | 'bad-contact';
  /** How many times the request went out (1 + retransmissions). */
  transmissions: number;
}

interface ClientTransaction {
  branch: string;
  finish(rs: SipMessage | null): void;
  onProvisional(): void;
}

const REASONS: Record<number, string> = {
  200: 'OK',
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  423: 'Interval Too Brief',
  500: 'Server Internal Error',
};

function randomToken(bytes = 8): string {
  return randomBytes(bytes).toString('hex');
}

function hostPort(address: string, port: number): string {
  return `${isIPv6(address) ? `[${address}]` : address}:${port}`;
}

export class SipEndpoint {
  readonly #o: Required<
    Omit<SipEndpointOptions, 'publicHost' | 'onPhoneChange' | 'logs' | 'secretsKey' | 'throttle' | 'store'>
  > & {
    publicHost: string;
    onPhoneChange: (id: number) => void;
    logs: PbxLogs | undefined;
    secretsKey: string | undefined;
    throttle: AuthThrottle;
  };
  readonly #store: EdgeStore;
  readonly #socket: Socket;
  readonly #nonces = new NonceIssuer();
  /** Server transactions by branch/method/source: the response to repeat on a retransmission (null = in progress). */
  readonly #served = new Map<
    string,
    { until: number; response: Buffer | null; to: { address: string; port: number } }
  >();
  readonly #client = new Map<string, ClientTransaction>();
  readonly #sweeper: NodeJS.Timeout;
  readonly #inFlight = new Set<Promise<void>>();
  #closed = false;
  #port = 0;
  readonly stats = { registers: 0, notifies: 0, retransmissions: 0, timeouts: 0, malformed: 0 };

  private constructor(options: SipEndpointOptions) {
    const wildcard = options.host === '0.0.0.0' || options.host === '::';
    this.#o = {
      db: options.db,
      logger: options.logger,
      directory: options.directory,
      host: options.host,
      port: options.port,
      publicHost: options.publicHost ?? (wildcard ? '127.0.0.1' : options.host),
      t1Ms: options.t1Ms ?? 500,
      t2Ms: options.t2Ms ?? 4_000,
      minExpires: options.minExpires ?? 30,
      maxExpires: options.maxExpires ?? 3_600,
      onPhoneChange: options.onPhoneChange ?? (() => {}),
      logs: options.logs,
      secretsKey: options.secretsKey,
      throttle: options.throttle ?? new AuthThrottle(),
    };
    this.#store = options.store ?? new EdgeStore(options.db);
    this.#socket = createSocket({ type: isIPv6(options.host) ? 'udp6' : 'udp4', reuseAddr: false });
    this.#socket.on('message', (buf, rinfo) => this.#onMessage(buf, rinfo));
    this.#socket.on('error', (err) => this.#o.logger.error({ err }, 'SIP socket error'));
    this.#sweeper = setInterval(() => this.#sweep(), 1_000);
    this.#sweeper.unref();
  }

  static async start(options: SipEndpointOptions): Promise<SipEndpoint> {
    const ep = new SipEndpoint(options);
    await new Promise<void>((resolve, reject) => {
      ep.#socket.once('error', reject);
      ep.#socket.bind(options.port, options.host, () => {
        ep.#socket.off('error', reject);
        resolve();
      });
    });
    ep.#port = ep.#socket.address().port;
    return ep;
  }

  get port(): number {
    return this.#port;
  }

  get publicHost(): string {
    return this.#o.publicHost;
  }

  /** Timer F: how long a NOTIFY may go unanswered. */
  get transactionTimeoutMs(): number {
    return 64 * this.#o.t1Ms;
  }

  /** Stops taking requests, lets the ones being handled finish their database writes, closes the socket. */
  async close(): Promise<void> {
    this.#closed = true;
    clearInterval(this.#sweeper);
    for (const tx of this.#client.values()) tx.finish(null);
    while (this.#inFlight.size > 0) await Promise.allSettled([...this.#inFlight]);
    await new Promise<void>((resolve) => this.#socket.close(() => resolve()));
  }

  #send(buf: Buffer, to: { address: string; port: number }) {
    if (this.#closed) return;
    this.#socket.send(buf, to.port, to.address, (err) => {
      if (err) this.#o.logger.debug({ err, to }, 'SIP send failed');
    });
  }

  #sweep() {
    const now = Date.now();
    // Entries are inserted in time order with one lifetime, so the expired ones are at the front.
    for (const [key, entry] of this.#served) {
      if (entry.until > now) break;
      this.#served.delete(key);
    }
  }

  #onMessage(buf: Buffer, rinfo: RemoteInfo) {
    if (this.#closed) return;
    try {
      this.#dispatch(buf, rinfo);
    } catch (err) {
      // Whatever a datagram holds, it must not take the endpoint down.
      this.stats.malformed++;
      this.#o.logger.debug({ err, from: hostPort(rinfo.address, rinfo.port) }, 'dropped a SIP datagram');
    }
  }

  #dispatch(buf: Buffer, rinfo: RemoteInfo) {
    let msg: SipMessage | undefined;
    try {
      msg = sip.parse(buf);
    } catch {
      msg = undefined;
    }
    const h = msg?.headers;
    if (
      !msg ||
      !h ||
      !Array.isArray(h.via) ||
      h.via.length === 0 ||
      typeof h['call-id'] !== 'string' ||
      !h.cseq ||
      typeof h.cseq.method !== 'string' ||
      !h.from ||
      !h.to ||
      typeof h.to.uri !== 'string' ||
      !h.to.params
    ) {
      this.stats.malformed++;
      this.#o.logger.debug(
        { from: hostPort(rinfo.address, rinfo.port) },
        'dropped an unparsable SIP datagram',
      );
      return;
    }
    const truncated = bodyShorterThanContentLength(buf);
    if (msg.status) {
      // RFC 3261 18.3: a response whose body is shorter than its Content-Length is discarded.
      if (!truncated) this.#onResponse(msg);
      return;
    }
    this.#onRequest(msg, rinfo, truncated);
  }

  // ---- server side ------------------------------------------------------------------------------

  /** RFC 3261 18.2.2 with RFC 3581: answer to the source port when the client asked for rport. */
  #responseTarget(via: SipVia, rinfo: RemoteInfo): { address: string; port: number } {
    if ('rport' in via.params) return { address: rinfo.address, port: rinfo.port };
    return { address: rinfo.address, port: via.port ?? 5060 };
  }

  #onRequest(rq: SipMessage, rinfo: RemoteInfo, truncated: boolean) {
    const via = rq.headers.via[0] as SipVia;
    const key = `${via.params.branch ?? ''}\0${rq.method}\0${rq.headers['call-id']}\0${rinfo.address}:${rinfo.port}`;
    const seen = this.#served.get(key);
    if (seen) {
      if (seen.response) this.#send(seen.response, seen.to);
      return;
    }
    if (rq.method === 'ACK') return;
    const to = this.#responseTarget(via, rinfo);
    const entry = { until: Date.now() + 64 * this.#o.t1Ms, response: null as Buffer | null, to };
    this.#served.set(key, entry);
    const respond = (rs: SipMessage) => {
      entry.response = Buffer.from(sip.stringify(rs), 'binary');
      this.#send(entry.response, to);
    };
    const handle = truncated
      ? // RFC 3261 18.3: a request whose body is shorter than its Content-Length gets 400.
        Promise.resolve(this.#response(rq, rinfo, 400))
      : rq.method === 'REGISTER'
        ? this.#register(rq, rinfo)
        : Promise.resolve(
            rq.method === 'OPTIONS'
              ? this.#response(rq, rinfo, 200)
              : this.#response(rq, rinfo, 405, { allow: 'REGISTER, OPTIONS' }),
          );
    const done: Promise<void> = handle
      .then(respond)
      .catch((err: unknown) => {
        this.#o.logger.error({ err, method: rq.method }, 'SIP request failed');
        try {
          respond(this.#response(rq, rinfo, 500));
        } catch {
          // A request we cannot even answer 500 to stays unanswered.
        }
      })
      .finally(() => this.#inFlight.delete(done));
    this.#inFlight.add(done);
  }

  #response(
    rq: SipMessage,
    rinfo: RemoteInfo,
    status: number,
    headers: Record<string, unknown> = {},
  ): SipMessage {
    const rs = sip.makeResponse(rq, status, REASONS[status] ?? '');
    const via = rs.headers.via.map((v, i) => (i === 0 ? { ...v, params: { ...v.params } } : v));
    const top = via[0] as SipVia;
    top.params.received = rinfo.address;
    if ('rport' in top.params) top.params.rport = String(rinfo.port);
    rs.headers.via = via;
    const toTag = rq.headers.to.params.tag ?? randomToken(4);
    rs.headers.to = { ...rq.headers.to, params: { ...rq.headers.to.params, tag: toTag } };
    rs.headers.server = 'phone-firmware-distribution';
    Object.assign(rs.headers, headers);
    return rs;
  }

  /** Counts a failed digest from this address; the failure that starts its throttle is journalled (R14). */
  async #authFailed(pbx: EdgePbx, rinfo: RemoteInfo, extension: string): Promise<void> {
    const { throttledNow, failures } = this.#o.throttle.failed(rinfo.address);
    this.#o.logger.warn(
      { pbx: pbx.id, extension, source: rinfo.address },
      'REGISTER with wrong SIP credentials',
    );
    if (!throttledNow) return;
    this.#o.logger.warn(
      { pbx: pbx.id, source: rinfo.address, failures },
      'SIP digest failures: address throttled',
    );
    if (this.#o.logs) {
      await appendJournal(this.#o.db, this.#o.logs, {
        pbxId: pbx.id,
        action: 'sip.auth-throttled',
        why: 'system',
        who: 'system',
        details: { source: rinfo.address, failures, lastExtension: extension },
      });
    }
  }

  async #register(rq: SipMessage, rinfo: RemoteInfo): Promise<SipMessage> {
    this.stats.registers++;
    const aor = sip.parseUri(rq.headers.to.uri);
    if (!aor?.user || !aor.host) return this.#response(rq, rinfo, 400);
    const pbx = await this.#o.directory.pbxBySipDomain(aor.host);
    if (!pbx) return this.#response(rq, rinfo, 404);
    const realm = pbx.sipDomain;
    const challenge = (stale: boolean) =>
      this.#response(rq, rinfo, 401, { 'www-authenticate': [challengeFor(realm, this.#nonces, stale)] });
    const retryAfterMs = this.#o.throttle.retryAfterMs(rinfo.address);
    if (retryAfterMs > 0) {
      return this.#response(rq, rinfo, 403, { 'retry-after': String(Math.ceil(retryAfterMs / 1000)) });
    }
    if (!rq.headers.authorization?.length) return challenge(false);
    const phone = await this.#store.phoneByExtension(pbx.id, aor.user);
    // An unknown account is answered like a wrong password, so accounts cannot be enumerated.
    const verdict = phone?.sipHa1
      ? verifyDigest({
          method: 'REGISTER',
          authorization: rq.headers.authorization,
          realm,
          username: aor.user,
          ha1: phone.sipHa1,
          nonces: this.#nonces,
        })
      : 'wrong';
    if (verdict === 'missing') return challenge(false);
    if (verdict === 'stale') return challenge(true);
    if (verdict === 'wrong' || !phone) {
      await this.#authFailed(pbx, rinfo, aor.user);
      // RFC 3261 22.2 / 22.4: a fresh challenge; the client decides whether to try again.
      return challenge(false);
    }
    this.#o.throttle.succeeded(rinfo.address);

    const contacts = rq.headers.contact;
    const headerExpires = Number.parseInt(String(rq.headers.expires ?? ''), 10);
    const now = new Date();
    if (contacts === '*' || !Array.isArray(contacts) || contacts.length === 0) {
      if (contacts === '*') {
        await recordUnregistration(this.#o.db, phone.id, now);
        this.#o.onPhoneChange(phone.id);
      }
      return this.#response(rq, rinfo, 200);
    }
    const contact = contacts[0] as (typeof contacts)[number];
    const paramExpires = Number.parseInt(String(contact.params?.expires ?? ''), 10);
    const asked = Number.isFinite(paramExpires)
      ? paramExpires
      : Number.isFinite(headerExpires)
        ? headerExpires
        : this.#o.maxExpires;
    if (asked === 0) {
      await recordUnregistration(this.#o.db, phone.id, now);
      this.#o.onPhoneChange(phone.id);
      return this.#response(rq, rinfo, 200);
    }
    if (asked < this.#o.minExpires) {
      return this.#response(rq, rinfo, 423, { 'min-expires': String(this.#o.minExpires) });
    }
    const expires = Math.min(asked, this.#o.maxExpires);
    const stored = storedContact(contact.uri, rq.headers.via[0] as SipVia, rinfo);
    if (!stored) return this.#response(rq, rinfo, 400);
    const ua = typeof rq.headers['user-agent'] === 'string' ? rq.headers['user-agent'] : null;
    await this.#store.recordRegistration(phone.id, {
      contact: stored,
      registeredUntil: new Date(now.getTime() + expires * 1000),
      userAgent: ua,
      version: trustedVersion(parseUserAgent(ua), phone),
      callId: rq.headers['call-id'],
      at: now,
    });
    this.#o.onPhoneChange(phone.id);
    return this.#response(rq, rinfo, 200, {
      contact: [{ uri: contact.uri, params: { expires: String(expires) } }],
      date: now.toUTCString(),
    });
  }

  // ---- client side: NOTIFY ---------------------------------------------------------------------

  #onResponse(rs: SipMessage) {
    const branch = rs.headers.via[0]?.params.branch;
    const tx = branch ? this.#client.get(branch) : undefined;
    if (!tx || rs.headers.cseq.method !== 'NOTIFY') return;
    if ((rs.status ?? 0) < 200) tx.onProvisional();
    else tx.finish(rs);
  }

  /** Sends one out-of-dialog NOTIFY and waits for its final response or Timer F. */
  async notify(target: NotifyTarget): Promise<NotifyOutcome> {
    const uri = sip.parseUri(target.contact);
    if (!uri?.host) return { answered: false, status: null, outcome: 'bad-contact', transmissions: 0 };
    const dest = { address: uri.host.replace(/^\[|\]$/g, ''), port: uri.port || 5060 };
    const callId = `${randomToken(12)}@${this.#o.publicHost}`;
    const fromTag = randomToken(6);
    let seq = 1;
    let authorization: Record<string, string> | undefined;
    let transmissions = 0;
    this.stats.notifies++;
    for (;;) {
      const rq = this.#notifyRequest(target, callId, fromTag, seq, authorization);
      const { rs, sent } = await this.#runClientTransaction(rq, dest);
      transmissions += sent;
      if (!rs) {
        this.stats.timeouts++;
        return { answered: false, status: null, outcome: 'timeout', transmissions };
      }
      const status = rs.status ?? 0;
      const challenge = (rs.headers['www-authenticate'] ?? rs.headers['proxy-authenticate'])?.[0];
      const ha1 =
        (status === 401 || status === 407) && challenge && !authorization
          ? await this.#ha1ForRealm(target, unquote(challenge.realm) ?? target.sipDomain)
          : null;
      if (challenge && ha1) {
        authorization = authorizationFor({
          method: 'NOTIFY',
          uri: target.contact,
          username: target.extension,
          ha1,
          challenge,
        });
        seq++;
        continue;
      }
      const answered = status >= 200 && status < 300;
      return { answered, status, outcome: answered ? 'ok' : 'rejected', transmissions };
    }
  }

  /**
   * HA1 of the account for the realm a phone's challenge names: from the sealed password, so any realm works
   * (Grandstream ATAs challenge with their model as realm); the stored HA1 only fits the PBX's own realm.
   */
  async #ha1ForRealm(target: NotifyTarget, realm: string): Promise<string | null> {
    const key = this.#o.secretsKey;
    const sealed = key ? await findSealedSipPassword(this.#o.db, target.phoneId) : null;
    if (sealed && key) {
      try {
        return sipHa1(target.extension, realm, openSecret(sealed, key));
      } catch {
        this.#o.logger.error({ phoneId: target.phoneId }, 'SIP password does not open with SECRETS_KEY');
      }
    }
    return realm === target.sipDomain ? (target.ha1 ?? null) : null;
  }

  #notifyRequest(
    target: NotifyTarget,
    callId: string,
    fromTag: string,
    seq: number,
    authorization: Record<string, string> | undefined,
  ): SipMessage {
    const self = hostPort(this.#o.publicHost, this.#port);
    const [host, port] = [this.#o.publicHost, this.#port];
    return {
      method: 'NOTIFY',
      uri: target.contact,
      version: '2.0',
      headers: {
        via: [
          {
            version: '2.0',
            protocol: 'UDP',
            host,
            port,
            params: { branch: `z9hG4bK${randomToken(10)}`, rport: null },
          },
        ],
        'max-forwards': '70',
        from: { uri: `sip:${target.sipDomain}`, params: { tag: fromTag } },
        to: { uri: `sip:${target.extension}@${target.sipDomain}`, params: {} },
        'call-id': callId,
        cseq: { seq, method: 'NOTIFY' },
        contact: [{ uri: `sip:${self}`, params: {} }],
        event: target.event,
        'subscription-state': 'terminated',
        ...(authorization ? { authorization: [authorization] } : {}),
      },
      content: '',
    };
  }

  /** RFC 3261 17.1.2.2 over UDP. Resolves with the final response, or null after Timer F. */
  #runClientTransaction(
    rq: SipMessage,
    dest: { address: string; port: number },
  ): Promise<{ rs: SipMessage | null; sent: number }> {
    const branch = rq.headers.via[0]?.params.branch as string;
    const buf = Buffer.from(sip.stringify(rq), 'binary');
    const { t1Ms, t2Ms } = this.#o;
    return new Promise((resolve) => {
      let sent = 0;
      let interval = t1Ms;
      let proceeding = false;
      let timerE: NodeJS.Timeout | undefined;
      const transmit = () => {
        sent++;
        if (sent > 1) this.stats.retransmissions++;
        this.#send(buf, dest);
      };
      const scheduleE = () => {
        timerE = setTimeout(() => {
          transmit();
          // Trying: double up to T2. Proceeding: every T2.
          interval = proceeding ? t2Ms : Math.min(interval * 2, t2Ms);
          scheduleE();
        }, interval);
      };
      const timerF = setTimeout(() => tx.finish(null), 64 * t1Ms);
      const tx: ClientTransaction = {
        branch,
        finish: (rs) => {
          clearTimeout(timerE);
          clearTimeout(timerF);
          this.#client.delete(branch);
          resolve({ rs, sent });
        },
        onProvisional: () => {
          if (proceeding) return;
          proceeding = true;
          clearTimeout(timerE);
          interval = t2Ms;
          scheduleE();
        },
      };
      this.#client.set(branch, tx);
      transmit();
      scheduleE();
    });
  }
}

function unquote(v: string | undefined): string | undefined {
  return v !== undefined && v.length >= 2 && v.startsWith('"') && v.endsWith('"') ? v.slice(1, -1) : v;
}

/** RFC 3261 18.3: whether the datagram's body is shorter than its Content-Length says. */
export function bodyShorterThanContentLength(buf: Buffer): boolean {
  const end = buf.indexOf('\r\n\r\n');
  if (end < 0) return false;
  const head = buf.subarray(0, end).toString('latin1');
  const m = /^(?:content-length|l)[ \t]*:[ \t]*(\d+)[ \t]*$/im.exec(head);
  return m !== null && Number(m[1]) > buf.length - (end + 4);
}

/**
 * The contact to reach a registered phone at: the Contact it sent, unless it is behind NAT, which its top Via
 * shows (RFC 3581: it asked for rport and the datagram came from another address or port than the Via names);
 * then the Contact's user part at the source address. Null for a Contact that is not a SIP URI.
 */
export function storedContact(
  contactUri: string,
  via: SipVia,
  rinfo: { address: string; port: number },
): string | null {
  const uri = typeof contactUri === 'string' ? sip.parseUri(contactUri) : undefined;
  if (!uri?.host || (uri.schema !== 'sip' && uri.schema !== 'sips')) return null;
  const viaHost = String(via.host ?? '').replace(/^\[|\]$/g, '');
  const natted =
    'rport' in (via.params ?? {}) && (viaHost !== rinfo.address || (via.port ?? 5060) !== rinfo.port);
  if (!natted) return contactUri;
  const user = uri.user ? `${uri.user}@` : '';
  return `sip:${user}${hostPort(rinfo.address, rinfo.port)}`;
}
