/**
 * Yealink: the phone fetches the common file `y0000000000XX.cfg` (XX = the model family's code, the catalog's
 * provisioningKey, e.g. 096 for T54W) and then `<mac>.cfg`; `static.firmware.url` names the firmware to flash.
 * The firmware URL goes into the per-phone file only, so only phones of an approved rollout see it.
 */
import {
  firmwareUrl,
  type RenderContext,
  type RequestedFile,
  TEXT_TYPE,
  type VendorConvention,
} from './convention.ts';

function commonFile(ctx: RenderContext): string {
  return [
    '#!version:1.0.0.1',
    `## ${ctx.model.model}: common settings of PBX ${ctx.pbx.id}`,
    `static.auto_provision.server.url = ${ctx.baseUrl}`,
    'static.auto_provision.power_on = 1',
    // 1: a check-sync NOTIFY re-provisions (and reboots when it says reboot=true).
    'sip.notify_reboot_enable = 1',
    `account.1.sip_server.1.address = ${ctx.sipServer.host}`,
    `account.1.sip_server.1.port = ${ctx.sipServer.port}`,
    '',
  ].join('\n');
}

function phoneFile(ctx: RenderContext): string {
  const phone = ctx.phone;
  const url = firmwareUrl(ctx);
  const lines = ['#!version:1.0.0.1'];
  if (phone) {
    lines.push(
      'account.1.enable = 1',
      `account.1.label = ${phone.displayName ?? phone.extension}`,
      `account.1.display_name = ${phone.displayName ?? phone.extension}`,
      `account.1.auth_name = ${phone.extension}`,
      `account.1.user_name = ${phone.extension}`,
      `account.1.sip_server.1.address = ${ctx.pbx.sipDomain}`,
      `account.1.outbound_host = ${ctx.sipServer.host}`,
      `account.1.outbound_port = ${ctx.sipServer.port}`,
      'account.1.outbound_proxy_enable = 1',
    );
  }
  if (url) lines.push(`static.firmware.url = ${url}`);
  lines.push('');
  return lines.join('\n');
}

export const yealink: VendorConvention = {
  vendor: 'yealink',
  checkSyncEvent: 'check-sync;reboot=true',
  recognise(fileName: string): RequestedFile | null {
    const common = /^y(\d{12})\.cfg$/.exec(fileName);
    if (common) return { kind: 'model', part: 'common', key: String(Number(common[1])) };
    const mac = /^([0-9a-fA-F]{12})\.cfg$/.exec(fileName);
    if (mac) return { kind: 'phone', part: 'mac', mac: (mac[1] as string).toLowerCase() };
    return null;
  },
  modelKey: (provisioningKey) => (/^\d+$/.test(provisioningKey) ? String(Number(provisioningKey)) : ''),
  render(file, ctx) {
    return { contentType: TEXT_TYPE, body: file.part === 'common' ? commonFile(ctx) : phoneFile(ctx) };
  },
};

/** The common file name of a Yealink model family code, e.g. `096` → `y000000000096.cfg`. */
export function yealinkCommonFile(provisioningKey: string): string {
  return `y${provisioningKey.padStart(12, '0')}.cfg`;
}
