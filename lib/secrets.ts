import {
  createCipheriv,
  createDecipheriv,
  createHash,
  createHmac,
  createSecretKey,
  type KeyObject,
  randomBytes,
  scrypt as scryptCb,
  timingSafeEqual,
} from 'node:crypto';
import { promisify } from 'node:util';

const scrypt = promisify(scryptCb) as (password: string, salt: Buffer, keylen: number) => Promise<Buffer>;

/** A random secret for people or phones to present (URL-safe, 32 bytes of entropy by default). */
export function generateSecret(bytes = 32): string {
  return randomBytes(bytes).toString('base64url');
}

/** `scrypt$<salt b64>$<hash b64>`: for secrets the system must only verify (provisioning passwords). */
export async function hashSecret(secret: string): Promise<string> {
  const salt = randomBytes(16);
  const hash = await scrypt(secret, salt, 32);
  return `scrypt$${salt.toString('base64')}$${hash.toString('base64')}`;
}

/**
 * `hmac-sha256$<salt b64>$<hash b64>`: for secrets the system generated itself (generateSecret: 192 bits and more
 * of entropy), such as a PBX's provisioning password. Guessing them is hopeless whatever the hash costs, so a slow
 * KDF buys nothing and cost 45 ms of CPU per PBX registered (and per provisioning credential verified); the salt
 * still keeps equal secrets from having equal hashes. Passwords people choose belong in hashSecret.
 */
export function hashGeneratedSecret(secret: string): string {
  const salt = randomBytes(16);
  const hash = createHmac('sha256', salt).update(secret).digest();
  return `hmac-sha256$${salt.toString('base64')}$${hash.toString('base64')}`;
}

/** Checks a secret against either stored form (hashSecret's scrypt, hashGeneratedSecret's HMAC). */
export async function verifySecret(secret: string, stored: string): Promise<boolean> {
  const [scheme, saltB64, hashB64] = stored.split('$');
  if (!saltB64 || !hashB64) return false;
  const expected = Buffer.from(hashB64, 'base64');
  const salt = Buffer.from(saltB64, 'base64');
  let actual: Buffer;
  if (scheme === 'scrypt') actual = await scrypt(secret, salt, expected.length);
  else if (scheme === 'hmac-sha256') actual = createHmac('sha256', salt).update(secret).digest();
  else return false;
  return actual.length === expected.length && timingSafeEqual(actual, expected);
}

/**
 * API tokens are high-entropy random strings, so a fast unsalted SHA-256 is enough to store them and lets the
 * API find a token by its hash in one indexed lookup.
 */
export function hashToken(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

/** SIP digest HA1 = MD5(user:realm:password) (RFC 2617), stored instead of the SIP password of a phone account. */
export function sipHa1(user: string, realm: string, password: string): string {
  return createHash('md5').update(`${user}:${realm}:${password}`).digest('hex');
}

const aesKeys = new Map<string, KeyObject>();

/**
 * The AES-256 key behind SECRETS_KEY (any string of 16+ characters; SHA-256 spreads it over 32 bytes), derived
 * once per key: every provisioning file opens a sealed password with it.
 */
function aesKey(secretsKey: string): KeyObject {
  let key = aesKeys.get(secretsKey);
  if (!key) {
    key = createSecretKey(createHash('sha256').update(`pfd-secrets-v1\0${secretsKey}`).digest());
    if (aesKeys.size > 16) aesKeys.clear();
    aesKeys.set(secretsKey, key);
  }
  return key;
}

/**
 * Secrets the system must hand out again (a phone's SIP password goes into its provisioning file): AES-256-GCM
 * with the SECRETS_KEY, stored as `v1.<iv>.<tag>.<ciphertext>` (base64url). A changed key or a tampered value
 * does not open (openSecret throws), so a wrong password is never served.
 */
export function sealSecret(plain: string, secretsKey: string): string {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', aesKey(secretsKey), iv);
  const body = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final()]);
  return ['v1', iv, cipher.getAuthTag(), body]
    .map((p) => (typeof p === 'string' ? p : p.toString('base64url')))
    .join('.');
}

export function openSecret(sealed: string, secretsKey: string): string {
  const [version, iv, tag, body] = sealed.split('.');
  if (version !== 'v1' || iv === undefined || tag === undefined || body === undefined) {
    throw new Error('not a sealed secret');
  }
  const decipher = createDecipheriv('aes-256-gcm', aesKey(secretsKey), Buffer.from(iv, 'base64url'));
  decipher.setAuthTag(Buffer.from(tag, 'base64url'));
  return Buffer.concat([decipher.update(Buffer.from(body, 'base64url')), decipher.final()]).toString('utf8');
}
