import { describe, expect, it } from 'vitest';
import { asBehindNat } from '../../scripts/rehearsal/sip-tap.ts';

const register = (via: string) =>
  Buffer.from(
    `REGISTER sip:vienna.pbx.test SIP/2.0\r\nVia: ${via}\r\nFrom: <sip:101@vienna.pbx.test>;tag=1\r\nCall-ID: a@b\r\nCSeq: 1 REGISTER\r\nContent-Length: 0\r\n\r\n`,
    'latin1',
  );

describe('the rehearsal witness sits on the wire like a NAT', () => {
  it('asks for rport on requests that lack it, so the edge answers and NOTIFYs the relay', () => {
    const out = asBehindNat(register('SIP/2.0/UDP 127.0.0.1:40001;branch=z9hG4bK1')).toString('latin1');
    expect(out).toContain('Via: SIP/2.0/UDP 127.0.0.1:40001;rport;branch=z9hG4bK1\r\n');
  });

  it('leaves requests with rport and all responses as they are', () => {
    const withRport = register('SIP/2.0/UDP 127.0.0.1:40001;rport;branch=z9hG4bK1');
    expect(asBehindNat(withRport)).toBe(withRport);
    const response = Buffer.from(
      'SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP 1.2.3.4:5060;branch=z\r\n\r\n',
      'latin1',
    );
    expect(asBehindNat(response)).toBe(response);
  });
});
