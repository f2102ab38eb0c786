/**
 * Grandstream HT8xx: the ATA fetches `cfg<mac>.xml` (`gs_provision`). P212 picks the upgrade transport
 * (1 HTTP, 2 HTTPS), P192 the firmware server path without scheme, P232/P233 a file prefix/postfix; the ATA
 * appends its own image name (e.g. `ht802fw.bin`). P238 = 2 skips the firmware check: the state without an
 * approved offer (R7/R11).
 */
import {
  hostAndPath,
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
  const p: Array<[string, string | number]> = [
    ['P212', https ? 2 : 1],
    ['P237', hostAndPath(ctx.baseUrl)],
    ['P238', ctx.firmware ? 0 : 2],
  ];
  if (ctx.firmware) {
    p.push(['P192', `${hostAndPath(ctx.baseUrl)}/firmware`], ['P232', ''], ['P233', '']);
  }
  if (phone) {
    p.push(
      ['P271', 1],
      ['P47', ctx.pbx.sipDomain],
      ['P48', `${ctx.sipServer.host}:${ctx.sipServer.port}`],
      ['P35', phone.extension],
      ['P36', phone.extension],
      ['P3', phone.displayName ?? phone.extension],
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
};
