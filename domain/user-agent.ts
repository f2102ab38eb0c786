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
  /** Where the MAC is a word of its own somewhere after the match (group 1), not at a fixed place. */
  macAfter?: RegExp;
}

/** A MAC written as 12 hex digits or six colon/dash-separated pairs, standing alone. */
const MAC = '(?:[0-9A-Fa-f]{2}[:-]){5}[0-9A-Fa-f]{2}|[0-9A-Fa-f]{12}';

const PARSERS: VendorParser[] = [
  {
    // HTTP `Yealink SIP-T31G 124.85.257.55 80:5e:c0:d5:7d:72`, SIP `Yealink SIP-T27G 69.86.0.15`, also
    // `Yealink SIP VP-T49G 51.80.0.10 …`, `Yealink CP860 …`, `yealink SIP-T28P …`, `Yealink-T46G 28.71.0.81 …`
    // (wazo-provd-plugins wazo_yealink common.py examples; test/fixtures/user-agents/corpus.json).
    vendor: 'yealink',
    pattern: new RegExp(
      String.raw`^Yealink[\s-]+((?:SIP[- ](?:VP-)?)?[A-Za-z0-9_]+(?:-[A-Za-z0-9_]+)?)\s+(${VERSION})(?:\s+(${MAC}))?(?=\s|$)`,
      'i',
    ),
    groups: { model: 1, version: 2, mac: 3 },
    names: yealinkNames,
  },
  {
    // DECT and video models that leave out the vendor: `W52P 25.30.0.2 00:15:65:44:b3:7c`, `VP530P 23.70.0.40 …`
    // (wazo-provd-plugins wazo_yealink common.py).
    vendor: 'yealink',
    pattern: new RegExp(String.raw`^(VP530P?|W52P)\s+(${VERSION})\s+(${MAC})$`, 'i'),
    groups: { model: 1, version: 2, mac: 3 },
    names: yealinkNames,
  },
  {
    // HTTP `Mozilla/4.0 (compatible; snomD785-SIP 10.1.33.33 2010.12-00004-g9ba52f5 000413922D24 SXM:0 UXM:0)` and
    // the current one with a build date: `… 2010.12-00001-gd311851f1 (Feb 25 2019 - 14:19:43) 00041396D9B4 SXM:0 …`
    // (wazo-provd-plugins wazo_snom common.py; fusionpbx app/provision/index.php). The MAC is the first word of
    // 12 hex digits after the version, wherever the build information ends.
    vendor: 'snom',
    pattern: new RegExp(String.raw`\bsnom([A-Za-z0-9]+)-SIP\s+(${VERSION})(?=[\s;)]|$)`, 'i'),
    groups: { model: 1, version: 2 },
    macAfter: /(?:^|[\s(])([0-9A-Fa-f]{12})(?=[\s);]|$)/,
    names: snomNames,
  },
  {
    // Snom DECT bases: `Mozilla/4.0 (compatible; Snom M900 05.20.0001 000413b60680)` (wazo-provd-plugins Snom DECT).
    vendor: 'snom',
    pattern: new RegExp(
      String.raw`\bSnom\s?(M\d{2,3})\s+(${VERSION})(?:\s+([0-9A-Fa-f]{12}))?(?=[\s);]|$)`,
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
    // HTTP `Grandstream Model HW HT802V2 V1.0A SW 1.0.5.4 DevId ec74d763e419`; the hardware revision may be missing
    // (wazo-provd-plugins wazo_grandstream common_ata: `Model HW (\w+)(?:\s+V[^ ]+)? SW`).
    vendor: 'grandstream',
    pattern: new RegExp(
      String.raw`^Grandstream\s+Model\s+HW\s+([A-Za-z0-9]+)(?:\s+V\S+)?\s+SW\s+(${VERSION})(?:\s+DevId\s+(${MAC}))?`,
      'i',
    ),
    groups: { model: 1, version: 2, mac: 3 },
    names: grandstreamNames,
  },
  {
    // SIP `Grandstream HT802 1.0.29.8`, ATAs also with their MAC after the version.
    vendor: 'grandstream',
    pattern: new RegExp(
      String.raw`^Grandstream\s+([A-Za-z0-9]+)\s+(${VERSION})(?:\s+(${MAC}))?(?=\s|$)`,
      'i',
    ),
    groups: { model: 1, version: 2, mac: 3 },
    names: grandstreamNames,
  },
  {
    // `Gigaset N670 IP PRO/83.V2.43.0+build.5f0a106;7C2F80AABBCC` (HTTP adds `;Handset=20` from 2.26), the N610's
    // `Gigaset N610 IP PRO/83.V2.64.0-160-g758db0bf;589EC67C2479;Handset=20` (Gigaset pro wiki "FAQ Nx70 - User
    // agent"; wazo-provd-plugins wazo_gigaset). A published placeholder such as `7C2F80XXXXXX` is no MAC.
    vendor: 'gigaset',
    pattern: new RegExp(
      String.raw`^"?Gigaset\s+([A-Za-z0-9][A-Za-z0-9 ]*?)\s*/\s*(?:\d+\.)?V(${VERSION})(?:[+-][^;]*)?(?:;\s*(?:([0-9A-Fa-f]{12})(?=;|"|$)|[^;]*))?`,
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

/**
 * `SIP-T31G`/`SIP-T31P` → T31, `SIP-T57W` → T57, `T53W` → T53, `SIP VP-T49G` → T49, `SIP-T58` → T58 (T58W),
 * `SIP-T19P_E2` → T19P_E2: the letter after a model number marks a variant (gigabit, PoE, Wi-Fi) of one family; the
 * full name stays an alias, so a catalog that lists T54W or T27G still matches.
 */
function yealinkNames(uaModel: string) {
  const full = uaModel
    .replace(/^SIP[- ]/i, '')
    .replace(/^VP-/i, '')
    .toUpperCase();
  const base = /^[A-Z]+\d+[GPWS]$/.test(full) ? full.slice(0, -1) : full;
  const aliases = new Set([full, `${base}W`]);
  aliases.delete(base);
  return { model: base, aliases: [...aliases] };
}

function snomNames(uaModel: string) {
  const full = uaModel.toUpperCase();
  // D715/D725 call themselves snom715/snom725.
  const model = full === '715' || full === '725' ? `D${full}` : full;
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
    const rawMac =
      (p.groups.mac !== undefined ? m[p.groups.mac] : undefined) ??
      (p.macAfter ? p.macAfter.exec(ua.slice(m.index + m[0].length))?.[1] : undefined);
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
