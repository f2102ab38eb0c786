/**
 * ed25519 signatures over the canonical catalog payload (node:crypto). The firmware server signs; the PBX side
 * verifies with a public key it was configured with (R3: a catalog nobody vouches for changes nothing).
 * Public keys travel as base64 of the raw 32 bytes (easy to paste into an env var) or as PEM (SPKI).
 */
import {
  createHash,
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  type KeyObject,
  sign,
  verify,
} from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Config } from './config.ts';

export interface CatalogKeyPair {
  privateKeyPem: string;
  /** base64 of the raw 32-byte public key. */
  publicKey: string;
}

export function generateCatalogKeyPair(): CatalogKeyPair {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  return {
    privateKeyPem: privateKey.export({ format: 'pem', type: 'pkcs8' }).toString(),
    publicKey: rawPublicKeyBase64(publicKey),
  };
}

export function privateKeyFromPem(pem: string): KeyObject {
  const key = createPrivateKey(pem);
  if (key.asymmetricKeyType !== 'ed25519') throw new Error('catalog signing key must be ed25519');
  return key;
}

/** The raw 32 bytes of an ed25519 public key, base64. */
export function rawPublicKeyBase64(key: KeyObject): string {
  const jwk = key.export({ format: 'jwk' });
  if (jwk.crv !== 'Ed25519' || typeof jwk.x !== 'string') throw new Error('not an ed25519 public key');
  return Buffer.from(jwk.x, 'base64url').toString('base64');
}

/** Accepts base64 of the raw 32-byte key or a PEM public key; anything else is a clear error. */
export function parseCatalogPublicKey(text: string): KeyObject {
  const trimmed = text.trim();
  if (trimmed.startsWith('-----BEGIN')) {
    const key = createPublicKey(trimmed);
    if (key.asymmetricKeyType !== 'ed25519') throw new Error('catalog public key (PEM) is not ed25519');
    return key;
  }
  if (!/^[A-Za-z0-9+/_-]+={0,2}$/.test(trimmed)) {
    throw new Error('catalog public key must be base64 of 32 raw bytes or a PEM public key');
  }
  const raw = Buffer.from(trimmed, trimmed.includes('-') || trimmed.includes('_') ? 'base64url' : 'base64');
  if (raw.length !== 32) {
    throw new Error(`catalog public key must be 32 raw bytes (ed25519), got ${raw.length}`);
  }
  return createPublicKey({
    key: { kty: 'OKP', crv: 'Ed25519', x: raw.toString('base64url') },
    format: 'jwk',
  });
}

/** A short, stable name for a key (first 16 hex digits of sha256 over the raw key). */
export function catalogKeyId(key: KeyObject): string {
  return createHash('sha256')
    .update(Buffer.from(rawPublicKeyBase64(key), 'base64'))
    .digest('hex')
    .slice(0, 16);
}

export function signCatalogPayload(privateKey: KeyObject, payload: string): string {
  return sign(null, Buffer.from(payload, 'utf8'), privateKey).toString('base64');
}

export function verifyCatalogPayload(
  publicKey: KeyObject,
  payload: string,
  signatureBase64: string,
): boolean {
  const signature = Buffer.from(signatureBase64, 'base64');
  if (signature.length !== 64) return false;
  try {
    return verify(null, Buffer.from(payload, 'utf8'), publicKey, signature);
  } catch {
    return false;
  }
}

/** File names of the reference server's key pair inside its data dir. */
export const SIGNING_PRIVATE_KEY_FILE = 'catalog-signing-key.pem';
export const SIGNING_PUBLIC_KEY_FILE = 'catalog-public.key';

/**
 * The key the PBX side trusts: CATALOG_PUBLIC_KEY, else the file CATALOG_PUBLIC_KEY_FILE, else the public key the
 * local reference firmware server of this deployment wrote into its data dir (the `npm start` setup).
 */
export function loadCatalogPublicKey(config: Config): KeyObject {
  const fs = config.firmwareServer;
  if (fs.publicKey) return parseCatalogPublicKey(fs.publicKey);
  const file = fs.publicKeyFile ?? join(fs.dataDir, SIGNING_PUBLIC_KEY_FILE);
  if (!existsSync(file)) {
    throw new Error(
      `no catalog public key: set CATALOG_PUBLIC_KEY (base64 raw ed25519 key or PEM) or CATALOG_PUBLIC_KEY_FILE (${file} does not exist)`,
    );
  }
  return parseCatalogPublicKey(readFileSync(file, 'utf8'));
}
