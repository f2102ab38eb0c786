/** Types for the parts of the `sip` package (kirm/sip.js 0.0.6) this project uses: message parse/stringify, digest. */
declare module 'sip' {
  export interface SipUri {
    schema?: string;
    user?: string;
    password?: string;
    host: string;
    port?: number;
    params: Record<string, string | null>;
    headers: Record<string, string>;
  }
  export interface SipAddress {
    name?: string;
    uri: string;
    params: Record<string, string | null>;
  }
  export interface SipVia {
    version: string;
    protocol: string;
    host: string;
    port?: number;
    params: Record<string, string | null>;
  }
  export interface SipHeaders {
    via: SipVia[];
    to: SipAddress;
    from: SipAddress;
    'call-id': string;
    cseq: { seq: number; method: string };
    contact?: SipAddress[] | '*';
    'content-length'?: number;
    authorization?: Array<Record<string, string>>;
    'www-authenticate'?: Array<Record<string, string>>;
    'proxy-authenticate'?: Array<Record<string, string>>;
    'proxy-authorization'?: Array<Record<string, string>>;
    [name: string]: unknown;
  }
  export interface SipMessage {
    method?: string;
    uri?: string;
    status?: number;
    reason?: string;
    version?: string;
    headers: SipHeaders;
    content?: string;
  }
  export function parse(data: string | Buffer): SipMessage | undefined;
  export function stringify(m: SipMessage): string;
  export function parseUri(uri: string): SipUri | undefined;
  export function stringifyUri(uri: SipUri | string): string;
  export function makeResponse(rq: SipMessage, status: number, reason?: string): SipMessage;
  const sip: {
    parse: typeof parse;
    stringify: typeof stringify;
    parseUri: typeof parseUri;
    stringifyUri: typeof stringifyUri;
    makeResponse: typeof makeResponse;
  };
  export default sip;
}

declare module 'sip/digest.js' {
  import type { SipMessage } from 'sip';
  export interface DigestClientContext {
    [key: string]: unknown;
  }
  const digest: {
    calculateUserRealmPasswordHash(user: string, realm: string, password: string): string;
    calculateDigest(ctx: {
      ha1: string;
      method: string;
      nonce: string;
      nc?: string;
      cnonce?: string;
      qop?: string;
      uri: string;
      entity?: string;
    }): string;
    /** Adds an Authorization header answering the challenge `rs` (client side). */
    signRequest(
      ctx: DigestClientContext | null,
      rq: SipMessage,
      rs: SipMessage | null,
      creds: { user: string; password?: string; hash?: string; realm?: string },
    ): DigestClientContext | null;
  };
  export default digest;
}
