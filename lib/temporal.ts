import { readFileSync } from 'node:fs';
import { Client, Connection, type ConnectionOptions } from '@temporalio/client';
import type { NativeConnectionOptions } from '@temporalio/worker';
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
