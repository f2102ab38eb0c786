/**
 * One simulated phone: registers with digest auth and its vendor's SIP User-Agent (and re-registers before
 * expiry), answers a check-sync/resync NOTIFY, provisions the vendor's way, downloads the offered firmware,
 * "flashes" for a while and reboots: a new registration (new Call-ID) and provisioning with the new version.
 * Failure injection: offline (never registers), download-aborts, never-returns (dies while flashing),
 * returns-old-version (reboots on the version it had).
 */
import { randomBytes } from 'node:crypto';
import type { SipMessage } from 'sip';
import digest from 'sip/digest.js';
import { versionOfImage } from './firmware-image.ts';
import { sipUserAgent } from './identity.ts';
import {
  downloadFirmware,
  type FirmwareOffer,
  fetchProvisioning,
  type HttpContext,
} from './provisioning-client.ts';
import type { SimSipTransport } from './sip-transport.ts';
import type { SimPhoneSpec } from './types.ts';

export type PhoneState = 'off' | 'registering' | 'idle' | 'updating' | 'flashing' | 'dead';

export interface PhoneEnvironment {
  transport: SimSipTransport;
  http: HttpContext;
  sip: { host: string; port: number; domain: string };
  flashMs: number;
  /** Requested registration interval, seconds. */
  expires: number;
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
  readonly #applied = new Set<string>();
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

  /** Power on: register, then provision. An offline phone stays off. */
  async boot(): Promise<void> {
    if (this.spec.failure === 'offline' || this.#stopped) return;
    this.#callId = `${token(10)}@${this.#env.transport.host}`;
    this.#fromTag = token(4);
    this.#cseq = 0;
    this.state = 'registering';
    await this.register();
    this.state = 'idle';
    if (this.#env.provisionAtBoot && this.registered) await this.#provisionAndUpdate();
  }

  stop() {
    this.#stopped = true;
    clearTimeout(this.#refresh);
    this.state = 'off';
  }

  #registerRequest(): SipMessage {
    const { transport, sip: server } = this.#env;
    const port = transport.portOf(this.socketIndex);
    const aor = `sip:${this.spec.extension}@${server.domain}`;
    return {
      method: 'REGISTER',
      uri: `sip:${server.domain}`,
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
    const { transport, sip: server } = this.#env;
    const dest = { address: server.host, port: server.port };
    let rq = this.#registerRequest();
    let rs = await transport.request(this.socketIndex, rq, dest);
    if (rs?.status === 401 || rs?.status === 407) {
      rq = this.#registerRequest();
      digest.signRequest(null, rq, rs, {
        user: this.spec.extension,
        ...(this.spec.sipHa1 ? { hash: this.spec.sipHa1 } : { password: this.spec.sipPassword ?? '' }),
      });
      rs = await transport.request(this.socketIndex, rq, dest);
    }
    this.registered = rs?.status === 200;
    if (!this.registered) {
      this.#env.onError(this, 'register', new Error(`REGISTER answered ${rs?.status ?? 'nothing'}`));
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

  /** An incoming request for this phone; the status to answer with, or null when it cannot answer. */
  onRequest(rq: SipMessage): number | null {
    if (this.state === 'off' || this.state === 'flashing' || this.state === 'dead' || this.#stopped)
      return null;
    if (rq.method === 'OPTIONS') return 200;
    if (rq.method !== 'NOTIFY') return 405;
    this.notifies++;
    const event = String(rq.headers.event ?? '').trim();
    if (!/^(check-sync|resync)\b/i.test(event)) return 489;
    if (this.state === 'idle') queueMicrotask(() => void this.#provisionAndUpdate());
    return 200;
  }

  async #provisionAndUpdate(): Promise<void> {
    this.state = 'updating';
    let offer: FirmwareOffer | null;
    try {
      offer = await fetchProvisioning(this.#env.http, this.spec, this.version);
    } catch (err) {
      this.errors++;
      this.#env.onError(this, 'provisioning', err);
      this.state = 'idle';
      return;
    }
    // A phone does not flash the same image twice (it remembers what it last applied).
    if (!offer || this.#applied.has(offer.url)) {
      this.state = 'idle';
      return;
    }
    await this.#update(offer);
  }

  async #update(offer: FirmwareOffer): Promise<void> {
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
      return;
    }
    if (!image.complete) {
      this.abortedDownloads++;
      this.state = 'idle';
      return;
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
    if (this.#stopped) return;
    if (this.spec.failure === 'never-returns') {
      this.state = 'dead';
      return;
    }
    if (this.spec.failure !== 'returns-old-version') this.version = newVersion;
    await this.boot();
  }
}
