/** The admin API on a real HTTP server, with the header and request timeouts of lib/http-timeouts.ts. */
import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import type { Config } from '../lib/config.ts';
import { httpServerOptions } from '../lib/http-timeouts.ts';

export interface ApiServer {
  url: string;
  port: number;
  close(): Promise<void>;
  /**
   * Stops accepting, lets in-flight requests finish within `graceMs` (an Update may wait for its workflow), then
   * closes what is left. True when everything finished in time.
   */
  drain(graceMs: number): Promise<boolean>;
}

export async function startApiServer(
  fetch: (req: Request) => Response | Promise<Response>,
  api: Pick<Config['api'], 'host' | 'port' | 'headersTimeoutMs' | 'requestTimeoutMs'>,
): Promise<ApiServer> {
  const server = await new Promise<ReturnType<typeof serve>>((resolve, reject) => {
    const s = serve(
      { fetch, hostname: api.host, port: api.port, serverOptions: httpServerOptions(api) },
      () => resolve(s),
    );
    s.once('error', reject);
  });
  const { port, address } = server.address() as AddressInfo;
  const host = address === '0.0.0.0' || address === '::' ? '127.0.0.1' : address;
  return {
    url: `http://${host.includes(':') ? `[${host}]` : host}:${port}`,
    port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        (server as unknown as { closeAllConnections?: () => void }).closeAllConnections?.();
      }),
    async drain(graceMs) {
      const conns = server as unknown as {
        closeIdleConnections?: () => void;
        closeAllConnections?: () => void;
      };
      const drained = new Promise<boolean>((resolve) => server.close(() => resolve(true)));
      conns.closeIdleConnections?.();
      const grace = new Promise<boolean>((resolve) => setTimeout(() => resolve(false), graceMs).unref());
      const finished = await Promise.race([drained, grace]);
      if (!finished) conns.closeAllConnections?.();
      return finished;
    },
  };
}
