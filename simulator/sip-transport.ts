/**
 * The simulator's SIP transport: a few shared UDP sockets for the whole fleet instead of one per phone. Each
 * phone has a distinct contact user part (`sip:<contactUser>@<host>:<port>`), which routes incoming NOTIFYs.
 * Client transactions (REGISTER) retransmit per RFC 3261 17.1.2.2; a retransmitted incoming request gets the
 * response it got the first time, without reaching the phone again.
 */
import { randomBytes } from 'node:crypto';
import { createSocket, type RemoteInfo, type Socket } from 'node:dgram';
import sip, { type SipMessage, type SipVia } from 'sip';

/** What to answer: a status and extra headers (the transport builds the response). */
export interface Answer {
  status: number;
  headers?: Record<string, unknown>;
}

/** Returns the answer, or null to stay silent. */
export type IncomingRequestHandler = (
  socketIndex: number,
  rq: SipMessage,
  contactUser: string | undefined,
) => Answer | null;

const REASONS: Record<number, string> = {
  200: 'OK',
  401: 'Unauthorized',
  404: 'Not Found',
  405: 'Method Not Allowed',
  481: 'Call/Transaction Does Not Exist',
  489: 'Bad Event',
};

interface PendingRequest {
  finish(rs: SipMessage | null): void;
  onProvisional(): void;
}

export class SimSipTransport {
  readonly host: string;
  readonly #sockets: Socket[];
  readonly #ports: number[] = [];
  readonly #pending = new Map<string, PendingRequest>();
  readonly #answered = new Map<string, { until: number; response: Buffer }>();
  readonly #t1Ms: number;
  readonly #t2Ms: number;
  readonly #sweeper: NodeJS.Timeout;
  #handler: IncomingRequestHandler = () => ({ status: 481 });
  readonly stats = { sent: 0, received: 0, retransmissions: 0, timeouts: 0 };

  private constructor(host: string, count: number, timers: { t1Ms: number; t2Ms: number }) {
    this.host = host;
    this.#t1Ms = timers.t1Ms;
    this.#t2Ms = timers.t2Ms;
    this.#sockets = Array.from({ length: count }, (_, i) => {
      const s = createSocket({ type: 'udp4' });
      s.on('message', (buf, rinfo) => this.#onMessage(i, buf, rinfo));
      s.on('error', () => {});
      return s;
    });
    this.#sweeper = setInterval(() => {
      const now = Date.now();
      for (const [k, e] of this.#answered) {
        if (e.until > now) break;
        this.#answered.delete(k);
      }
    }, 1_000);
    this.#sweeper.unref();
  }

  static async open(
    host: string,
    count: number,
    timers: { t1Ms?: number; t2Ms?: number } = {},
  ): Promise<SimSipTransport> {
    const t = new SimSipTransport(host, Math.max(1, count), {
      t1Ms: timers.t1Ms ?? 500,
      t2Ms: timers.t2Ms ?? 4_000,
    });
    for (const s of t.#sockets) {
      await new Promise<void>((resolve, reject) => {
        s.once('error', reject);
        s.bind(0, host, () => {
          s.off('error', reject);
          s.setRecvBufferSize(8 * 1024 * 1024);
          s.setSendBufferSize(8 * 1024 * 1024);
          resolve();
        });
      });
      t.#ports.push(s.address().port);
    }
    return t;
  }

  get socketCount(): number {
    return this.#sockets.length;
  }

  portOf(socketIndex: number): number {
    return this.#ports[socketIndex] as number;
  }

  onRequest(handler: IncomingRequestHandler) {
    this.#handler = handler;
  }

  newBranch(): string {
    return `z9hG4bK${randomBytes(9).toString('base64url')}`;
  }

  #send(socketIndex: number, buf: Buffer, to: { address: string; port: number }) {
    this.stats.sent++;
    (this.#sockets[socketIndex] as Socket).send(buf, to.port, to.address);
  }

  /** Sends a non-INVITE request and resolves with its final response, or null after Timer F. */
  request(
    socketIndex: number,
    rq: SipMessage,
    to: { address: string; port: number },
  ): Promise<SipMessage | null> {
    const branch = (rq.headers.via[0] as SipVia).params.branch as string;
    const buf = Buffer.from(sip.stringify(rq), 'binary');
    return new Promise((resolve) => {
      let interval = this.#t1Ms;
      let proceeding = false;
      let timerE: NodeJS.Timeout | undefined;
      const scheduleE = () => {
        timerE = setTimeout(() => {
          this.stats.retransmissions++;
          this.#send(socketIndex, buf, to);
          interval = proceeding ? this.#t2Ms : Math.min(interval * 2, this.#t2Ms);
          scheduleE();
        }, interval);
      };
      const timerF = setTimeout(() => {
        this.stats.timeouts++;
        pending.finish(null);
      }, 64 * this.#t1Ms);
      const pending: PendingRequest = {
        finish: (rs) => {
          clearTimeout(timerE);
          clearTimeout(timerF);
          this.#pending.delete(branch);
          resolve(rs);
        },
        onProvisional: () => {
          proceeding = true;
        },
      };
      this.#pending.set(branch, pending);
      this.#send(socketIndex, buf, to);
      scheduleE();
    });
  }

  #onMessage(socketIndex: number, buf: Buffer, rinfo: RemoteInfo) {
    this.stats.received++;
    let msg: SipMessage | undefined;
    try {
      msg = sip.parse(buf);
    } catch {
      return;
    }
    if (!msg?.headers?.via?.length || !msg.headers.cseq) return;
    if (msg.status) {
      const pending = this.#pending.get((msg.headers.via[0] as SipVia).params.branch ?? '');
      if (!pending) return;
      if (msg.status < 200) pending.onProvisional();
      else pending.finish(msg);
      return;
    }
    const via = msg.headers.via[0] as SipVia;
    const key = `${socketIndex}\0${via.params.branch}\0${msg.method}\0${rinfo.address}:${rinfo.port}`;
    const answered = this.#answered.get(key);
    const to = 'rport' in via.params ? rinfo : { address: rinfo.address, port: via.port ?? 5060 };
    if (answered) {
      this.#send(socketIndex, answered.response, to);
      return;
    }
    if (msg.method === 'ACK') return;
    const user = msg.uri ? sip.parseUri(msg.uri)?.user : undefined;
    const answer = this.#handler(socketIndex, msg, user);
    if (answer === null) return;
    const rs = sip.makeResponse(msg, answer.status, REASONS[answer.status] ?? 'Error');
    Object.assign(rs.headers, answer.headers ?? {});
    rs.headers.via = msg.headers.via.map((v, i) =>
      i === 0
        ? {
            ...v,
            params: {
              ...v.params,
              received: rinfo.address,
              ...('rport' in v.params ? { rport: String(rinfo.port) } : {}),
            },
          }
        : v,
    );
    rs.headers.to = {
      ...msg.headers.to,
      params: { ...msg.headers.to.params, tag: randomBytes(4).toString('hex') },
    };
    const response = Buffer.from(sip.stringify(rs), 'binary');
    this.#answered.set(key, { until: Date.now() + 64 * this.#t1Ms, response });
    this.#send(socketIndex, response, to);
  }

  async close(): Promise<void> {
    clearInterval(this.#sweeper);
    for (const p of this.#pending.values()) p.finish(null);
    await Promise.all(this.#sockets.map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
  }
}
