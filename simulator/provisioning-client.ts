/**
 * The device side of provisioning: fetch the vendor's files the way the phone does, find the firmware offer,
 * download it. One HTTP agent (bounded connections) serves the whole fleet.
 */
import { Agent, request } from 'undici';
import { compareVersions } from '../domain/versions.ts';
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

function attr(xml: string, element: string, name: string): string | null {
  const el = new RegExp(`<${element}\\b[^>]*>`, 'i').exec(xml)?.[0];
  const m = el ? new RegExp(`\\b${name}="([^"]*)"`, 'i').exec(el) : null;
  return m ? unescapeXml(m[1] as string) : null;
}

function text(xml: string, element: string): string | null {
  const m = new RegExp(`<${element}\\b[^>]*>([^<]*)</${element}>`, 'i').exec(xml);
  return m ? unescapeXml((m[1] as string).trim()) : null;
}

function unescapeXml(s: string): string {
  return s
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&apos;/g, "'")
    .replace(/&amp;/g, '&');
}

/** Runs the vendor's provisioning sequence; returns the firmware the PBX offers, if any. */
export async function fetchProvisioning(
  http: HttpContext,
  phone: SimPhoneSpec,
  version: string,
): Promise<FirmwareOffer | null> {
  const ua = httpUserAgent(phone, version);
  const base = http.baseUrl;
  switch (phone.vendor) {
    case 'yealink': {
      await getText(http, `${base}y${phone.provisioningKey.padStart(12, '0')}.cfg`, ua);
      const cfg = await getText(http, `${base}${phone.mac}.cfg`, ua);
      const url = /^static\.firmware\.url\s*=\s*(\S+)\s*$/m.exec(cfg)?.[1];
      return url ? { url, version: null } : null;
    }
    case 'snom': {
      const list = await getText(http, `${base}${phone.provisioningKey}.htm`, ua);
      const settingsUrl = attr(list, 'file', 'url')?.replace('{mac}', phone.mac.toUpperCase());
      if (!settingsUrl) return null;
      const settings = await getText(http, settingsUrl, ua);
      const statusUrl = text(settings, 'firmware_status');
      if (text(settings, 'update_policy') !== 'auto_update' || !statusUrl) return null;
      const fw = await getText(http, statusUrl, ua);
      const url = text(fw, 'firmware');
      return url ? { url, version: null } : null;
    }
    case 'grandstream': {
      const cfg = await getText(http, `${base}cfg${phone.mac}.xml`, ua);
      const path = text(cfg, 'P192');
      if (!path || text(cfg, 'P238') === '2') return null;
      const scheme = text(cfg, 'P212') === '2' ? 'https' : 'http';
      const name = `${text(cfg, 'P232') ?? ''}${grandstreamImageName(phone.model)}${text(cfg, 'P233') ?? ''}`;
      return { url: `${scheme}://${path.replace(/\/$/, '')}/${name}`, version: null };
    }
    case 'gigaset': {
      const profile = await getText(http, `${base}${phone.mac.toUpperCase()}.xml`, ua);
      const url = attr(profile, 'file', 'url');
      const offered = attr(profile, 'file', 'version');
      if (!url || !offered) return null;
      // The base installs only a newer version (no downgrade).
      return compareVersions(offered, version) > 0 ? { url, version: offered } : null;
    }
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
    if (headBytes < 128) {
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
