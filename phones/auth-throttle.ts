/**
 * Throttles repeated authentication failures per source address (provisioning Basic auth and SIP digest alike):
 * after `maxFailures` failures within `windowMs`, the address is refused without a credential check until the
 * window has passed since its last failure. Guessing a provisioning secret or a SIP password from one address
 * becomes that slow; a phone that knows its credentials never fails and is never throttled.
 */
export interface AuthThrottleOptions {
  maxFailures?: number;
  windowMs?: number;
  /** Addresses tracked at most (oldest dropped first), so a flood of sources cannot grow memory without bound. */
  maxAddresses?: number;
}

export interface FailureVerdict {
  /** This failure is the one that started the throttle (journal it once, not at every refused request). */
  throttledNow: boolean;
  failures: number;
}

export class AuthThrottle {
  readonly #max: number;
  readonly #windowMs: number;
  readonly #maxAddresses: number;
  readonly #byAddress = new Map<string, { failures: number; last: number }>();

  constructor(options: AuthThrottleOptions = {}) {
    this.#max = options.maxFailures ?? 10;
    this.#windowMs = options.windowMs ?? 60_000;
    this.#maxAddresses = options.maxAddresses ?? 10_000;
  }

  /** Milliseconds until the address may try again; 0 when it is not throttled. */
  retryAfterMs(address: string, now = Date.now()): number {
    const e = this.#byAddress.get(address);
    if (!e) return 0;
    const left = e.last + this.#windowMs - now;
    if (left <= 0) {
      this.#byAddress.delete(address);
      return 0;
    }
    return e.failures >= this.#max ? left : 0;
  }

  failed(address: string, now = Date.now()): FailureVerdict {
    let e = this.#byAddress.get(address);
    if (!e || e.last + this.#windowMs <= now) e = { failures: 0, last: now };
    e.failures++;
    e.last = now;
    this.#byAddress.delete(address);
    this.#byAddress.set(address, e);
    if (this.#byAddress.size > this.#maxAddresses) {
      const oldest = this.#byAddress.keys().next().value;
      if (oldest !== undefined) this.#byAddress.delete(oldest);
    }
    return { throttledNow: e.failures === this.#max, failures: e.failures };
  }

  succeeded(address: string): void {
    this.#byAddress.delete(address);
  }
}
