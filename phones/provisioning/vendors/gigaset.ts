/**
 * Gigaset Nx70/N610: the base fetches `<MAC>.xml`; `<firmware><file version url/>` offers an image, which the
 * base installs only when it is newer than what it runs (no downgrade), then reboots. A check-sync NOTIFY with
 * reboot=false is what makes it fetch and apply the profile (reboot=true needs extra base settings).
 */
import {
  firmwareUrl,
  type RenderContext,
  type RequestedFile,
  type VendorConvention,
  XML_TYPE,
  xml,
} from './convention.ts';

function profile(ctx: RenderContext): string {
  const phone = ctx.phone;
  const url = firmwareUrl(ctx);
  const lines = ['<?xml version="1.0" encoding="UTF-8"?>', '<provisioning version="1.1" productID="e2">'];
  if (url && ctx.firmware) {
    lines.push(
      '  <firmware>',
      `    <file version="${xml(ctx.firmware.version)}" url="${xml(url)}"/>`,
      '  </firmware>',
    );
  }
  lines.push('  <nvm>');
  if (phone) {
    const params: Array<[string, string]> = [
      ['SipAccount.0.AccountName', phone.displayName ?? phone.extension],
      ['SipAccount.0.AuthName', phone.extension],
      ['SipAccount.0.Username', phone.extension],
      ['SipAccount.0.Domain', ctx.pbx.sipDomain],
      ['SipProvider.0.ProxyServerAddress', ctx.sipServer.host],
      ['SipProvider.0.ProxyServerPort', String(ctx.sipServer.port)],
    ];
    for (const [name, value] of params) lines.push(`    <param name="${xml(name)}" value="${xml(value)}"/>`);
  }
  lines.push('  </nvm>', '</provisioning>', '');
  return lines.join('\n');
}

export const gigaset: VendorConvention = {
  vendor: 'gigaset',
  checkSyncEvent: 'check-sync;reboot=false',
  recognise(fileName: string): RequestedFile | null {
    const m = /^([0-9A-Fa-f]{12})\.xml$/.exec(fileName);
    return m ? { kind: 'phone', part: 'profile', mac: (m[1] as string).toLowerCase() } : null;
  },
  modelKey: (provisioningKey) => provisioningKey.toLowerCase(),
  render(_file, ctx) {
    return { contentType: XML_TYPE, body: profile(ctx) };
  },
};
