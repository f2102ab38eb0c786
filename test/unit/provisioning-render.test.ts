/**
 * Every vendor's provisioning file, for any display name, extension, PBX name and SIP password, read the way the
 * phone reads it (simulator/formats.ts: Yealink key=value lines; XML for Snom, Grandstream, Gigaset through a
 * third-party XML parser): it parses, it has exactly the keys the renderer meant with the values it meant (free text
 * cannot end a line, close an element or add a key), it carries the account's SIP credentials, and it names a
 * firmware URL only while a block approved the phone (R7/R11). Property-based (fast-check).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CONVENTIONS, type RenderContext } from '../../phones/provisioning/vendors/index.ts';
import { findAll, findFirst, parseXml, parseYealinkCfg, type XmlElement } from '../../simulator/formats.ts';

const NASTY = [
  '\n',
  '\r',
  '\r\n',
  '<',
  '>',
  '&',
  '"',
  "'",
  '=',
  '#',
  '%NULL%',
  '\u0000',
  '\u001b',
  '\t',
  ' ',
  '\u0085',
  '\u2028',
  '\ud800',
  '\udfff',
  '\uffff',
  ']]>',
  '<!--',
  '&amp;',
  'a',
  'Z',
  'é',
  '😀',
];

/** Text of any kind, with the characters that break formats well represented. */
const freeText = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.string({ unit: fc.constantFrom(...NASTY), maxLength: 12 }),
);
/** What the admin API accepts (api/routes/accounts: extension pattern, SIP password pattern). */
const extension = fc.stringMatching(/^[0-9A-Za-z_.+-]{1,32}$/);
const password = fc.stringMatching(/^[\x21-\x7e]{8,64}$/).filter((p) => p.toUpperCase() !== '%NULL%');

function context(
  vendor: keyof typeof CONVENTIONS,
  input: { displayName: string | null; extension: string; pbxName: string; password: string | null },
  approved: boolean,
): RenderContext {
  const models = {
    yealink: { model: 'T54W', provisioningKey: '096' },
    snom: { model: 'D785', provisioningKey: 'snomD785' },
    grandstream: { model: 'HT802', provisioningKey: 'HT802' },
    gigaset: { model: 'N670', provisioningKey: 'Nx70' },
  } as const;
  return {
    baseUrl: 'http://prov.example.test:8180/p/acme/',
    pbx: { id: 'acme', name: input.pbxName, sipDomain: 'acme.pbx.test' },
    sipServer: { host: '192.0.2.10', port: 5060 },
    model: { vendor, ...models[vendor] },
    phone: {
      mac: '805ec0a1b2c3',
      extension: input.extension,
      displayName: input.displayName,
      sipPassword: input.password,
    },
    firmware: approved ? { version: '96.86.0.70', fileName: 'T54W(T57W,T53W)-96.86.0.70.rom' } : null,
  };
}

/** What a phone shows on its line: one line of printable text, else the extension (independent restatement). */
function expectedLabel(displayName: string | null, ext: string): string {
  const line = (displayName ?? '')
    .replace(
      // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what a phone cannot show
      /[\u0000-\u001f\u007f-\u009f\u2028\u2029\ufffe\uffff]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g,
      ' ',
    )
    .trim();
  return line === '' ? ext : line;
}

const FIRMWARE_URL =
  'http://prov.example.test:8180/p/acme/firmware/805ec0a1b2c3/T54W(T57W%2CT53W)-96.86.0.70.rom';

const inputs = fc.record({
  displayName: fc.option(freeText, { nil: null }),
  extension,
  pbxName: freeText,
  password,
  approved: fc.boolean(),
});

function render(vendor: keyof typeof CONVENTIONS, fileName: string, ctx: RenderContext): string {
  const convention = CONVENTIONS[vendor];
  const file = convention.recognise(fileName);
  if (!file) throw new Error(`${vendor} does not recognise ${fileName}`);
  return convention.render(file, ctx).body;
}

describe('provisioning files as the phones read them (fast-check)', () => {
  it('Yealink <mac>.cfg: exactly the keys meant, one line each, credentials, firmware URL only when approved (R7)', () => {
    fc.assert(
      fc.property(inputs, (i) => {
        const body = render('yealink', '805ec0a1b2c3.cfg', context('yealink', i, i.approved));
        const lines = parseYealinkCfg(body);
        expect(lines.map((l) => l.key)).toEqual([
          'account.1.enable',
          'account.1.label',
          'account.1.display_name',
          'account.1.auth_name',
          'account.1.user_name',
          'account.1.password',
          'account.1.sip_server.1.address',
          'account.1.outbound_host',
          'account.1.outbound_port',
          'account.1.outbound_proxy_enable',
          'static.firmware.url',
        ]);
        const v = Object.fromEntries(lines.map((l) => [l.key, l.value]));
        const label = expectedLabel(i.displayName, i.extension);
        // `%NULL%` is Yealink's empty value: a display name spelling it must not clear the label.
        expect(v['account.1.label']).toBe(
          label.toUpperCase() === '%NULL%' ? `${label[0]} ${label.slice(1)}` : label,
        );
        expect(v['account.1.auth_name']).toBe(i.extension);
        expect(v['account.1.user_name']).toBe(i.extension);
        expect(v['account.1.password']).toBe(i.password);
        expect(v['account.1.sip_server.1.address']).toBe('acme.pbx.test');
        expect(v['static.firmware.url']).toBe(i.approved ? FIRMWARE_URL : '');
      }),
      { numRuns: 300 },
    );
  });

  it('Yealink common file: a PBX name cannot add a key, and the firmware URL is always cleared there', () => {
    fc.assert(
      fc.property(inputs, (i) => {
        const body = render('yealink', 'y000000000096.cfg', context('yealink', i, i.approved));
        const lines = parseYealinkCfg(body);
        expect(lines.map((l) => l.key)).toEqual([
          'static.auto_provision.server.url',
          'static.auto_provision.power_on',
          'sip.notify_reboot_enable',
          'account.1.sip_server.1.address',
          'account.1.sip_server.1.port',
          'static.firmware.url',
        ]);
        expect(lines.find((l) => l.key === 'static.firmware.url')?.value).toBe('');
      }),
      { numRuns: 200 },
    );
  });

  it('Snom <MAC>.xml: well-formed XML, exactly the settings meant, credentials, firmware only when approved (R7)', () => {
    fc.assert(
      fc.property(inputs, (i) => {
        const ctx = context('snom', i, i.approved);
        const doc = parseXml(render('snom', '805EC0A1B2C3.xml', ctx));
        const settings = findFirst(doc, 'phone-settings') as XmlElement;
        expect(settings.children.map((c) => c.name)).toEqual([
          'setting_server',
          'update_policy',
          'firmware_status',
          'user_active',
          'user_name',
          'user_pname',
          'user_pass',
          'user_realname',
          'user_host',
          'user_outbound',
        ]);
        const v = Object.fromEntries(settings.children.map((c) => [c.name, c.text]));
        expect(v.user_realname).toBe(expectedLabel(i.displayName, i.extension));
        expect(v.user_name).toBe(i.extension);
        expect(v.user_pass).toBe(i.password);
        expect(v.user_host).toBe('acme.pbx.test');
        expect(v.update_policy).toBe(i.approved ? 'auto_update' : 'settings_only');
        expect(v.firmware_status).toBe(
          i.approved ? 'http://prov.example.test:8180/p/acme/snomD785-firmware-805ec0a1b2c3.xml' : '',
        );
        const list = parseXml(render('snom', 'snomD785-firmware-805ec0a1b2c3.xml', ctx));
        expect(findAll(list, 'firmware').map((f) => f.text)).toEqual(i.approved ? [FIRMWARE_URL] : []);
      }),
      { numRuns: 300 },
    );
  });

  it('Grandstream cfg<mac>.xml: exactly the P-values meant, P34 password, firmware path only when approved (R7)', () => {
    fc.assert(
      fc.property(inputs, (i) => {
        const doc = parseXml(
          render('grandstream', 'cfg805ec0a1b2c3.xml', context('grandstream', i, i.approved)),
        );
        const config = findFirst(doc, 'config') as XmlElement;
        expect(config.children.map((c) => c.name)).toEqual([
          'P212',
          'P237',
          'P192',
          'P232',
          'P233',
          'P238',
          'P271',
          'P47',
          'P48',
          'P35',
          'P36',
          'P34',
          'P3',
        ]);
        const p = Object.fromEntries(config.children.map((c) => [c.name, c.text]));
        expect(p.P3).toBe(expectedLabel(i.displayName, i.extension));
        expect(p.P35).toBe(i.extension);
        expect(p.P34).toBe(i.password);
        expect(p.P192).toBe(i.approved ? 'prov.example.test:8180/p/acme/firmware/805ec0a1b2c3' : '');
        expect(p.P238).toBe(i.approved ? '0' : '2');
      }),
      { numRuns: 300 },
    );
  });

  it('Gigaset <MAC>.xml: exactly the params meant (per-handset account, provider profile), firmware only when approved (R7)', () => {
    fc.assert(
      fc.property(inputs, (i) => {
        const doc = parseXml(render('gigaset', '805EC0A1B2C3.xml', context('gigaset', i, i.approved)));
        const nvm = findFirst(doc, 'nvm') as XmlElement;
        const params = findAll(nvm, 'param').map((e) => [e.attrs.name, e.attrs.value] as const);
        expect(params.map(([n]) => n)).toEqual([
          'Provisioning.global.ProvisioningServer',
          'SipProvider.0.Name',
          'SipProvider.0.Domain',
          'SipProvider.0.ProxyServerAddress',
          'SipProvider.0.ProxyServerPort',
          'SipProvider.0.RegServerAddress',
          'SipProvider.0.RegServerPort',
          'hs.RegStatus',
          'hs.00001.DECT_AC',
          'SipAccount.00001.ProviderId',
          'SipAccount.00001.AuthName',
          'SipAccount.00001.AuthPassword',
          'SipAccount.00001.UserName',
          'SipAccount.00001.DisplayName',
        ]);
        const v = Object.fromEntries(params);
        expect(v['SipAccount.00001.DisplayName']).toBe(expectedLabel(i.displayName, i.extension));
        expect(v['SipAccount.00001.AuthPassword']).toBe(i.password);
        expect(v['SipProvider.0.Name']).toBe(expectedLabel(i.pbxName, ''));
        const files = findAll(doc, 'file');
        expect(files.map((f) => f.attrs.url)).toEqual(i.approved ? [FIRMWARE_URL] : []);
      }),
      { numRuns: 300 },
    );
  });
});
