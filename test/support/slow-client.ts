/**
 * A careless or hostile HTTP client (issue 11, item 6): sends a request head (and maybe part of a body) over a raw
 * socket and never the rest, then reports what the server answered and when it closed the connection.
 */
import { connect } from 'node:net';

export interface SlowClientOutcome {
  /** The first line the server sent (`HTTP/1.1 408 Request Timeout`), or null when it sent nothing. */
  statusLine: string | null;
  /** Milliseconds from the first byte sent until the server closed the connection. */
  closedAfterMs: number;
}

export async function sendIncompleteRequest(
  url: string,
  text: string,
  giveUpAfterMs: number,
): Promise<SlowClientOutcome> {
  const { hostname, port } = new URL(url);
  const socket = connect({ host: hostname, port: Number(port) });
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });
  const started = performance.now();
  let received = '';
  socket.on('data', (d) => {
    received += d.toString('latin1');
  });
  socket.write(text);
  const closed = await new Promise<boolean>((resolve) => {
    const timer = setTimeout(() => resolve(false), giveUpAfterMs);
    socket.once('close', () => {
      clearTimeout(timer);
      resolve(true);
    });
    socket.once('error', () => undefined);
  });
  const closedAfterMs = closed ? Math.round(performance.now() - started) : Number.POSITIVE_INFINITY;
  socket.destroy();
  return { statusLine: received ? (received.split('\r\n')[0] ?? null) : null, closedAfterMs };
}
