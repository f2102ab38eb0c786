/**
 * A witness on the wire between a site's phones and its edge: a UDP relay that behaves like a NAT (each phone-side
 * socket gets its own upstream socket, and the phones' requests ask for rport, so the edge sees and stores the
 * relay's address as the phones' contact, RFC 3581) and records every NOTIFY transaction the edge sends (Call-ID + CSeq; retransmissions counted once).
 * The rehearsal reads this record, not the edge's or the simulator's own account, to prove no phone is notified
 * after its block completed.
 */
import { createSocket, type RemoteInfo, type Socket } from 'node:dgram';

export interface NotifySeen {
  at: number;
  /** The To header's user part: the phone's extension. */
  extension: string;
  /** The To header's host: the PBX's SIP domain. */
  domain: string;
  callId: string;
}

export interface SipTap {
  port: number;
  notifies(): NotifySeen[];
  close(): Promise<void>;
}

function header(text: string, name: string, short?: string): string | null {
  const re = new RegExp(`^(?:${name}${short ? `|${short}` : ''})\\s*:\\s*(.*)$`, 'im');
  return re.exec(text)?.[1]?.trim() ?? null;
}

/**
 * The phones' requests as a NAT with a SIP-aware router passes them: the top Via asks for rport (RFC 3581), so the
 * edge answers and NOTIFYs the address it saw — this relay's upstream socket, the witness's place on the wire.
 * Without it the edge rightly uses the phones' own Contact, and no NOTIFY would pass here.
 */
export function asBehindNat(buf: Buffer): Buffer {
  const text = buf.toString('latin1');
  if (text.startsWith('SIP/2.0')) return buf; // responses (to the edge's NOTIFYs) pass as they are
  const via = /^(Via|v)\s*:\s*([^\r\n]*)$/im.exec(text);
  if (!via || /;\s*rport\b/i.test(via[2] ?? '')) return buf;
  const line = via[0];
  const withRport = line.replace(/^((?:Via|v)\s*:\s*SIP\/2\.0\/UDP\s+[^;\s]+)/i, '$1;rport');
  return withRport === line ? buf : Buffer.from(text.replace(line, withRport), 'latin1');
}

export async function startSipTap(opts: {
  listenPort: number;
  edgePort: number;
  host?: string;
}): Promise<SipTap> {
  const host = opts.host ?? '127.0.0.1';
  const front = createSocket('udp4');
  const upstream = new Map<string, Socket>();
  const seen: NotifySeen[] = [];
  const transactions = new Set<string>();

  const record = (buf: Buffer) => {
    const text = buf.toString('latin1');
    if (!text.startsWith('NOTIFY ')) return;
    const callId = header(text, 'call-id', 'i') ?? '';
    const cseq = header(text, 'cseq') ?? '';
    const key = `${callId}\0${cseq}`;
    if (transactions.has(key)) return;
    transactions.add(key);
    const to = /sip:([^@>;\s]+)@([^>;\s]+)/i.exec(header(text, 'to', 't') ?? '');
    seen.push({ at: Date.now(), extension: to?.[1] ?? '?', domain: to?.[2] ?? '?', callId });
  };

  const upstreamFor = async (phone: RemoteInfo): Promise<Socket> => {
    const key = `${phone.address}:${phone.port}`;
    const existing = upstream.get(key);
    if (existing) return existing;
    const s = createSocket('udp4');
    upstream.set(key, s);
    s.on('message', (buf) => {
      record(buf);
      front.send(buf, phone.port, phone.address);
    });
    s.on('error', () => {});
    await new Promise<void>((r) => s.bind(0, host, () => r()));
    return s;
  };

  front.on('message', (buf, rinfo) => {
    void upstreamFor(rinfo).then((s) => s.send(asBehindNat(buf), opts.edgePort, host));
  });
  front.on('error', () => {});
  await new Promise<void>((r) => front.bind(opts.listenPort, host, () => r()));
  return {
    port: opts.listenPort,
    notifies: () => [...seen],
    async close() {
      for (const s of [front, ...upstream.values()]) await new Promise<void>((r) => s.close(() => r()));
    },
  };
}
