/**
 * Timeouts every HTTP server of the system sets (issue 11, item 6): a client that sends its headers slowly, or
 * announces a Content-Length it never sends, is answered 408 and disconnected instead of holding a connection open
 * until it gives up. Node checks these deadlines every `connectionsCheckingInterval`, so that interval is kept
 * well below them.
 */
import type { ServerOptions } from 'node:http';

export interface HttpTimeouts {
  /** The request line and headers must arrive within this time. */
  headersTimeoutMs: number;
  /** The whole request (headers and body) must arrive within this time. */
  requestTimeoutMs: number;
}

export function httpServerOptions(t: HttpTimeouts): ServerOptions {
  const requestTimeout = Math.max(t.requestTimeoutMs, t.headersTimeoutMs);
  return {
    headersTimeout: t.headersTimeoutMs,
    requestTimeout,
    connectionsCheckingInterval: Math.max(50, Math.min(1_000, Math.floor(t.headersTimeoutMs / 4))),
    keepAliveTimeout: 5_000,
  };
}
