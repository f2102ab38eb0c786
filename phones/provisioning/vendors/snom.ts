/**
 * Snom: the setting server hands out `snom<Model>.htm`, a list of setting files pointing at `<MAC>.xml`
 * (`{mac}` is filled in by the phone). That file sets `update_policy` and `firmware_status`, the URL of
 * `snom<Model>-firmware.xml`, which names the image. Model-wide file names carry no MAC, so the firmware
 * list is rendered for the phone its User-Agent names; without an approved offer it lists nothing.
 */
import {
  firmwareUrl,
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

function phoneSettings(ctx: RenderContext): string {
  const phone = ctx.phone;
  const key = ctx.model.provisioningKey;
  const offered = ctx.firmware !== null;
  const lines = [
    '<?xml version="1.0" encoding="utf-8"?>',
    '<settings>',
    '  <phone-settings e="2">',
    `    <setting_server perm="RW">${xml(`${ctx.baseUrl}${key}.htm`)}</setting_server>`,
    // Without an approved offer the phone takes settings only and never looks for firmware (R7/R11).
    `    <update_policy perm="RW">${offered ? 'auto_update' : 'settings_only'}</update_policy>`,
  ];
  if (offered) {
    lines.push(
      `    <firmware_status perm="RW">${xml(`${ctx.baseUrl}${key}-firmware.xml`)}</firmware_status>`,
    );
  }
  if (phone) {
    lines.push(
      '    <user_active idx="1" perm="">on</user_active>',
      `    <user_name idx="1" perm="">${xml(phone.extension)}</user_name>`,
      `    <user_realname idx="1" perm="">${xml(phone.displayName ?? phone.extension)}</user_realname>`,
      `    <user_host idx="1" perm="">${xml(ctx.pbx.sipDomain)}</user_host>`,
      `    <user_outbound idx="1" perm="">${xml(`${ctx.sipServer.host}:${ctx.sipServer.port}`)}</user_outbound>`,
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
    ...(url ? [`  <firmware perm="">${xml(url)}</firmware>`] : []),
    '</firmware-settings>',
    '',
  ].join('\n');
}

export const snom: VendorConvention = {
  vendor: 'snom',
  checkSyncEvent: 'check-sync;reboot=true',
  recognise(fileName: string): RequestedFile | null {
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
