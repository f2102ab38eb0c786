/**
 * R6: the catalog name and aliases each vendor's User-Agent model token stands for, exactly (the corpus test only
 * asks whether the catalog model matches). Strings from test/fixtures/user-agents/corpus.json and the sources the
 * parser cites (wazo-provd-plugins wazo_yealink/wazo_snom/wazo_grandstream/wazo_gigaset common.py; Gigaset pro
 * wiki "FAQ Nx70 - User agent").
 */
import { describe, expect, it } from 'vitest';
import { matchesModel, parseUserAgent, trustedVersion } from '../../domain/user-agent.ts';

const names = (ua: string) => {
  const p = parseUserAgent(ua);
  return p && { vendor: p.vendor, uaModel: p.uaModel, model: p.model, aliases: p.aliases };
};

describe('R6: model names from User-Agents, vendor by vendor', () => {
  it.each([
    // Yealink: a G/P/W/S variant letter names the family; the full name and the Wi-Fi name stay aliases.
    ['Yealink SIP-T31G 124.85.257.55 80:5e:c0:d5:7d:72', 'SIP-T31G', 'T31', ['T31G', 'T31W']],
    ['Yealink SIP-T54W 96.86.0.70 80:5e:c0:aa:bb:cc', 'SIP-T54W', 'T54', ['T54W']],
    ['Yealink SIP-T46U 108.86.0.90', 'SIP-T46U', 'T46U', ['T46UW']],
    ['Yealink SIP VP-T49G 51.80.0.10 00:15:65:00:00:01', 'SIP VP-T49G', 'T49', ['T49G', 'T49W']],
    ['Yealink SIP-T19P_E2 53.80.0.3 00:15:65:4c:4c:26', 'SIP-T19P_E2', 'T19P_E2', ['T19P_E2W']],
    ['Yealink CP860 37.72.0.5 00:15:65:8a:37:86', 'CP860', 'CP860', ['CP860W']],
    ['W52P 25.30.0.2 00:15:65:44:b3:7c', 'W52P', 'W52', ['W52P', 'W52W']],
    // Snom: snom715/snom725 are the D715/D725; other tokens are the model itself.
    ['Mozilla/4.0 (compatible; snom715-SIP 10.1.46.16 000413A1B2C3)', '715', 'D715', ['715']],
    ['Mozilla/4.0 (compatible; snom725-SIP 10.1.46.16 000413A1B2C4)', '725', 'D725', ['725']],
    [
      'Mozilla/4.0 (compatible; snomD785-SIP 10.1.33.33 2010.12-00004-g9ba52f5 000413922D24 SXM:0 UXM:0)',
      'D785',
      'D785',
      [],
    ],
    ['snomD785/10.1.84.12', 'D785', 'D785', []],
    // Grandstream: the hardware revision (HT802V2) is a variant of the model.
    ['Grandstream Model HW HT802V2 V1.0A SW 1.0.5.4 DevId ec74d763e419', 'HT802V2', 'HT802', ['HT802V2']],
    ['Grandstream Model HW HT814 SW 1.0.59.4 DevId c074ad0a0814', 'HT814', 'HT814', []],
    // Gigaset: the family is the first word, the product line (IP PRO) stays an alias.
    ['Gigaset N670 IP PRO/83.V2.43.0+build.5f0a106;7C2F80AABBCC', 'N670 IP PRO', 'N670', ['N670 IP PRO']],
    ['Gigaset N870E IP PRO/83.V2.43.0+build.5f0a106;7C2F80XXXXXX', 'N870E IP PRO', 'N870E', ['N870E IP PRO']],
  ])('R6: %s → %s is %s', (ua, uaModel, model, aliases) => {
    expect(names(ua)).toEqual({ vendor: expect.any(String), uaModel, model, aliases });
  });

  it('R6: surrounding whitespace (as a header value may carry it) does not hide the phone; no UA is no phone', () => {
    expect(parseUserAgent('  Yealink SIP-T31G 124.85.257.55 80:5e:c0:d5:7d:72 \t')).toMatchObject({
      model: 'T31',
      version: '124.85.257.55',
      mac: '805ec0d57d72',
    });
    expect(parseUserAgent(' snomD785/10.1.84.12 ')).toMatchObject({ model: 'D785', version: '10.1.84.12' });
    expect(parseUserAgent(undefined)).toBeNull();
    expect(parseUserAgent(null)).toBeNull();
    expect(parseUserAgent('   ')).toBeNull();
  });

  it('R6: the Snom MAC is found after the build information, however long that runs', () => {
    const ua =
      'snomD785-SIP 10.1.33.33 2010.12-00001-gd311851f1 (Feb 25 2019 - 14:19:43) 00041396D9B4 SXM:0 UXM:0 ' +
      'and a long tail of further build notes that ends the string';
    expect(parseUserAgent(ua)).toMatchObject({ vendor: 'snom', version: '10.1.33.33', mac: '00041396d9b4' });
  });

  it('R6: catalog names match whatever separators they use, and only their own letters', () => {
    const t19 = parseUserAgent('Yealink SIP-T19P_E2 53.80.0.3 00:15:65:4c:4c:26');
    expect(t19 && matchesModel(t19, { vendor: 'yealink', model: 'T19P E2' })).toBe(true);
    expect(t19 && matchesModel(t19, { vendor: 'yealink', model: 't19p-e2' })).toBe(true);
    expect(t19 && matchesModel(t19, { vendor: 'yealink', model: 'T19PE2' })).toBe(true);
    const t31 = parseUserAgent('Yealink SIP-T31G 124.85.257.55');
    expect(trustedVersion(t31, { vendor: 'yealink', model: 'W31' })).toBeNull();
    expect(trustedVersion(t31, { vendor: 'yealink', model: 'T31G' })).toBe('124.85.257.55');
    const n670 = parseUserAgent('Gigaset N670 IP PRO/83.V2.43.0+build.5f0a106;7C2F80AABBCC');
    expect(trustedVersion(n670, { vendor: 'gigaset', model: 'N670 IP PRO' })).toBe('2.43.0');
    expect(trustedVersion(n670, { vendor: 'gigaset', model: 'N870' })).toBeNull();
  });
});
