/**
 * A fleet of simulated phones in one process. Phones share a few UDP sockets (routing NOTIFYs by contact user)
 * and one bounded HTTP agent, and boot staggered with a cap on concurrent boots, so 20,000 phones fit in one
 * process without 20,000 sockets or a registration storm.
 */
import type { Logger } from '../lib/logger.ts';
import { type PhoneEnvironment, SimPhone } from './phone.ts';
import { createHttpContext } from './provisioning-client.ts';
import { SimSipTransport } from './sip-transport.ts';
import { FAILURES, type Failure, type FleetSpec } from './types.ts';

export interface FleetOptions {
  /** How long a phone "flashes" before it reboots; realistic default one minute, 0 in benchmarks. */
  flashMs?: number;
  /** Local address the phones use. */
  bindHost?: string;
  /** Shared UDP sockets; default one per 2,500 phones. */
  sockets?: number;
  /** Requested registration interval in seconds. */
  expires?: number;
  /** Retry a failed REGISTER after this many ms (phones default to 30 s). */
  registerRetryMs?: number;
  /** Boots spread over this many ms (default: 2 ms per phone, at most 60 s). */
  bootSpreadMs?: number;
  /** At most this many phones booting at once. */
  maxConcurrentBoots?: number;
  /** HTTP connections to the provisioning server for the whole fleet. */
  httpConnections?: number;
  provisionAtBoot?: boolean;
  /** Share of phones (0..1) given each failure, chosen reproducibly from `seed`; per-phone specs win. */
  failures?: Partial<Record<Failure, number>>;
  seed?: number;
  sipTimers?: { t1Ms?: number; t2Ms?: number };
  logger?: Logger;
}

export interface FleetStats {
  phones: number;
  registered: number;
  states: Record<string, number>;
  notifies: number;
  registrations: number;
  downloads: number;
  abortedDownloads: number;
  flashes: number;
  errors: number;
  versions: Record<string, number>;
  sip: SimSipTransport['stats'];
}

export interface Fleet {
  phones: SimPhone[];
  /** Resolves when every phone has booted (registered, or failed to). */
  booted: Promise<void>;
  byMac(mac: string): SimPhone | undefined;
  stats(): FleetStats;
  close(): Promise<void>;
}

/** mulberry32: a small seeded PRNG, so failure injection by share picks the same phones every run. */
function prng(seed: number) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Assigns failures by share to phones without one; exact counts (rounded), reproducible order. */
export function assignFailures(
  count: number,
  preset: Array<Failure | undefined>,
  shares: Partial<Record<Failure, number>>,
  seed: number,
): Array<Failure | undefined> {
  const out = [...preset];
  const free = out.flatMap((f, i) => (f === undefined ? [i] : []));
  const rand = prng(seed);
  for (let i = free.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [free[i], free[j]] = [free[j] as number, free[i] as number];
  }
  let next = 0;
  for (const failure of FAILURES) {
    const share = shares[failure] ?? 0;
    if (share < 0 || share > 1)
      throw new Error(`failure share for ${failure} must be within 0..1, got ${share}`);
    const n = Math.round(share * count);
    for (let k = 0; k < n && next < free.length; k++) out[free[next++] as number] = failure;
  }
  return out;
}

export async function startFleet(spec: FleetSpec, options: FleetOptions = {}): Promise<Fleet> {
  const n = spec.phones.length;
  const failures = assignFailures(
    n,
    spec.phones.map((p) => p.failure),
    options.failures ?? {},
    options.seed ?? 1,
  );
  const transport = await SimSipTransport.open(
    options.bindHost ?? '127.0.0.1',
    options.sockets ?? Math.max(1, Math.ceil(n / 2_500)),
    options.sipTimers,
  );
  const http = createHttpContext(spec.provisioning, options.httpConnections ?? 64);
  const logger = options.logger;
  const env: PhoneEnvironment = {
    transport,
    http,
    sip: spec.sip,
    flashMs: options.flashMs ?? 60_000,
    expires: options.expires ?? 3_600,
    registerRetryMs: options.registerRetryMs ?? 30_000,
    provisionAtBoot: options.provisionAtBoot ?? true,
    onError(phone, where, err) {
      phone.lastError = `${where}: ${String(err)}`;
      logger?.debug({ mac: phone.spec.mac, where, err: String(err) }, 'simulated phone error');
    },
  };
  const phones = spec.phones.map(
    (p, i) => new SimPhone({ ...p, failure: failures[i] }, i % transport.socketCount, `p${i}`, env),
  );
  const byContact = new Map(phones.map((p) => [p.contactUser, p]));
  const byMac = new Map(phones.map((p) => [p.spec.mac, p]));
  transport.onRequest((_socket, rq, user) => {
    const phone = user ? byContact.get(user) : undefined;
    return phone ? phone.onRequest(rq) : { status: 404 };
  });

  let closed = false;
  const booted = (async () => {
    const spreadMs = options.bootSpreadMs ?? Math.min(60_000, n * 2);
    const maxBooting = options.maxConcurrentBoots ?? 256;
    const start = Date.now();
    // A counting gate, not Promise.race over the running boots (which would pile up reactions per iteration).
    let running = 0;
    let freed: (() => void) | null = null;
    for (let i = 0; i < n && !closed; i++) {
      const due = start + (n > 1 ? (spreadMs * i) / (n - 1) : 0);
      const wait = due - Date.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      while (running >= maxBooting) await new Promise<void>((r) => (freed = r));
      running++;
      void (phones[i] as SimPhone).boot().finally(() => {
        running--;
        const wake = freed;
        freed = null;
        wake?.();
      });
    }
    while (running > 0) await new Promise<void>((r) => (freed = r));
  })();

  return {
    phones,
    booted,
    byMac: (mac) => byMac.get(mac.toLowerCase()),
    stats() {
      const states: Record<string, number> = {};
      const versions: Record<string, number> = {};
      const s = {
        registered: 0,
        notifies: 0,
        registrations: 0,
        downloads: 0,
        abortedDownloads: 0,
        flashes: 0,
        errors: 0,
      };
      for (const p of phones) {
        states[p.state] = (states[p.state] ?? 0) + 1;
        versions[p.version] = (versions[p.version] ?? 0) + 1;
        if (p.registered) s.registered++;
        s.notifies += p.notifies;
        s.registrations += p.registrations;
        s.downloads += p.downloads;
        s.abortedDownloads += p.abortedDownloads;
        s.flashes += p.flashes;
        s.errors += p.errors;
      }
      return { phones: n, ...s, states, versions, sip: { ...transport.stats } };
    },
    async close() {
      closed = true;
      for (const p of phones) p.stop();
      await transport.close();
      await http.agent.destroy();
    },
  };
}
