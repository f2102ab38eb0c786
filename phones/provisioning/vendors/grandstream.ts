/**
 * Grandstream HT8xx: the ATA fetches `cfg<mac>`, `cfg<mac>.xml`, then `cfg.xml` (HT802 user manual "Configuration
 * File Download"), a `gs_provision` document of P-values. Account 1 (wazo-provd-plugins wazo_grandstream
 * common_ata HT802V2.tpl): P271 active, P47 SIP server, P48 outbound proxy, P35 user ID, P36 authenticate ID,
 * P34 password, P3 display name. Firmware (HT802 / HT812-HT814 user guides): P212 upgrade via (1 HTTP, 2 HTTPS),
 * P192 firmware server path without scheme, P232/P233 prefix/postfix, P238 0 "always check at boot" or
 * 2 "always skip the firmware check". The ATA appends its own fixed image name to P192 (`ht802fw.bin`), so P192
 * is this phone's own firmware path and the server hands that name the approved image (R7/R11); without an offer
 * P192 is cleared and the check skipped.
 */
import {
  firmwareDirOf,
  hostAndPath,
  lineLabel,
  type RenderContext,
  type RequestedFile,
  type VendorConvention,
  XML_TYPE,
  xml,
} from './convention.ts';

function config(file: RequestedFile, ctx: RenderContext): string {
  const phone = ctx.phone;
  const mac = file.kind === 'phone' ? file.mac : '';
  const https = ctx.baseUrl.startsWith('https:');
  const dir = firmwareDirOf(ctx);
  const offered = ctx.firmware !== null && dir !== null;
  const p: Array<[string, string | number]> = [
    ['P212', https ? 2 : 1],
    ['P237', hostAndPath(ctx.baseUrl)],
    ['P192', offered ? hostAndPath(dir) : ''],
    ['P232', ''],
    ['P233', ''],
    ['P238', offered ? 0 : 2],
  ];
  if (phone) {
    p.push(
      ['P271', 1],
      ['P47', ctx.pbx.sipDomain],
      ['P48', `${ctx.sipServer.host}:${ctx.sipServer.port}`],
      ['P35', phone.extension],
      ['P36', phone.extension],
      ['P34', phone.sipPassword ?? ''],
      ['P3', lineLabel(phone)],
    );
  }
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    '<gs_provision version="1">',
    `  <mac>${xml(mac)}</mac>`,
    '  <config version="1">',
    ...p.map(([k, v]) => `    <${k}>${xml(v)}</${k}>`),
    '  </config>',
    '</gs_provision>',
    '',
  ].join('\n');
}

export const grandstream: VendorConvention = {
  vendor: 'grandstream',
  checkSyncEvent: 'resync',
  recognise(fileName: string): RequestedFile | null {
    const m = /^cfg([0-9a-fA-F]{12})(?:\.xml)?$/.exec(fileName);
    return m ? { kind: 'phone', part: 'config', mac: (m[1] as string).toLowerCase() } : null;
  },
  modelKey: (provisioningKey) => provisioningKey.toLowerCase(),
  render(file, ctx) {
    return { contentType: XML_TYPE, body: config(file, ctx) };
  },
  deviceImageNames(model) {
    const m = model.toLowerCase();
    // HT802 asks for `ht802fw.bin` (wazo-provd-plugins wazo_grandstream pkgs, PHONES.md); the HT81x family for
    // `ht81xfw.bin` (issue 10; the per-model spelling `ht812fw.bin` is taken as well: unconfirmed which).
    return /^ht81\d$/.test(m) ? ['ht81xfw.bin', `${m}fw.bin`] : [`${m}fw.bin`];
  },
};
