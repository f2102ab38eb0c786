/**
 * Group commit for hot, small statements: calls that arrive while earlier ones are on their way to Postgres are
 * sent together as ONE statement (one round trip, one commit) when those return. Nobody waits on a timer: a
 * lone call goes out at the next turn of the event loop, exactly as it would alone, and its caller still awaits
 * its own row being written — only the number of statements shrinks under load (the phone edge at fleet scale
 * spent most of its CPU sending one statement per phone contact).
 *
 *  - Calls with the same key (e.g. the same phone) never share a batch and keep their order: a later write of a
 *    row waits until the earlier one is done, so "last write wins" holds as it did with one statement each.
 *  - A batch that fails is retried call by call, so one bad value fails its own caller only, never its
 *    neighbours (without that, a phone sending a byte Postgres refuses would fail every phone batched with it).
 */

export interface BatcherOptions<I, O> {
  /** Runs one statement for all items; returns one result per item, in the same order. */
  run(items: I[]): Promise<O[]>;
  /** Items with equal keys never go in the same batch, and run in the order they were added. */
  key?(item: I): unknown;
  /** At most this many items per statement (default 500). */
  maxBatch?: number;
  /** Statements of this batcher on their way at once (default 1: the next batch gathers while one is answered). */
  maxInFlight?: number;
}

interface Pending<I, O> {
  item: I;
  resolve(value: O): void;
  reject(err: unknown): void;
}

export class Batcher<I, O> {
  readonly #run: (items: I[]) => Promise<O[]>;
  readonly #key: (item: I) => unknown;
  readonly #maxBatch: number;
  readonly #maxInFlight: number;
  #queue: Pending<I, O>[] = [];
  readonly #busyKeys = new Map<unknown, number>();
  #inFlight = 0;
  #scheduled = false;
  readonly #idle = new Set<() => void>();
  /** Statements run and items written, for benchmarks. */
  readonly stats = { statements: 0, items: 0 };

  constructor(options: BatcherOptions<I, O>) {
    this.#run = options.run;
    let n = 0;
    this.#key = options.key ?? (() => n++);
    this.#maxBatch = options.maxBatch ?? 500;
    this.#maxInFlight = options.maxInFlight ?? 1;
  }

  add(item: I): Promise<O> {
    return new Promise<O>((resolve, reject) => {
      this.#queue.push({ item, resolve, reject });
      this.#schedule();
    });
  }

  /** Resolves once nothing is queued or on its way. */
  drain(): Promise<void> {
    if (this.#queue.length === 0 && this.#inFlight === 0) return Promise.resolve();
    return new Promise((resolve) => this.#idle.add(resolve));
  }

  #schedule() {
    if (this.#scheduled) return;
    this.#scheduled = true;
    // Calls made in the same turn of the event loop (datagrams and requests read together) go out together.
    setImmediate(() => {
      this.#scheduled = false;
      this.#flush();
    });
  }

  #flush() {
    while (this.#inFlight < this.#maxInFlight && this.#queue.length > 0) {
      const batch = this.#take();
      if (batch.length === 0) break;
      this.#inFlight++;
      const keys = batch.map((p) => this.#key(p.item));
      for (const k of keys) this.#busyKeys.set(k, (this.#busyKeys.get(k) ?? 0) + 1);
      void this.#send(batch).finally(() => {
        this.#inFlight--;
        for (const k of keys) {
          const left = (this.#busyKeys.get(k) ?? 1) - 1;
          if (left === 0) this.#busyKeys.delete(k);
          else this.#busyKeys.set(k, left);
        }
        this.#flush();
        if (this.#queue.length === 0 && this.#inFlight === 0) {
          for (const done of this.#idle) done();
          this.#idle.clear();
        }
      });
    }
  }

  /** The next batch: queued items in order, skipping (and holding back everything behind) a key in use. */
  #take(): Pending<I, O>[] {
    const batch: Pending<I, O>[] = [];
    const rest: Pending<I, O>[] = [];
    const held = new Set<unknown>();
    for (const p of this.#queue) {
      const k = this.#key(p.item);
      if (batch.length >= this.#maxBatch || held.has(k) || this.#busyKeys.has(k)) {
        held.add(k);
        rest.push(p);
        continue;
      }
      held.add(k);
      batch.push(p);
    }
    this.#queue = rest;
    return batch;
  }

  async #send(batch: Pending<I, O>[]): Promise<void> {
    this.stats.statements++;
    this.stats.items += batch.length;
    let results: O[];
    try {
      results = await this.#run(batch.map((p) => p.item));
      if (results.length !== batch.length) {
        throw new Error(`batch returned ${results.length} results for ${batch.length} items`);
      }
    } catch (err) {
      if (batch.length === 1) {
        (batch[0] as Pending<I, O>).reject(err);
        return;
      }
      // One item may be to blame: each goes again on its own, so only its own caller sees the failure.
      await Promise.all(
        batch.map(async (p) => {
          this.stats.statements++;
          try {
            const [one] = await this.#run([p.item]);
            p.resolve(one as O);
          } catch (e) {
            p.reject(e);
          }
        }),
      );
      return;
    }
    batch.forEach((p, i) => {
      p.resolve(results[i] as O);
    });
  }
}
