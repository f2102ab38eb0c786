/**
 * Gigaset N670 / N870 / N610 (the Nx70 family): the base fetches `<MAC>.xml` (Gigaset pro wiki "Provisioning";
 * wazo-provd-plugins wazo_gigaset names it in lower case), a `<provisioning>` profile. The bases manage accounts
 * per handset: `SipAccount.<5-digit handset>.*` names the account and its `ProviderId`, `SipProvider.<id>.*`
 * the server profile it uses, and an `add_hs` operation registers the handset slot (wazo-provd-plugins
 * wazo_gigaset Nx70_83_v2_65_0 templates/base.tpl); the single-cell `SipAccount.0.*` names of older bases are
 * not read by these. `<firmware><file version url/>` offers an image, which the base installs only when it is
 * newer than what it runs (no downgrade), then reboots; without an approved offer the element is empty. A
 * check-sync NOTIFY with reboot=false makes it fetch and apply the profile.
 */
import {
  firmwareUrl,
  lineLabel,
  type RenderContext,
  type RequestedFile,
  type VendorConvention,
  XML_TYPE,
  xml,
} from './convention.ts';

/** The handset slot the account goes to, as wazo writes it (`line_no.zfill(5)`). */
const HANDSET = '00001';
/** The provider profile of this PBX's SIP server. */
const PROVIDER = '0';

/** The handset's registration code: the last four digits of the extension, as wazo derives `XX_hs_code`. */
function accessCode(extension: string): string {
  const digits = extension.replace(/\D/g, '');
  return digits.slice(-4).padStart(4, '0');
}

function param(name: string, value: string): string {
  return `    <param name="${xml(name)}" value="${xml(value)}"/>`;
}

function profile(ctx: RenderContext): string {
  const phone = ctx.phone;
  const url = firmwareUrl(ctx);
  const lines = ['<?xml version="1.0" encoding="UTF-8"?>', '<provisioning version="1.1" productID="e2">'];
  lines.push('  <firmware>');
  if (url && ctx.firmware) lines.push(`    <file version="${xml(ctx.firmware.version)}" url="${xml(url)}"/>`);
  lines.push('  </firmware>', '  <nvm>');
  lines.push(param('Provisioning.global.ProvisioningServer', ctx.baseUrl));
  if (phone) {
    const p = `SipProvider.${PROVIDER}`;
    lines.push(
      param(`${p}.Name`, ctx.pbx.name),
      param(`${p}.Domain`, ctx.pbx.sipDomain),
      param(`${p}.ProxyServerAddress`, ctx.sipServer.host),
      param(`${p}.ProxyServerPort`, String(ctx.sipServer.port)),
      param(`${p}.RegServerAddress`, ctx.sipServer.host),
      param(`${p}.RegServerPort`, String(ctx.sipServer.port)),
      `    <oper name="add_hs" value="${HANDSET}">`,
      `  ${param('hs.RegStatus', 'ToReg')}`,
      '    </oper>',
      param(`hs.${HANDSET}.DECT_AC`, accessCode(phone.extension)),
      param(`SipAccount.${HANDSET}.ProviderId`, PROVIDER),
      param(`SipAccount.${HANDSET}.AuthName`, phone.extension),
      param(`SipAccount.${HANDSET}.AuthPassword`, phone.sipPassword ?? ''),
      param(`SipAccount.${HANDSET}.UserName`, phone.extension),
      param(`SipAccount.${HANDSET}.DisplayName`, lineLabel(phone)),
    );
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
