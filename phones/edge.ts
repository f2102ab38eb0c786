/**
 * The phone edge: provisioning HTTP and the SIP endpoint, run inside the worker that serves the `phones` task
 * queue, so block updates (activities/update-block.ts) send NOTIFYs from the same socket phones register to and
 * hear in-process when a phone reports back.
 */
import { EventEmitter } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { ActivityDeps } from '../activities/deps.ts';
import { AuthThrottle, type AuthThrottleOptions } from './auth-throttle.ts';
import { EdgeDirectory } from './edge-directory.ts';
import { ProvisioningCredentials } from './provisioning/basic-auth.ts';
import { createProvisioningHandler } from './provisioning/server.ts';
import { SipEndpoint } from './sip-endpoint.ts';

export interface PhoneEdgeOptions {
  /** 0 = any free port (tests). */
  provisioningPort: number;
  sipPort: number;
  /** Address both listen on, e.g. 0.0.0.0 or 127.0.0.1. */
  host: string;
  /** Public base URL of provisioning (PROVISIONING_PUBLIC_URL); default: the Host header phones used. */
  provisioningPublicUrl?: string | undefined;
  /** Address phones send SIP to (SIP_PUBLIC_HOST); default: `host` unless it is a wildcard. */
  sipPublicHost?: string | undefined;
  /** The port phones send SIP to, when a port mapping sits in front of the edge (SIP_PUBLIC_PORT); default: sipPort. */
  sipPublicPort?: number | undefined;
  /** RFC 3261 T1/T2 in ms (tests shorten them). */
  sipTimers?: { t1Ms?: number; t2Ms?: number } | undefined;
  /** Provisioning HTTP: time to receive a request's headers, and the whole request (slow-loris bound). */
  httpTimeouts?: { headersMs?: number; requestMs?: number } | undefined;
  /** Credential failures per source address before it is throttled (provisioning and SIP share one count). */
  authThrottle?: AuthThrottleOptions | undefined;
}

/** Emits `phone` with the account id whenever the edge records something about that phone. */
export type PhoneChanges = EventEmitter<{ phone: [phoneId: number] }>;

export interface PhoneEdge {
  /** Base URL of provisioning without the `/p/<pbxId>/` part, e.g. `http://127.0.0.1:8180`. */
  provisioningUrl: string;
  /** What a PBX's phones are configured with. */
  provisioningUrlFor(pbxId: string): string;
  sipPort: number;
  sip: SipEndpoint;
  changes: PhoneChanges;
  close(): Promise<void>;
}

export async function startPhoneEdge(deps: ActivityDeps, options: PhoneEdgeOptions): Promise<PhoneEdge> {
  const changes: PhoneChanges = new EventEmitter();
  changes.setMaxListeners(0);
  const onPhoneChange = (id: number) => changes.emit('phone', id);
  const directory = new EdgeDirectory(deps.db);
  const throttle = new AuthThrottle(options.authThrottle);
  const sip = await SipEndpoint.start({
    db: deps.db,
    logs: deps.logs,
    secretsKey: deps.config.secretsKey,
    throttle,
    logger: deps.logger.child({ part: 'sip' }),
    directory,
    host: options.host,
    port: options.sipPort,
    publicHost: options.sipPublicHost,
    t1Ms: options.sipTimers?.t1Ms,
    t2Ms: options.sipTimers?.t2Ms,
    onPhoneChange,
  });
  const provisioning = createProvisioningHandler({
    db: deps.db,
    logs: deps.logs,
    logger: deps.logger.child({ part: 'provisioning' }),
    directory,
    credentials: new ProvisioningCredentials(),
    throttle,
    secretsKey: deps.config.secretsKey,
    dirs: {
      firmwareStoreDir: deps.config.firmwareStoreDir,
      imageFirmwareDir: deps.config.imageFirmwareDir,
    },
    sipServer: { host: sip.publicHost, port: options.sipPublicPort ?? sip.port },
    publicUrl: options.provisioningPublicUrl,
    onPhoneChange,
  });
  const headersMs = options.httpTimeouts?.headersMs ?? 10_000;
  const server: Server = createServer(
    {
      keepAliveTimeout: 30_000,
      headersTimeout: headersMs,
      // Receiving the request, not sending the response: a firmware download may take long, a request may not.
      requestTimeout: options.httpTimeouts?.requestMs ?? 30_000,
      connectionsCheckingInterval: Math.min(1_000, headersMs),
      maxHeaderSize: 16 * 1024,
    },
    provisioning.listener,
  );
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(options.provisioningPort, options.host, () => {
        server.off('error', reject);
        resolve();
      });
    });
  } catch (err) {
    await sip.close();
    throw err;
  }
  const port = (server.address() as AddressInfo).port;
  const wildcard = options.host === '0.0.0.0' || options.host === '::';
  const provisioningUrl = (
    options.provisioningPublicUrl ?? `http://${wildcard ? sip.publicHost : options.host}:${port}`
  ).replace(/\/$/, '');
  deps.logger.info({ provisioningUrl, sipPort: sip.port }, 'phone edge listening');
  return {
    provisioningUrl,
    provisioningUrlFor: (pbxId) => `${provisioningUrl}/p/${pbxId}/`,
    sipPort: sip.port,
    sip,
    changes,
    async close() {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      await closed;
      await provisioning.drain();
      await sip.close();
    },
  };
}
