/**
 * Yealink: the phone fetches the common file `y0000000000XX.cfg` (XX = the model family's code, the catalog's
 * provisioningKey, e.g. 096 for T54W) and then `<mac>.cfg` (PHONES.md; wazo-provd-plugins wazo_yealink v86).
 * Files are `key = value` lines; `%NULL%` sets a key to empty. `static.firmware.url` names the image to flash: the
 * per-phone file carries it only while a block approved the phone and otherwise clears it explicitly, as
 * wazo-provd's templates do for every key they do not set, because a Yealink keeps a provisioned value until a
 * file changes it (so a URL left over from an earlier offer would flash again at the next boot).
 */
import {
  cfgValue,
  firmwareUrl,
  lineLabel,
  type RenderContext,
  type RequestedFile,
  TEXT_TYPE,
  type VendorConvention,
} from './convention.ts';

const CLEARED = '%NULL%';

function lines(pairs: Array<[string, string | number]>, comment: string): string {
  return ['#!version:1.0.0.1', `## ${cfgValue(comment)}`, ...pairs.map(([k, v]) => `${k} = ${v}`), ''].join(
    '\n',
  );
}

function commonFile(ctx: RenderContext): string {
  return lines(
    [
      ['static.auto_provision.server.url', cfgValue(ctx.baseUrl)],
      ['static.auto_provision.power_on', 1],
      // 1: a check-sync NOTIFY re-provisions (and reboots when it says reboot=true).
      ['sip.notify_reboot_enable', 1],
      ['account.1.sip_server.1.address', cfgValue(ctx.sipServer.host)],
      ['account.1.sip_server.1.port', ctx.sipServer.port],
      // Never a firmware from the common file: only a per-phone file of an approved phone names one.
      ['static.firmware.url', CLEARED],
    ],
    `${ctx.model.model}: common settings of PBX ${ctx.pbx.name}`,
  );
}

function phoneFile(ctx: RenderContext): string {
  const phone = ctx.phone;
  const pairs: Array<[string, string | number]> = [];
  if (phone) {
    const label = cfgValue(lineLabel(phone));
    pairs.push(
      ['account.1.enable', 1],
      ['account.1.label', label],
      ['account.1.display_name', label],
      ['account.1.auth_name', cfgValue(phone.extension)],
      ['account.1.user_name', cfgValue(phone.extension)],
      ['account.1.password', phone.sipPassword === null ? CLEARED : cfgValue(phone.sipPassword)],
      ['account.1.sip_server.1.address', cfgValue(ctx.pbx.sipDomain)],
      ['account.1.outbound_host', cfgValue(ctx.sipServer.host)],
      ['account.1.outbound_port', ctx.sipServer.port],
      ['account.1.outbound_proxy_enable', 1],
    );
  }
  pairs.push(['static.firmware.url', firmwareUrl(ctx) ?? CLEARED]);
  return lines(pairs, `${phone ? phone.mac : ctx.model.model} on PBX ${ctx.pbx.name}`);
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
