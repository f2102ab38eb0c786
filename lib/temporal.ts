import { readFileSync } from 'node:fs';
import { Client, Connection, type ConnectionOptions } from '@temporalio/client';
import type { NativeConnection, NativeConnectionOptions } from '@temporalio/worker';
import { SEARCH_ATTRIBUTES } from '../workflows/search-attributes.ts';

/** temporal.api.enums.v1.IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD (all our search attributes are keywords). */
const INDEXED_VALUE_TYPE_KEYWORD = 2;

import type { Config } from './config.ts';

type TlsOptions = Exclude<ConnectionOptions['tls'], undefined | null>;

/** TLS and API key settings for a remote cluster or Temporal Cloud; plain TCP for the local dev server. */
function tlsOptions(config: Config): TlsOptions | false {
  const t = config.temporal.tls;
  if (!t) return false;
  const tls: Exclude<TlsOptions, boolean> = {};
  if (t.serverName) tls.serverNameOverride = t.serverName;
  if (t.caPath) tls.serverRootCACertificate = readFileSync(t.caPath);
  if (t.certPath && t.keyPath)
    tls.clientCertPair = { crt: readFileSync(t.certPath), key: readFileSync(t.keyPath) };
  return Object.keys(tls).length > 0 ? tls : true;
}

export function clientConnectionOptions(config: Config): ConnectionOptions {
  const tls = tlsOptions(config);
  return {
    address: config.temporal.address,
    ...(tls ? { tls } : {}),
    ...(config.temporal.apiKey ? { apiKey: config.temporal.apiKey } : {}),
  };
}

export function workerConnectionOptions(config: Config): NativeConnectionOptions {
  const tls = tlsOptions(config);
  return {
    address: config.temporal.address,
    ...(tls ? { tls } : {}),
    ...(config.temporal.apiKey ? { apiKey: config.temporal.apiKey } : {}),
  };
}

export async function connectClient(config: Config): Promise<Client> {
  const connection = await Connection.connect(clientConnectionOptions(config));
  return new Client({ connection, namespace: config.temporal.namespace });
}

/**
 * The search attributes the workflows set must exist on the namespace before a worker runs them: Temporal refuses a
 * workflow task that sets an unknown one, and the workflow would stall (every rollout start). At worker start the
 * missing ones are added (dev and self-hosted servers allow it); where that is refused (e.g. Temporal Cloud without
 * operator rights) the worker stops at once, naming the command that registers them.
 */
export async function ensureSearchAttributes(
  connection: NativeConnection,
  namespace: string,
  logger: { info(o: object, m: string): void },
): Promise<void> {
  const { customAttributes } = await connection.operatorService.listSearchAttributes({ namespace });
  const missing = Object.keys(SEARCH_ATTRIBUTES).filter((name) => !(name in (customAttributes ?? {})));
  if (missing.length === 0) return;
  try {
    await connection.operatorService.addSearchAttributes({
      namespace,
      searchAttributes: Object.fromEntries(missing.map((name) => [name, INDEXED_VALUE_TYPE_KEYWORD])),
    });
    logger.info({ namespace, added: missing }, 'search attributes registered');
  } catch (err) {
    const how = missing
      .map(
        (n) =>
          `temporal operator search-attribute create --namespace ${namespace} --name ${n} --type Keyword`,
      )
      .join('; ');
    throw new Error(
      `search attributes ${missing.join(', ')} are missing on namespace ${namespace} and could not be added ` +
        `(${err instanceof Error ? err.message : String(err)}): register them first: ${how}`,
    );
  }
}
