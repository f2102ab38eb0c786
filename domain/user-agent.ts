/**
 * R6 "firmware in use": the PBX learns what a phone runs from the User-Agent of its provisioning requests and
 * SIP REGISTERs. One parser per vendor convention; which models exist stays catalog data, so the parser only
 * names the model as the phone writes it and `matchesModel` decides whether it is the account's catalog model.
 */

import { normalizeMac } from './mac.ts';
import type { Vendor } from './vendors.ts';

export interface ParsedUserAgent {
  vendor: Vendor;
  /** The model as the UA writes it, e.g. `SIP-T31G`, `snomD785`, `HT802V2`, `N670 IP PRO`. */
  uaModel: string;
  /** The catalog model name it stands for, e.g. `T31`, `D785`, `HT802`, `N670`. */
  model: string;
  /** Other names the catalog may use for it (the full variant name, e.g. `T31G`, `HT802V2`). */
  aliases: string[];
  version: string;
  /** 12 lower-case hex digits when the UA carries the MAC (HTTP requests do, most REGISTERs do not). */
  mac: string | null;
}

const VERSION = String.raw`\d+(?:\.\d+){1,5}`;

interface VendorParser {
  vendor: Vendor;
  pattern: RegExp;
  /** Catalog name candidates from the UA's model token, most specific base first. */
  names(uaModel: string): { model: string; aliases: string[] };
  /** Group indexes of model, version and (optional) MAC. */
  groups: { model: number; version: number; mac?: number };
}

const PARSERS: VendorParser[] = [
  {
    // HTTP `Yealink SIP-T31G 124.85.257.55 80:5e:c0:d5:7d:72`, SIP `Yealink SIP-T27G 69.86.0.15`,
    // also `Yealink SIP VP59 91.86.0.15` and `Yealink CP920 78.86.0.15`.
    vendor: 'yealink',
    pattern: new RegExp(
      String.raw`^Yealink\s+((?:SIP[- ])?[A-Za-z0-9-]+)\s+(${VERSION})(?:\s+((?:[0-9a-f]{2}:){5}[0-9a-f]{2}|[0-9a-f]{12}))?`,
      'i',
    ),
    groups: { model: 1, version: 2, mac: 3 },
    names(uaModel) {
      const full = uaModel.replace(/^SIP[- ]/i, '').toUpperCase();
      // A trailing G marks the gigabit variant of a model (T31G is a T31); T27G-like names stay as aliases.
      const base = /^[A-Z]+\d+G$/.test(full) ? full.slice(0, -1) : full;
      return { model: base, aliases: base === full ? [] : [full] };
    },
  },
  {
    // HTTP `Mozilla/4.0 (compatible; snomD785-SIP 10.1.33.33 2010.12-00004-g9ba52f5 000413922D24 SXM:0 UXM:0)`
    vendor: 'snom',
    // The MAC is the 12-hex-digit word after the version (a build id may stand between them).
    pattern: new RegExp(
      String.raw`\bsnom([A-Za-z0-9]+)-SIP\s+(${VERSION})(?:(?:\s+[^\s)]+)*?\s+([0-9A-Fa-f]{12})(?=[\s)]|$))?`,
      'i',
    ),
    groups: { model: 1, version: 2, mac: 3 },
    names: snomNames,
  },
  {
    // SIP `snomD785/10.1.84.12`
    vendor: 'snom',
    pattern: new RegExp(`^snom([A-Za-z0-9]+)/(${VERSION})`, 'i'),
    groups: { model: 1, version: 2 },
    names: snomNames,
  },
  {
    // HTTP `Grandstream Model HW HT802V2 V1.0A SW 1.0.5.4 DevId ec74d763e419`
    vendor: 'grandstream',
    pattern: new RegExp(
      String.raw`^Grandstream\s+Model\s+HW\s+([A-Za-z0-9]+)\s+V\S+\s+SW\s+(${VERSION})(?:\s+DevId\s+([0-9A-Fa-f:]{12,17}))?`,
      'i',
    ),
    groups: { model: 1, version: 2, mac: 3 },
    names: grandstreamNames,
  },
  {
    // SIP `Grandstream HT802 1.0.29.8`
    vendor: 'grandstream',
    pattern: new RegExp(String.raw`^Grandstream\s+([A-Za-z0-9]+)\s+(${VERSION})\b`, 'i'),
    groups: { model: 1, version: 2 },
    names: grandstreamNames,
  },
  {
    // `Gigaset N670 IP PRO/83.V2.43.0+build.5f0a106;7C2F80AABBCC` (HTTP adds `;Handset=20` from 2.26)
    vendor: 'gigaset',
    pattern: new RegExp(
      String.raw`^Gigaset\s+([A-Za-z0-9][A-Za-z0-9 ]*?)\s*/\s*(?:\d+\.)?V(${VERSION})(?:[+][^;]*)?(?:;\s*([0-9A-Fa-f]{12}))?`,
      'i',
    ),
    groups: { model: 1, version: 2, mac: 3 },
    names(uaModel) {
      const full = uaModel.trim().toUpperCase();
      const base = full.split(/\s+/)[0] ?? full;
      return { model: base, aliases: base === full ? [] : [full] };
    },
  },
];

function snomNames(uaModel: string) {
  const full = uaModel.toUpperCase();
  // D715/D725 call themselves snom715/snom725.
  const model = /^\d/.test(full) ? `D${full}` : full;
  return { model, aliases: model === full ? [] : [full] };
}

function grandstreamNames(uaModel: string) {
  const full = uaModel.toUpperCase();
  const base = full.replace(/V\d+$/, '');
  return { model: base, aliases: base === full ? [] : [full] };
}

/** Parses a phone's User-Agent (HTTP or SIP); null when no vendor convention matches. */
export function parseUserAgent(userAgent: string | null | undefined): ParsedUserAgent | null {
  if (!userAgent) return null;
  const ua = userAgent.trim();
  for (const p of PARSERS) {
    const m = p.pattern.exec(ua);
    if (!m) continue;
    const uaModel = m[p.groups.model] as string;
    const { model, aliases } = p.names(uaModel);
    const rawMac = p.groups.mac !== undefined ? m[p.groups.mac] : undefined;
    return {
      vendor: p.vendor,
      uaModel,
      model,
      aliases,
      version: m[p.groups.version] as string,
      mac: rawMac ? (normalizeMac(rawMac) ?? null) : null,
    };
  }
  return null;
}

function simplify(name: string): string {
  return name.toUpperCase().replace(/[^A-Z0-9]/g, '');
}

/** Whether the UA names this catalog model (vendor and model both). */
export function matchesModel(parsed: ParsedUserAgent, model: { vendor: string; model: string }): boolean {
  if (parsed.vendor !== model.vendor) return false;
  const want = simplify(model.model);
  return [parsed.model, ...parsed.aliases].some((n) => simplify(n) === want);
}

/**
 * The installed version to record for an account, or null when the UA cannot be trusted for it: a UA that names
 * another vendor or model (a misconfigured phone, a softphone on the same account) must not change "in use".
 */
export function trustedVersion(
  parsed: ParsedUserAgent | null,
  account: { vendor: string; model: string },
): string | null {
  return parsed && matchesModel(parsed, account) ? parsed.version : null;
}
