/**
 * HTTP basic auth of phones against the PBX's provisioning credentials (user + scrypt hash). A verified answer is
 * cached briefly, keyed by a hash of what was presented, so a fleet re-provisioning at once costs one scrypt,
 * not one per phone; a wrong password is cached too, so guessing stays as slow as scrypt makes it.
 */
import { createHash } from 'node:crypto';
import type { EdgePbx } from '../../db/queries/phones.ts';
import { verifySecret } from '../../lib/secrets.ts';

export type CredentialVerdict = 'ok' | 'missing' | 'wrong';

export function parseBasicAuth(header: string | undefined): { user: string; password: string } | null {
  const m = header ? /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(header) : null;
  if (!m) return null;
  const decoded = Buffer.from(m[1] as string, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) return null;
  return { user: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
}

export class ProvisioningCredentials {
  readonly #ttlMs: number;
  readonly #cache = new Map<string, { until: number; verdict: Promise<boolean> }>();

  constructor(options: { ttlMs?: number } = {}) {
    this.#ttlMs = options.ttlMs ?? 60_000;
  }

  async check(pbx: EdgePbx, authorization: string | undefined): Promise<CredentialVerdict> {
    const creds = parseBasicAuth(authorization);
    if (!creds) return 'missing';
    if (creds.user !== pbx.provisioningUser) return 'wrong';
    // The stored hash is part of the key: a changed secret invalidates what was cached for the old one.
    const key = createHash('sha256')
      .update(`${pbx.id}\0${pbx.provisioningSecretHash}\0${creds.user}\0${creds.password}`)
      .digest('base64');
    const now = Date.now();
    let hit = this.#cache.get(key);
    if (!hit || hit.until <= now) {
      hit = { until: now + this.#ttlMs, verdict: verifySecret(creds.password, pbx.provisioningSecretHash) };
      this.#cache.set(key, hit);
      if (this.#cache.size > 10_000) {
        for (const [k, e] of this.#cache) if (e.until <= now) this.#cache.delete(k);
      }
    }
    return (await hit.verdict) ? 'ok' : 'wrong';
  }
}
