/**
 * A phone edge (a worker with the `phones` role) tells where phones reach it in its Temporal worker identity, so
 * whoever reads the phones queue's pollers (/health) can check each edge's SIP and HTTP from outside:
 *   `<pid>@<host> edge sip=<host>:<port> http=<provisioning base URL>`
 */

import { randomBytes } from 'node:crypto';
import { createSocket } from 'node:dgram';
import { hostname } from 'node:os';

export function edgeIdentity(sip: { host: string; port: number }, httpUrl: string): string {
  return `${process.pid}@${hostname()} edge sip=${sip.host}:${sip.port} http=${httpUrl}`;
}

export function parseEdgeIdentity(
  identity: string,
): { sip: { host: string; port: number }; http: string } | null {
  const m = / edge sip=(\S+):(\d+) http=(\S+)/.exec(identity);
  if (!m) return null;
  return { sip: { host: m[1] as string, port: Number(m[2]) }, http: m[3] as string };
}

export interface Liveness {
  ok: boolean;
  ms: number;
  detail: string;
}

/** Any HTTP answer from the provisioning base URL means the edge's HTTP side is up. */
export async function probeHttp(url: string, timeoutMs = 2000): Promise<Liveness> {
  const started = performance.now();
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
    await res.body?.cancel();
    return { ok: true, ms: Math.round(performance.now() - started), detail: `HTTP ${res.status}` };
  } catch (err) {
    return {
      ok: false,
      ms: Math.round(performance.now() - started),
      detail: err instanceof Error ? err.message : String(err),
    };
  }
}

/** RFC 3261 11: an OPTIONS request; any final response means the edge's SIP side is up. */
export async function probeSip(target: { host: string; port: number }, timeoutMs = 2000): Promise<Liveness> {
  const started = performance.now();
  const socket = createSocket('udp4');
  try {
    await new Promise<void>((resolve) => socket.bind(0, '0.0.0.0', () => resolve()));
    const { port } = socket.address();
    const branch = `z9hG4bK${randomBytes(8).toString('hex')}`;
    const callId = randomBytes(10).toString('hex');
    const uri = `sip:${target.host}:${target.port}`;
    const msg = [
      `OPTIONS ${uri} SIP/2.0`,
      `Via: SIP/2.0/UDP 127.0.0.1:${port};branch=${branch};rport`,
      'Max-Forwards: 70',
      `From: <sip:health@127.0.0.1>;tag=${randomBytes(4).toString('hex')}`,
      `To: <${uri}>`,
      `Call-ID: ${callId}`,
      'CSeq: 1 OPTIONS',
      'Content-Length: 0',
      '',
      '',
    ].join('\r\n');
    const answer = new Promise<string>((resolve) => {
      socket.on('message', (buf) => {
        const text = buf.toString('latin1');
        if (text.startsWith('SIP/2.0 ') && text.includes(callId)) resolve(text.split('\r\n')[0] as string);
      });
    });
    socket.send(msg, target.port, target.host);
    const status = await Promise.race([
      answer,
      new Promise<null>((resolve) => setTimeout(() => resolve(null), timeoutMs).unref()),
    ]);
    const ms = Math.round(performance.now() - started);
    return status
      ? { ok: true, ms, detail: status }
      : { ok: false, ms, detail: `no SIP answer within ${timeoutMs} ms` };
  } catch (err) {
    return {
      ok: false,
      ms: Math.round(performance.now() - started),
      detail: err instanceof Error ? err.message : String(err),
    };
  } finally {
    socket.close();
  }
}
