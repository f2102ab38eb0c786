/**
 * SIP digest authentication (RFC 3261 22, RFC 2617) for REGISTER, realm = the PBX's SIP domain. The server keeps
 * only HA1 per account; nonces are stateless (time + HMAC), so any worker can verify any nonce it issued.
 */
import { createHmac, createSecretKey, type KeyObject, randomBytes, timingSafeEqual } from 'node:crypto';
import digest from 'sip/digest.js';

/** HA1 = MD5(extension:realm:password), what `phone_accounts.sip_ha1` stores (the admin API computes it too). */
export { sipHa1 } from '../lib/secrets.ts';

function unquote(v: string | undefined): string | undefined {
  if (v === undefined) return undefined;
  return v.length >= 2 && v.startsWith('"') && v.endsWith('"') ? v.slice(1, -1) : v;
}

export class NonceIssuer {
  /** A KeyObject, prepared once (a raw Buffer key is prepared again by every HMAC). */
  readonly #secret: KeyObject;
  readonly #maxAgeMs: number;

  constructor(options: { secret?: Buffer; maxAgeMs?: number } = {}) {
    this.#secret = createSecretKey(options.secret ?? randomBytes(32));
    this.#maxAgeMs = options.maxAgeMs ?? 5 * 60_000;
  }

  #mac(stamp: string, realm: string): string {
    return createHmac('sha256', this.#secret).update(`${stamp}:${realm}`).digest('base64url').slice(0, 22);
  }

  issue(realm: string, now = Date.now()): string {
    const stamp = now.toString(36);
    return `${stamp}.${this.#mac(stamp, realm)}`;
  }

  /** 'ok', 'stale' (ours but too old: the client retries with the new nonce) or 'forged'. */
  check(nonce: string, realm: string, now = Date.now()): 'ok' | 'stale' | 'forged' {
    const [stamp, mac] = nonce.split('.');
    if (!stamp || !mac) return 'forged';
    const want = Buffer.from(this.#mac(stamp, realm));
    const got = Buffer.from(mac);
    if (want.length !== got.length || !timingSafeEqual(want, got)) return 'forged';
    const issued = Number.parseInt(stamp, 36);
    return now - issued > this.#maxAgeMs || issued > now + 60_000 ? 'stale' : 'ok';
  }
}

export interface DigestChallenge {
  scheme: 'Digest';
  realm: string;
  nonce: string;
  algorithm: 'MD5';
  qop: string;
  stale?: string;
}

export function challengeFor(realm: string, nonces: NonceIssuer, stale = false): DigestChallenge {
  return {
    scheme: 'Digest',
    realm: `"${realm}"`,
    nonce: `"${nonces.issue(realm)}"`,
    algorithm: 'MD5',
    qop: '"auth"',
    ...(stale ? { stale: 'true' } : {}),
  };
}

export type DigestVerdict = 'ok' | 'stale' | 'wrong' | 'missing';

/**
 * Checks the Authorization header of a request against the account's HA1. `username` must be the account, the
 * realm ours, the nonce ours and fresh, and the response right (qop=auth or RFC 2069 without qop).
 */
export function verifyDigest(input: {
  method: string;
  authorization: Array<Record<string, string>> | undefined;
  realm: string;
  username: string;
  ha1: string;
  nonces: NonceIssuer;
}): DigestVerdict {
  const creds = input.authorization?.find(
    (a) => a.scheme?.toLowerCase() === 'digest' && unquote(a.realm) === input.realm,
  );
  if (!creds) return 'missing';
  const nonce = unquote(creds.nonce);
  const uri = unquote(creds.uri);
  const response = unquote(creds.response)?.toLowerCase();
  if (!nonce || !uri || !response || unquote(creds.username) !== input.username) return 'wrong';
  const algorithm = unquote(creds.algorithm)?.toLowerCase();
  if (algorithm && algorithm !== 'md5') return 'wrong';
  const qop = unquote(creds.qop)?.toLowerCase();
  if (qop && qop !== 'auth') return 'wrong';
  const expected = digest.calculateDigest({
    ha1: input.ha1,
    method: input.method,
    nonce,
    uri,
    ...(qop ? { qop, nc: unquote(creds.nc) ?? '', cnonce: unquote(creds.cnonce) ?? '' } : {}),
  });
  const a = Buffer.from(expected);
  const b = Buffer.from(response);
  if (a.length !== b.length || !timingSafeEqual(a, b)) return 'wrong';
  const fresh = input.nonces.check(nonce, input.realm);
  if (fresh === 'forged') return 'wrong';
  return fresh === 'stale' ? 'stale' : 'ok';
}

/** Answers a challenge from a phone (a NOTIFY a phone wants authenticated) with the account's HA1. */
export function authorizationFor(input: {
  method: string;
  uri: string;
  username: string;
  ha1: string;
  challenge: Record<string, string>;
}): Record<string, string> {
  const realm = unquote(input.challenge.realm) ?? '';
  const nonce = unquote(input.challenge.nonce) ?? '';
  const qops = (unquote(input.challenge.qop) ?? '').split(',').map((q) => q.trim().toLowerCase());
  const qop = qops.includes('auth') ? 'auth' : undefined;
  const cnonce = randomBytes(8).toString('hex');
  const nc = '00000001';
  const response = digest.calculateDigest({
    ha1: input.ha1,
    method: input.method,
    nonce,
    uri: input.uri,
    ...(qop ? { qop, nc, cnonce } : {}),
  });
  return {
    scheme: 'Digest',
    username: `"${input.username}"`,
    realm: `"${realm}"`,
    nonce: `"${nonce}"`,
    uri: `"${input.uri}"`,
    algorithm: 'MD5',
    response: `"${response}"`,
    ...(input.challenge.opaque ? { opaque: input.challenge.opaque } : {}),
    ...(qop ? { qop, nc, cnonce: `"${cnonce}"` } : {}),
  };
}
