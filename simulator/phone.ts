/**
 * One simulated phone, booting the way the vendors describe it: fetch the provisioning files, take the SIP line
 * from them (user, password, domain, outbound proxy), register with digest auth and its vendor's SIP User-Agent
 * (re-registering before expiry); a firmware the files offer is downloaded, "flashed" for a while, and the phone
 * reboots: provisioning with the new version and a new registration (new Call-ID). A NOTIFY with an event its
 * vendor acts on (identity.ts ACCEPTED_EVENTS) makes it re-provision; others get 489.
 * Failure injection: offline (never registers), download-aborts, never-returns (dies while flashing),
 * returns-old-version (reboots on the version it had), refuses-notify (481).
 */
import { createHash, randomBytes } from 'node:crypto';
import type { SipMessage } from 'sip';
import digest from 'sip/digest.js';
import { versionOfImage } from './firmware-image.ts';
import { ACCEPTED_EVENTS, sipUserAgent } from './identity.ts';
import {
  downloadFirmware,
  type FirmwareOffer,
  fetchProvisioning,
  type HttpContext,
  type SipLine,
} from './provisioning-client.ts';
import type { Answer, SimSipTransport } from './sip-transport.ts';
import type { SimPhoneSpec } from './types.ts';

export type PhoneState = 'off' | 'registering' | 'idle' | 'updating' | 'flashing' | 'dead';

export interface PhoneEnvironment {
  transport: SimSipTransport;
  http: HttpContext;
  /** Where a phone that does not provision at boot registers (provisioned phones take it from their files). */
  sip: { host: string; port: number; domain: string };
  flashMs: number;
  /** Requested registration interval, seconds. */
  expires: number;
  /**
   * How long a phone waits before it retries a REGISTER that failed (no answer, refused), ms. Phones keep
   * retrying: Yealink's `account.X.reg_fail_retry_interval` defaults to 30 s (Yealink W60P/W53P and T5x
   * administrator guides, "SIP Registration Retry Timer").
   */
  registerRetryMs: number;
  /** Fetch provisioning after each boot, as phones do. */
  provisionAtBoot: boolean;
  onError(phone: SimPhone, where: string, err: unknown): void;
}

function token(bytes = 6): string {
  return randomBytes(bytes).toString('hex');
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export class SimPhone {
  readonly spec: SimPhoneSpec;
  readonly socketIndex: number;
  readonly contactUser: string;
  readonly #env: PhoneEnvironment;
  version: string;
  state: PhoneState = 'off';
  registered = false;
  /** NOTIFY transactions received (retransmissions not counted). */
  notifies = 0;
  registrations = 0;
  downloads = 0;
  abortedDownloads = 0;
  flashes = 0;
  errors = 0;
  /** What went wrong last (where and why), for stats and tests. */
  lastError: string | null = null;
  readonly #applied = new Set<string>();
  /** The SIP line from the last provisioning (null before it, or when the files gave none). */
  line: SipLine | null = null;
  readonly #notifyNonces = new Set<string>();
  #callId = '';
  #fromTag = '';
  #cseq = 0;
  #refresh: NodeJS.Timeout | undefined;
  #stopped = false;

  constructor(spec: SimPhoneSpec, socketIndex: number, contactUser: string, env: PhoneEnvironment) {
    this.spec = spec;
    this.socketIndex = socketIndex;
    this.contactUser = contactUser;
    this.#env = env;
    this.version = spec.version;
  }

  /**
   * Power on. With provisioning at boot (what phones do): fetch the files, flash an offered firmware first (then
   * boot again), otherwise register with the line the files gave. Without it: register with the spec's credentials.
   * An offline phone stays off.
   */
  async boot(): Promise<void> {
    if (this.spec.failure === 'offline' || this.#stopped) return;
    this.#callId = `${token(10)}@${this.#env.transport.host}`;
    this.#fromTag = token(4);
    this.#cseq = 0;
    this.state = 'registering';
    if (this.#env.provisionAtBoot) {
      const offer = await this.#provision();
      // A firmware on offer at boot is flashed first; the phone comes back through boot() again.
      if (offer && !this.#applied.has(offer.url) && (await this.#update(offer))) return;
      if (this.#stopped) return;
      this.state = 'registering';
    }
    await this.register();
    this.state = 'idle';
  }

  stop() {
    this.#stopped = true;
    clearTimeout(this.#refresh);
    this.state = 'off';
  }

  /** The line to register with: from the provisioning files, or (no provisioning at boot) from the spec. */
  #lineToUse(): SipLine | null {
    if (this.#env.provisionAtBoot) return this.line;
    const { sip } = this.#env;
    return {
      user: this.spec.extension,
      authUser: this.spec.extension,
      password: this.spec.sipPassword ?? '',
      domain: sip.domain,
      proxy: { host: sip.host, port: sip.port },
    };
  }

  #registerRequest(line: SipLine): SipMessage {
    const { transport } = this.#env;
    const port = transport.portOf(this.socketIndex);
    const aor = `sip:${line.user}@${line.domain}`;
    return {
      method: 'REGISTER',
      uri: `sip:${line.domain}`,
      version: '2.0',
      headers: {
        via: [
          {
            version: '2.0',
            protocol: 'UDP',
            host: transport.host,
            port,
            params: { branch: transport.newBranch(), rport: null },
          },
        ],
        'max-forwards': '70',
        to: { uri: aor, params: {} },
        from: { uri: aor, params: { tag: this.#fromTag } },
        'call-id': this.#callId,
        cseq: { seq: ++this.#cseq, method: 'REGISTER' },
        contact: [
          {
            uri: `sip:${this.contactUser}@${transport.host}:${port}`,
            params: { expires: String(this.#env.expires) },
          },
        ],
        'user-agent': sipUserAgent(this.spec, this.version),
        'allow-events': 'check-sync, resync',
      },
      content: '',
    };
  }

  /** REGISTER, answering the digest challenge. Returns whether the phone is registered. */
  async register(): Promise<boolean> {
    const line = this.#lineToUse();
    if (!line) {
      this.registered = false;
      this.#env.onError(this, 'register', new Error('its provisioning files configure no SIP line'));
      return false;
    }
    const { transport } = this.#env;
    const dest = { address: line.proxy.host, port: line.proxy.port };
    let rq = this.#registerRequest(line);
    let rs = await transport.request(this.socketIndex, rq, dest);
    if (rs?.status === 401 || rs?.status === 407) {
      rq = this.#registerRequest(line);
      const useHa1 = !this.#env.provisionAtBoot && this.spec.sipHa1 && !this.spec.sipPassword;
      digest.signRequest(null, rq, rs, {
        user: line.authUser,
        ...(useHa1 ? { hash: this.spec.sipHa1 } : { password: line.password }),
      });
      rs = await transport.request(this.socketIndex, rq, dest);
    }
    this.registered = rs?.status === 200;
    if (!this.registered) {
      this.#env.onError(this, 'register', new Error(`REGISTER answered ${rs?.status ?? 'nothing'}`));
      // Like a real phone, it tries again after its registration retry timer.
      clearTimeout(this.#refresh);
      this.#refresh = setTimeout(() => {
        if (!this.#stopped && (this.state === 'idle' || this.state === 'updating')) void this.register();
      }, this.#env.registerRetryMs);
      this.#refresh.unref();
      return false;
    }
    this.registrations++;
    const contacts = rs?.headers.contact;
    const granted = Array.isArray(contacts) ? Number(contacts[0]?.params.expires) : Number.NaN;
    const seconds = Number.isFinite(granted) && granted > 0 ? granted : this.#env.expires;
    // Refresh a little early, spread so a fleet does not re-register in one burst.
    const inMs = seconds * 1000 * (0.8 + Math.random() * 0.1);
    clearTimeout(this.#refresh);
    this.#refresh = setTimeout(() => {
      if (this.state === 'idle' || this.state === 'updating') void this.register();
    }, inMs);
    this.#refresh.unref();
    return true;
  }

  /**
   * A phone that challenges NOTIFYs (Grandstream ATAs with NOTIFY authentication on) asks for digest with its
   * model as realm and checks the answer against the password of its line (RFC 3261 22.4).
   */
  #notifyAuthorized(rq: SipMessage): Answer | null {
    const realm = this.spec.model;
    const creds = rq.headers.authorization?.find((a) => a.realm?.replace(/"/g, '') === realm);
    const line = this.line;
    if (creds && line) {
      const unq = (v: string | undefined) => v?.replace(/^"|"$/g, '') ?? '';
      const nonce = unq(creds.nonce);
      const ha1 = createHash('md5').update(`${line.authUser}:${realm}:${line.password}`).digest('hex');
      const expected = digest.calculateDigest({
        ha1,
        method: 'NOTIFY',
        nonce,
        uri: unq(creds.uri),
        ...(creds.qop ? { qop: unq(creds.qop), nc: unq(creds.nc), cnonce: unq(creds.cnonce) } : {}),
      });
      if (
        this.#notifyNonces.delete(nonce) &&
        unq(creds.username) === line.authUser &&
        expected === unq(creds.response)
      ) {
        return null;
      }
    }
    const nonce = token(8);
    this.#notifyNonces.add(nonce);
    return {
      status: 401,
      headers: {
        'www-authenticate': [
          { scheme: 'Digest', realm: `"${realm}"`, nonce: `"${nonce}"`, algorithm: 'MD5', qop: '"auth"' },
        ],
      },
    };
  }

  /** An incoming request for this phone; the answer, or null when it cannot answer. */
  onRequest(rq: SipMessage): Answer | null {
    if (this.state === 'off' || this.state === 'flashing' || this.state === 'dead' || this.#stopped)
      return null;
    if (rq.method === 'OPTIONS') return { status: 200 };
    if (rq.method !== 'NOTIFY') return { status: 405 };
    if (this.spec.failure === 'refuses-notify') return { status: 481 };
    const event = String(rq.headers.event ?? '')
      .split(';')[0]
      ?.trim()
      .toLowerCase();
    if (!event || !ACCEPTED_EVENTS[this.spec.vendor].includes(event)) return { status: 489 };
    if (this.spec.notifyAuth) {
      const challenge = this.#notifyAuthorized(rq);
      if (challenge) return challenge;
    }
    this.notifies++;
    if (this.state === 'idle') queueMicrotask(() => void this.#provisionAndUpdate());
    return { status: 200 };
  }

  /** Fetches the provisioning files; keeps the line they configure; returns the firmware they offer. */
  async #provision(): Promise<FirmwareOffer | null> {
    try {
      const got = await fetchProvisioning(this.#env.http, this.spec, this.version);
      this.line = got.line;
      return got.offer;
    } catch (err) {
      this.errors++;
      this.#env.onError(this, 'provisioning', err);
      return null;
    }
  }

  async #provisionAndUpdate(): Promise<void> {
    this.state = 'updating';
    const offer = await this.#provision();
    // A phone does not flash the same image twice (it remembers what it last applied).
    if (!offer || this.#applied.has(offer.url)) {
      this.state = 'idle';
      return;
    }
    await this.#update(offer);
  }

  /** Downloads and flashes; true when the phone went into flashing (and reboots), false when the download failed. */
  async #update(offer: FirmwareOffer): Promise<boolean> {
    this.downloads++;
    let image: Awaited<ReturnType<typeof downloadFirmware>>;
    try {
      image = await downloadFirmware(
        this.#env.http,
        this.spec,
        this.version,
        offer.url,
        this.spec.failure === 'download-aborts' ? 1 : undefined,
      );
    } catch (err) {
      this.errors++;
      this.#env.onError(this, 'download', err);
      this.state = 'idle';
      return false;
    }
    if (!image.complete) {
      this.abortedDownloads++;
      this.state = 'idle';
      return false;
    }
    const newVersion =
      versionOfImage(image.head) ??
      offer.version ??
      /(\d+(?:\.\d+){2,})/.exec(decodeURIComponent(offer.url.split('/').pop() ?? ''))?.[1] ??
      this.version;
    this.#applied.add(offer.url);
    this.state = 'flashing';
    this.registered = false;
    clearTimeout(this.#refresh);
    if (this.#env.flashMs > 0) await sleep(this.#env.flashMs);
    this.flashes++;
    if (this.#stopped) return true;
    if (this.spec.failure === 'never-returns') {
      this.state = 'dead';
      return true;
    }
    if (this.spec.failure !== 'returns-old-version') this.version = newVersion;
    await this.boot();
    return true;
  }
}
