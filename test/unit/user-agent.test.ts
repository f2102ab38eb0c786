import { describe, expect, it } from 'vitest';
import { normalizeMac } from '../../domain/mac.ts';
import { matchesModel, parseUserAgent, trustedVersion } from '../../domain/user-agent.ts';

// Real User-Agent strings per vendor (HTTP provisioning and SIP REGISTER), as phones send them.
const CASES = [
  {
    name: 'Yealink HTTP with MAC',
    ua: 'Yealink SIP-T31G 124.85.257.55 80:5e:c0:d5:7d:72',
    vendor: 'yealink',
    model: 'T31',
    version: '124.85.257.55',
    mac: '805ec0d57d72',
    catalog: 'T31',
  },
  {
    name: 'Yealink HTTP T54W',
    ua: 'Yealink SIP-T54W 96.86.0.70 80:5e:c0:aa:bb:cc',
    vendor: 'yealink',
    // The family without its Wi-Fi letter; the catalog's T54W matches as an alias.
    model: 'T54',
    version: '96.86.0.70',
    mac: '805ec0aabbcc',
    catalog: 'T54W',
  },
  {
    name: 'Yealink SIP without MAC',
    ua: 'Yealink SIP-T27G 69.86.0.15',
    vendor: 'yealink',
    model: 'T27',
    version: '69.86.0.15',
    mac: null,
    catalog: 'T27G',
  },
  {
    name: 'Yealink SIP T46U',
    ua: 'Yealink SIP-T46U 108.86.0.90',
    vendor: 'yealink',
    model: 'T46U',
    version: '108.86.0.90',
    mac: null,
    catalog: 'T46U',
  },
  {
    name: 'Snom HTTP with build and MAC',
    ua: 'Mozilla/4.0 (compatible; snomD785-SIP 10.1.33.33 2010.12-00004-g9ba52f5 000413922D24 SXM:0 UXM:0)',
    vendor: 'snom',
    model: 'D785',
    version: '10.1.33.33',
    mac: '000413922d24',
    catalog: 'D785',
  },
  {
    name: 'Snom HTTP D715 naming itself snom715',
    ua: 'Mozilla/4.0 (compatible; snom715-SIP 10.1.46.16 000413A1B2C3)',
    vendor: 'snom',
    model: 'D715',
    version: '10.1.46.16',
    mac: '000413a1b2c3',
    catalog: 'D715',
  },
  {
    name: 'Snom SIP',
    ua: 'snomD785/10.1.84.12',
    vendor: 'snom',
    model: 'D785',
    version: '10.1.84.12',
    mac: null,
    catalog: 'D785',
  },
  {
    name: 'Grandstream HTTP',
    ua: 'Grandstream Model HW HT802V2 V1.0A SW 1.0.5.4 DevId ec74d763e419',
    vendor: 'grandstream',
    model: 'HT802',
    version: '1.0.5.4',
    mac: 'ec74d763e419',
    catalog: 'HT802',
  },
  {
    name: 'Grandstream HTTP HT802 v1',
    ua: 'Grandstream Model HW HT802 V1.0A SW 1.0.43.11 DevId 000b82aabbcc',
    vendor: 'grandstream',
    model: 'HT802',
    version: '1.0.43.11',
    mac: '000b82aabbcc',
    catalog: 'HT802',
  },
  {
    name: 'Grandstream SIP',
    ua: 'Grandstream HT802 1.0.29.8',
    vendor: 'grandstream',
    model: 'HT802',
    version: '1.0.29.8',
    mac: null,
    catalog: 'HT802',
  },
  {
    name: 'Gigaset HTTP with Handset',
    ua: 'Gigaset N670 IP PRO/83.V2.43.0+build.5f0a106;7C2F80AABBCC;Handset=20',
    vendor: 'gigaset',
    model: 'N670',
    version: '2.43.0',
    mac: '7c2f80aabbcc',
    catalog: 'N670',
  },
  {
    name: 'Gigaset SIP',
    ua: 'Gigaset N670 IP PRO/83.V2.43.0+build.5f0a106;7C2F80AABBCC',
    vendor: 'gigaset',
    model: 'N670',
    version: '2.43.0',
    mac: '7c2f80aabbcc',
    catalog: 'N670',
  },
  {
    name: 'Gigaset N870',
    ua: 'Gigaset N870 IP PRO/83.V2.65.0+build.8504c90;7C2F80010203',
    vendor: 'gigaset',
    model: 'N870',
    version: '2.65.0',
    mac: '7c2f80010203',
    catalog: 'N870',
  },
] as const;

describe('R6: version learning from User-Agents', () => {
  it.each(CASES)('R6: parses $name', (c) => {
    const parsed = parseUserAgent(c.ua);
    expect(parsed).toMatchObject({ vendor: c.vendor, model: c.model, version: c.version, mac: c.mac });
    expect(parsed && matchesModel(parsed, { vendor: c.vendor, model: c.catalog })).toBe(true);
    expect(trustedVersion(parsed, { vendor: c.vendor, model: c.catalog })).toBe(c.version);
  });

  it.each([
    ['Mozilla/5.0 (X11; Linux x86_64) Firefox/120.0'],
    ['curl/8.5.0'],
    [''],
    ['Yealink'],
    ['Grandstream Model HW HT802V2 V1.0A'],
  ])('R6: rejects a UA that no vendor convention matches: %j', (ua) => {
    expect(parseUserAgent(ua)).toBeNull();
  });

  it('R6: takes a model variant for its catalog family (T53W is a T53, T31P a T31, T57W a T57), not another model', () => {
    const t53w = parseUserAgent('Yealink SIP-T53W 95.86.0.45 80:5e:c0:00:00:01');
    expect(trustedVersion(t53w, { vendor: 'yealink', model: 'T53' })).toBe('95.86.0.45');
    expect(trustedVersion(t53w, { vendor: 'yealink', model: 'T53W' })).toBe('95.86.0.45');
    expect(trustedVersion(t53w, { vendor: 'yealink', model: 'T54W' })).toBeNull();
    expect(trustedVersion(t53w, { vendor: 'snom', model: 'T53W' })).toBeNull();
    expect(trustedVersion(null, { vendor: 'yealink', model: 'T53W' })).toBeNull();
    const t57w = parseUserAgent('Yealink SIP-T57W 96.86.0.70');
    expect(trustedVersion(t57w, { vendor: 'yealink', model: 'T57' })).toBe('96.86.0.70');
    const t31p = parseUserAgent('Yealink SIP-T31P 124.86.0.75 24:9a:d8:00:00:01');
    expect(trustedVersion(t31p, { vendor: 'yealink', model: 'T31' })).toBe('124.86.0.75');
    expect(trustedVersion(t31p, { vendor: 'yealink', model: 'T33' })).toBeNull();
  });

  it('normalises MACs with and without separators', () => {
    expect(normalizeMac('80:5E:C0:D5:7D:72')).toBe('805ec0d57d72');
    expect(normalizeMac('000413922D24')).toBe('000413922d24');
    expect(normalizeMac('00:04:13')).toBeUndefined();
  });
});
