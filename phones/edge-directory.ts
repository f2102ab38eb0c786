/**
 * Short-lived caches of what every phone request looks up: the PBX (by id for provisioning, by SIP domain for
 * REGISTER) and the model catalog. 20,000 phones re-registering must not mean 20,000 identical PBX queries.
 */
import type { Db } from '../db/client.ts';
import {
  type EdgePbx,
  findEdgePbx,
  findEdgePbxBySipDomain,
  listPhoneModels,
  type PhoneModelRow,
} from '../db/queries/phones.ts';

class TtlCache<T> {
  readonly #ttlMs: number;
  readonly #entries = new Map<string, { until: number; value: Promise<T> }>();

  constructor(ttlMs: number) {
    this.#ttlMs = ttlMs;
  }

  forget(key: string): void {
    this.#entries.delete(key);
  }

  get(key: string, load: () => Promise<T>): Promise<T> {
    const now = Date.now();
    const hit = this.#entries.get(key);
    if (hit && hit.until > now) return hit.value;
    const value = load();
    this.#entries.set(key, { until: now + this.#ttlMs, value });
    value.catch(() => this.#entries.delete(key));
    if (this.#entries.size > 10_000) this.#sweep(now);
    return value;
  }

  #sweep(now: number) {
    for (const [k, e] of this.#entries) if (e.until <= now) this.#entries.delete(k);
  }
}

export class EdgeDirectory {
  readonly #db: Db;
  readonly #pbxById: TtlCache<EdgePbx | undefined>;
  readonly #pbxByDomain: TtlCache<EdgePbx | undefined>;
  readonly #models: TtlCache<PhoneModelRow[]>;

  constructor(db: Db, options: { ttlMs?: number } = {}) {
    this.#db = db;
    const ttl = options.ttlMs ?? 5_000;
    this.#pbxById = new TtlCache(ttl);
    this.#pbxByDomain = new TtlCache(ttl);
    this.#models = new TtlCache(ttl * 6);
  }

  pbx(pbxId: string): Promise<EdgePbx | undefined> {
    return this.#pbxById.get(pbxId, () => findEdgePbx(this.#db, pbxId));
  }

  pbxBySipDomain(domain: string): Promise<EdgePbx | undefined> {
    const d = domain.toLowerCase();
    return this.#pbxByDomain.get(d, () => findEdgePbxBySipDomain(this.#db, d));
  }

  /** The model catalog; `fresh` reloads it (a file no cached model uses may belong to a model added since). */
  models(options: { fresh?: boolean } = {}): Promise<PhoneModelRow[]> {
    if (options.fresh) this.#models.forget('all');
    return this.#models.get('all', () => listPhoneModels(this.#db));
  }
}
