import { describe, expect, it } from 'vitest';
import { formatMac, normalizeMac } from '../../domain/mac.ts';

describe('MAC addresses of phone accounts', () => {
  it.each([
    '80:5e:c0:aa:bb:cc',
    '805EC0AABBCC',
    '80-5e-c0-AA-bb-cc',
    '805e.c0aa.bbcc',
    ' 80:5E:C0:AA:BB:CC ',
  ])('accepts %j as 805ec0aabbcc', (text) => {
    expect(normalizeMac(text)).toBe('805ec0aabbcc');
  });

  it.each(['80:5e:c0:aa:bb', '80:5e-c0:aa:bb:cc', '805ec0aabbcg', '805ec0aabbccdd', '', 'phone'])(
    'rejects %j',
    (text) => {
      expect(normalizeMac(text)).toBeUndefined();
    },
  );

  it('formats for people', () => {
    expect(formatMac('805ec0aabbcc')).toBe('80:5e:c0:aa:bb:cc');
  });
});
