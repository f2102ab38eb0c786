/**
 * One shared answer per key for at most `ttlMs` (issue 14: "one cached answer per PBX per second"). Concurrent
 * callers of a key share one load (single flight); an answer is never older than `ttlMs` measured from the moment
 * its load started, so what a caller sees is at most that old. A failed load is not kept: the next caller loads
 * again. `ttlMs` 0 turns caching off. At most `maxKeys` answers are kept (the oldest is dropped first).
 */
export class AnswerCache<V> {
  readonly #entries = new Map<string, { at: number; value: Promise<V> }>();
  readonly #ttlMs: number;
  readonly #maxKeys: number;
  readonly #now: () => number;

  constructor(ttlMs: number, options: { maxKeys?: number; now?: () => number } = {}) {
    this.#ttlMs = ttlMs;
    this.#maxKeys = options.maxKeys ?? 10_000;
    this.#now = options.now ?? (() => performance.now());
  }

  get(key: string, load: () => Promise<V>): Promise<V> {
    if (this.#ttlMs <= 0) return load();
    const now = this.#now();
    const kept = this.#entries.get(key);
    if (kept && now - kept.at < this.#ttlMs) return kept.value;
    const entry = { at: now, value: load() };
    this.#entries.delete(key);
    this.#entries.set(key, entry);
    entry.value.catch(() => {
      if (this.#entries.get(key) === entry) this.#entries.delete(key);
    });
    if (this.#entries.size > this.#maxKeys) {
      const oldest = this.#entries.keys().next().value;
      if (oldest !== undefined) this.#entries.delete(oldest);
    }
    return entry.value;
  }

  /** Forgets a key's answer (after a change this process made, so its next read sees the change). */
  delete(key: string): void {
    this.#entries.delete(key);
  }

  /** Forgets every answer. */
  clear(): void {
    this.#entries.clear();
  }

  get size(): number {
    return this.#entries.size;
  }
}
