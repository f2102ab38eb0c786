/**
 * Snom: the setting server hands out `snom<Model>.htm`, a list of setting files pointing at `<MAC>.xml`
 * (`{mac}` is filled in by the phone); a phone may also ask for `snom<Model>-<MAC>.htm` (Snom wiki "Auto
 * Provisioning"; wazo-provd-plugins wazo_snom common.py). The settings set the SIP line (`user_name`,
 * `user_pass`, `user_host`, ...), `update_policy` and `firmware_status`, the URL of the firmware list that names
 * the image. That URL is the phone's own (`snom<Model>-firmware-<mac>.xml`), so the list never depends on the
 * User-Agent of the request; the model-wide `snom<Model>-firmware.xml` is still answered for the phone its
 * User-Agent names. Without an approved offer the policy is `settings_only` (no firmware at all) and the firmware
 * list is empty.
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

function settingFiles(ctx: RenderContext): string {
  return [
    '<?xml version="1.0" encoding="utf-8"?>',
    '<setting-files>',
    `  <file url="${xml(ctx.baseUrl)}{mac}.xml"/>`,
    '</setting-files>',
    '',
  ].join('\n');
}

function setting(name: string, value: string, attrs = 'perm="RW"'): string {
  return `    <${name} ${attrs}>${xml(value)}</${name}>`;
}

function phoneSettings(ctx: RenderContext): string {
  const phone = ctx.phone;
  const key = ctx.model.provisioningKey;
  const offered = ctx.firmware !== null && phone !== null;
  const lines = [
    '<?xml version="1.0" encoding="utf-8"?>',
    '<settings>',
    '  <phone-settings e="2">',
    setting('setting_server', `${ctx.baseUrl}${key}.htm`),
    // Without an approved offer the phone takes settings only and never looks for firmware (R7/R11).
    setting('update_policy', offered ? 'auto_update' : 'settings_only'),
    setting('firmware_status', offered ? `${ctx.baseUrl}${key}-firmware-${phone.mac}.xml` : ''),
  ];
  if (phone) {
    const line = 'idx="1" perm="RW"';
    lines.push(
      setting('user_active', 'on', line),
      setting('user_name', phone.extension, line),
      setting('user_pname', phone.extension, line),
      setting('user_pass', phone.sipPassword ?? '', line),
      setting('user_realname', lineLabel(phone), line),
      setting('user_host', ctx.pbx.sipDomain, line),
      setting('user_outbound', `${ctx.sipServer.host}:${ctx.sipServer.port}`, line),
    );
  }
  lines.push('  </phone-settings>', '</settings>', '');
  return lines.join('\n');
}

function firmwareSettings(ctx: RenderContext): string {
  const url = firmwareUrl(ctx);
  return [
    '<?xml version="1.0" encoding="utf-8"?>',
    '<firmware-settings>',
    ...(url ? [`  <firmware perm="RW">${xml(url)}</firmware>`] : []),
    '</firmware-settings>',
    '',
  ].join('\n');
}

export const snom: VendorConvention = {
  vendor: 'snom',
  checkSyncEvent: 'check-sync;reboot=true',
  recognise(fileName: string): RequestedFile | null {
    const own = /^snom[A-Za-z0-9]+-firmware-([0-9A-Fa-f]{12})\.xml$/i.exec(fileName);
    if (own) return { kind: 'phone', part: 'firmware', mac: (own[1] as string).toLowerCase() };
    const fw = /^(snom[A-Za-z0-9]+)-firmware\.xml$/i.exec(fileName);
    if (fw) return { kind: 'model', part: 'firmware', key: (fw[1] as string).toLowerCase() };
    const perPhone = /^snom[A-Za-z0-9]+-([0-9A-Fa-f]{12})\.htm$/i.exec(fileName);
    if (perPhone) return { kind: 'phone', part: 'settings', mac: (perPhone[1] as string).toLowerCase() };
    const list = /^(snom[A-Za-z0-9]+)\.htm$/i.exec(fileName);
    if (list) return { kind: 'model', part: 'setting-files', key: (list[1] as string).toLowerCase() };
    const mac = /^([0-9A-Fa-f]{12})\.xml$/.exec(fileName);
    if (mac) return { kind: 'phone', part: 'settings', mac: (mac[1] as string).toLowerCase() };
    return null;
  },
  modelKey: (provisioningKey) => provisioningKey.toLowerCase(),
  render(file, ctx) {
    const body =
      file.part === 'setting-files'
        ? settingFiles(ctx)
        : file.part === 'firmware'
          ? firmwareSettings(ctx)
          : phoneSettings(ctx);
    return { contentType: XML_TYPE, body };
  },
};
