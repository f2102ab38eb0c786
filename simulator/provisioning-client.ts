/**
 * The device side of provisioning: fetch the vendor's files the way the phone does, find the firmware offer,
 * download it. One HTTP agent (bounded connections) serves the whole fleet.
 */
import { Agent, request } from 'undici';
import { compareVersions } from '../domain/versions.ts';
import { cfgValue, findAll, findFirst, parseXml, parseYealinkCfg, type XmlElement } from './formats.ts';
import { grandstreamImageName, httpUserAgent } from './identity.ts';
import type { SimPhoneSpec } from './types.ts';

export interface FirmwareOffer {
  url: string;
  /** Gigaset profiles state the version; other vendors leave it to the image. */
  version: string | null;
}

export interface HttpContext {
  agent: Agent;
  baseUrl: string;
  authorization: string;
}

export class HttpStatusError extends Error {
  readonly status: number;
  constructor(url: string, status: number) {
    super(`GET ${url}: HTTP ${status}`);
    this.status = status;
  }
}

export function createHttpContext(
  provisioning: { url: string; user: string; password: string },
  connections: number,
): HttpContext {
  return {
    agent: new Agent({ connections, pipelining: 1, keepAliveTimeout: 30_000 }),
    baseUrl: provisioning.url.endsWith('/') ? provisioning.url : `${provisioning.url}/`,
    authorization: `Basic ${Buffer.from(`${provisioning.user}:${provisioning.password}`).toString('base64')}`,
  };
}

async function getText(http: HttpContext, url: string, ua: string): Promise<string> {
  const res = await request(url, {
    dispatcher: http.agent,
    headers: { 'user-agent': ua, authorization: http.authorization },
  });
  if (res.statusCode !== 200) {
    await res.body.dump();
    throw new HttpStatusError(url, res.statusCode);
  }
  return res.body.text();
}

/** The SIP line a phone takes from its provisioning files: what it registers with. */
export interface SipLine {
  user: string;
  authUser: string;
  password: string;
  /** The domain of the address of record (To/From of REGISTER). */
  domain: string;
  /** Where REGISTERs go: the outbound proxy, else the registrar. */
  proxy: { host: string; port: number };
}

export interface Provisioned {
  /** Null when the files give the phone no usable line (it then cannot register). */
  line: SipLine | null;
  offer: FirmwareOffer | null;
}

function hostPort(text: string | undefined, defaultPort = 5060): { host: string; port: number } | null {
  const m = text ? /^\[?([^\]\s]+?)\]?(?::(\d+))?$/.exec(text.trim()) : null;
  return m ? { host: m[1] as string, port: m[2] ? Number(m[2]) : defaultPort } : null;
}

interface LineFields {
  user: string | undefined;
  authUser: string | undefined;
  password: string | undefined;
  domain: string | undefined;
  proxy: { host: string; port: number } | null;
}

function lineOf(l: LineFields): SipLine | null {
  if (!l.user || !l.domain || !l.proxy || l.password === undefined) return null;
  return {
    user: l.user,
    authUser: l.authUser || l.user,
    password: l.password,
    domain: l.domain,
    proxy: l.proxy,
  };
}

/** Yealink: the common file, then the MAC file; a later value wins (PHONES.md; Yealink admin guides). */
async function yealink(http: HttpContext, phone: SimPhoneSpec, ua: string): Promise<Provisioned> {
  const base = http.baseUrl;
  const common = parseYealinkCfg(
    await getText(http, `${base}y${phone.provisioningKey.padStart(12, '0')}.cfg`, ua),
  );
  const own = parseYealinkCfg(await getText(http, `${base}${phone.mac}.cfg`, ua));
  const all = [...common, ...own];
  const v = (key: string) => cfgValue(all, key);
  const outbound = v('account.1.outbound_proxy_enable') === '1';
  const line =
    v('account.1.enable') === '1'
      ? lineOf({
          user: v('account.1.user_name'),
          authUser: v('account.1.auth_name'),
          password: v('account.1.password'),
          domain: v('account.1.sip_server.1.address'),
          proxy: outbound
            ? hostPort(`${v('account.1.outbound_host')}:${v('account.1.outbound_port') ?? 5060}`)
            : hostPort(`${v('account.1.sip_server.1.address')}:${v('account.1.sip_server.1.port') ?? 5060}`),
        })
      : null;
  const url = v('static.firmware.url');
  return { line, offer: url ? { url, version: null } : null };
}

/**
 * Snom: `snom<Model>.htm` is either a `<setting-files>` list (each `<file url>`, `{mac}` filled in with the MAC in
 * upper case) or settings; `<phone-settings>` hold the line (`user_name`, `user_pname`, `user_pass`, `user_host`,
 * `user_outbound`, index 1) and, with `update_policy` auto_update, the `firmware_status` URL of the firmware list
 * (Snom wiki "Auto Provisioning", "update_policy", "firmware_status").
 */
async function snom(http: HttpContext, phone: SimPhoneSpec, ua: string): Promise<Provisioned> {
  const settings = new Map<string, string>();
  const read = (doc: XmlElement) => {
    for (const ps of findAll(doc, 'phone-settings')) {
      for (const el of ps.children) {
        if (el.attrs.idx === undefined || el.attrs.idx === '1') settings.set(el.name, el.text);
      }
    }
  };
  const first = parseXml(await getText(http, `${http.baseUrl}${phone.provisioningKey}.htm`, ua));
  if (first.name === 'setting-files') {
    for (const f of findAll(first, 'file')) {
      const url = f.attrs.url?.replace('{mac}', phone.mac.toUpperCase());
      if (url) read(parseXml(await getText(http, url, ua)));
    }
  } else read(first);
  const line =
    settings.get('user_active') === 'on'
      ? lineOf({
          user: settings.get('user_name'),
          authUser: settings.get('user_pname'),
          password: settings.get('user_pass'),
          domain: settings.get('user_host'),
          proxy: hostPort(settings.get('user_outbound') || settings.get('user_host')),
        })
      : null;
  const statusUrl = settings.get('firmware_status');
  if (settings.get('update_policy') !== 'auto_update' || !statusUrl) return { line, offer: null };
  const url = findFirst(parseXml(await getText(http, statusUrl, ua)), 'firmware')?.text;
  return { line, offer: url ? { url, version: null } : null };
}

/**
 * Grandstream HT8xx: `cfg<mac>.xml`, else `cfg.xml` (HT802 user manual); account 1 is P271 active, P35 user ID,
 * P36 authenticate ID, P34 password, P47 SIP server, P48 outbound proxy. Firmware: unless P238 is 2 ("always skip
 * the firmware check") the ATA asks the P192 path (P212: 1 HTTP, 2 HTTPS) for its own image name between the
 * P232 prefix and P233 postfix (HT802 / HT81x user guides).
 */
async function grandstream(http: HttpContext, phone: SimPhoneSpec, ua: string): Promise<Provisioned> {
  let text: string;
  try {
    text = await getText(http, `${http.baseUrl}cfg${phone.mac}.xml`, ua);
  } catch (err) {
    if (!(err instanceof HttpStatusError) || err.status !== 404) throw err;
    text = await getText(http, `${http.baseUrl}cfg.xml`, ua);
  }
  const p = new Map<string, string>();
  const config = findFirst(parseXml(text), 'config');
  for (const el of config?.children ?? []) p.set(el.name, el.text);
  const line =
    p.get('P271') === '1'
      ? lineOf({
          user: p.get('P35'),
          authUser: p.get('P36'),
          password: p.get('P34'),
          domain: p.get('P47'),
          proxy: hostPort(p.get('P48') || p.get('P47')),
        })
      : null;
  const path = p.get('P192');
  if (!path || p.get('P238') === '2') return { line, offer: null };
  const scheme = p.get('P212') === '2' ? 'https' : 'http';
  const name = `${p.get('P232') ?? ''}${grandstreamImageName(phone.model)}${p.get('P233') ?? ''}`;
  return { line, offer: { url: `${scheme}://${path.replace(/\/$/, '')}/${name}`, version: null } };
}

/**
 * Gigaset Nx70/N610: `<MAC>.xml`; `SipAccount.<handset>.*` with its `ProviderId` naming `SipProvider.<id>.*`
 * (Domain, ProxyServerAddress/Port); `<firmware><file version url/>` is installed only when newer (no
 * downgrade) (Gigaset pro wiki "Provisioning"; wazo-provd-plugins wazo_gigaset Nx70 template).
 */
async function gigaset(
  http: HttpContext,
  phone: SimPhoneSpec,
  ua: string,
  version: string,
): Promise<Provisioned> {
  const doc = parseXml(await getText(http, `${http.baseUrl}${phone.mac.toUpperCase()}.xml`, ua));
  const params = new Map<string, string>();
  for (const el of findAll(doc, 'param')) {
    if (el.attrs.name !== undefined) params.set(el.attrs.name, el.attrs.value ?? '');
  }
  const handsets = [...params.keys()]
    .map((k) => /^SipAccount\.(\d{5})\.AuthName$/.exec(k)?.[1])
    .filter((h): h is string => h !== undefined)
    .sort();
  const hs = handsets[0];
  const provider = hs ? params.get(`SipAccount.${hs}.ProviderId`) : undefined;
  const line =
    hs && provider !== undefined
      ? lineOf({
          user: params.get(`SipAccount.${hs}.UserName`),
          authUser: params.get(`SipAccount.${hs}.AuthName`),
          password: params.get(`SipAccount.${hs}.AuthPassword`),
          domain: params.get(`SipProvider.${provider}.Domain`),
          proxy: hostPort(
            `${params.get(`SipProvider.${provider}.ProxyServerAddress`)}:${params.get(`SipProvider.${provider}.ProxyServerPort`) ?? 5060}`,
          ),
        })
      : null;
  const file = findFirst(doc, 'file');
  const url = file?.attrs.url;
  const offered = file?.attrs.version;
  // The base installs only a newer version (no downgrade).
  const offer = url && offered && compareVersions(offered, version) > 0 ? { url, version: offered } : null;
  return { line, offer };
}

/** Runs the vendor's provisioning sequence: the line the files configure and the firmware they offer. */
export async function fetchProvisioning(
  http: HttpContext,
  phone: SimPhoneSpec,
  version: string,
): Promise<Provisioned> {
  const ua = httpUserAgent(phone, version);
  switch (phone.vendor) {
    case 'yealink':
      return yealink(http, phone, ua);
    case 'snom':
      return snom(http, phone, ua);
    case 'grandstream':
      return grandstream(http, phone, ua);
    case 'gigaset':
      return gigaset(http, phone, ua, version);
  }
}

/**
 * Downloads an image. `abortAfterBytes` simulates a download that breaks off: the phone stops reading and drops
 * the connection. Returns the first bytes (where the image states its version) and the byte count.
 */
export async function downloadFirmware(
  http: HttpContext,
  phone: SimPhoneSpec,
  version: string,
  url: string,
  abortAfterBytes?: number,
): Promise<{ head: Buffer; bytes: number; complete: boolean }> {
  const res = await request(url, {
    dispatcher: http.agent,
    headers: { 'user-agent': httpUserAgent(phone, version), authorization: http.authorization },
  });
  if (res.statusCode !== 200) {
    await res.body.dump();
    throw new HttpStatusError(url, res.statusCode);
  }
  const headChunks: Buffer[] = [];
  let headBytes = 0;
  let bytes = 0;
  for await (const chunk of res.body) {
    const buf = chunk as Buffer;
    if (headBytes < 256) {
      headChunks.push(buf);
      headBytes += buf.length;
    }
    bytes += buf.length;
    if (abortAfterBytes !== undefined && bytes >= abortAfterBytes) {
      res.body.destroy();
      return { head: Buffer.concat(headChunks), bytes, complete: false };
    }
  }
  return { head: Buffer.concat(headChunks), bytes, complete: true };
}
