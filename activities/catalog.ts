/**
 * Catalog sync from the central firmware server (R1, R3), with undici:
 *  - conditional GET (If-None-Match with the stored ETag; 304 = nothing to do),
 *  - the signature verified against the configured public key before anything is parsed into the database,
 *  - replay protection (a lower serial than stored is a rollback),
 *  - timeouts, and errors classified: network trouble, timeouts, 5xx, 408, 429 are retryable (thrown, Temporal
 *    retries); a bad signature, a schema violation, a rollback or another 4xx are not (returned as `rejected`,
 *    nothing changes).
 */
import { ApplicationFailure } from '@temporalio/common';
import { request } from 'undici';
import { applyCatalog, getCatalogState } from '../db/queries/catalog.ts';
import { parseCatalogPayload, signedCatalogSchema } from '../domain/catalog.ts';
import { loadCatalogPublicKey, verifyCatalogPayload } from '../lib/catalog-signing.ts';
import type { ActivityDeps } from './deps.ts';

/** Error type of retryable failures to reach the firmware server (Temporal ApplicationFailure.type). */
export const FIRMWARE_SERVER_UNAVAILABLE = 'FirmwareServerUnavailable';

const MAX_CATALOG_BYTES = 16 * 1024 * 1024;

export type CatalogSyncResult =
  | {
      ok: true;
      status: 'updated' | 'not-modified' | 'same-serial';
      serial: number;
      etag: string | null;
      releasesAdded?: string[];
      releasesWithdrawn?: string[];
      modelsAdded?: string[];
    }
  | { ok: false; kind: 'signature' | 'schema' | 'rollback' | 'http' | 'key'; error: string; serial: number };

/** `<FIRMWARE_SERVER_URL>/<path>`, keeping a base path if the server lives under one. */
export function firmwareServerUrl(base: string, path: string): string {
  return `${base.replace(/\/+$/, '')}/${path.replace(/^\/+/, '')}`;
}

/** Retryable when the cause is the network or the server being unwell rather than what it said. */
export function isRetryableStatus(status: number): boolean {
  return status >= 500 || status === 408 || status === 429;
}

export function unavailable(message: string, cause?: unknown): ApplicationFailure {
  return ApplicationFailure.create({
    message,
    type: FIRMWARE_SERVER_UNAVAILABLE,
    nonRetryable: false,
    ...(cause instanceof Error ? { cause } : {}),
  });
}

function describeNetworkError(err: unknown): string {
  if (err instanceof Error) {
    const code = (err as NodeJS.ErrnoException).code;
    return code ? `${code}: ${err.message}` : err.message;
  }
  return String(err);
}

export async function syncCatalog(
  deps: ActivityDeps,
  options: { signal?: AbortSignal } = {},
): Promise<CatalogSyncResult> {
  const { db, config } = deps;
  const state = await getCatalogState(db);
  const reject = (
    kind: Exclude<CatalogSyncResult, { ok: true }>['kind'],
    error: string,
  ): CatalogSyncResult => ({
    ok: false,
    kind,
    error,
    serial: state.serial,
  });

  let publicKey: ReturnType<typeof loadCatalogPublicKey>;
  try {
    publicKey = loadCatalogPublicKey(config);
  } catch (err) {
    return reject('key', err instanceof Error ? err.message : String(err));
  }

  const url = firmwareServerUrl(config.firmwareServer.url, 'catalog.json');
  let res: Awaited<ReturnType<typeof request>>;
  try {
    res = await request(url, {
      method: 'GET',
      headers: { accept: 'application/json', ...(state.etag ? { 'if-none-match': state.etag } : {}) },
      headersTimeout: config.firmwareServer.httpTimeoutMs,
      bodyTimeout: config.firmwareServer.httpTimeoutMs,
      signal: options.signal ?? null,
    });
  } catch (err) {
    throw unavailable(`firmware server unreachable (${url}): ${describeNetworkError(err)}`, err);
  }

  if (res.statusCode === 304) {
    await res.body.dump();
    return { ok: true, status: 'not-modified', serial: state.serial, etag: state.etag };
  }
  if (res.statusCode !== 200) {
    const text = (await res.body.text().catch(() => '')).slice(0, 200).trim();
    const message = `firmware server answered ${res.statusCode} for ${url}${text ? `: ${text}` : ''}`;
    if (isRetryableStatus(res.statusCode)) throw unavailable(message);
    return reject('http', message);
  }
  const length = Number(res.headers['content-length'] ?? 0);
  if (length > MAX_CATALOG_BYTES) {
    await res.body.dump();
    return reject('schema', `catalog too large (${length} bytes)`);
  }
  let text: string;
  try {
    text = await res.body.text();
  } catch (err) {
    throw unavailable(`catalog body from ${url} broke off: ${describeNetworkError(err)}`, err);
  }
  const etag = typeof res.headers.etag === 'string' ? res.headers.etag : null;

  let envelope: unknown;
  try {
    envelope = JSON.parse(text);
  } catch {
    return reject('schema', 'catalog response is not JSON');
  }
  const signed = signedCatalogSchema.safeParse(envelope);
  if (!signed.success)
    return reject('schema', 'catalog response is not a signed catalog ({ payload, signature, keyId })');
  if (!verifyCatalogPayload(publicKey, signed.data.payload, signed.data.signature)) {
    return reject(
      'signature',
      `catalog signature does not verify (keyId ${signed.data.keyId}): rejected, nothing changed`,
    );
  }
  const parsed = parseCatalogPayload(signed.data.payload);
  if (!parsed.ok) return reject('schema', parsed.error);

  const applied = await applyCatalog(db, parsed.catalog, etag);
  if (applied.status === 'rollback') {
    return reject(
      'rollback',
      `catalog serial ${applied.incoming} is lower than the stored ${applied.serial} (rollback): rejected, nothing changed`,
    );
  }
  if (applied.status === 'same') return { ok: true, status: 'same-serial', serial: applied.serial, etag };
  return {
    ok: true,
    status: 'updated',
    serial: applied.serial,
    etag,
    releasesAdded: applied.releasesAdded,
    releasesWithdrawn: applied.releasesWithdrawn,
    modelsAdded: applied.modelsAdded,
  };
}
