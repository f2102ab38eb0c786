/**
 * How simulated phones introduce themselves, per vendor, written from the vendors' and integrators' descriptions
 * (sources per line; test/fixtures/user-agents/corpus.json holds the published strings): HTTP and SIP
 * User-Agents, the image name a Grandstream ATA asks for, the NOTIFY events each vendor acts on.
 */
import type { Vendor } from '../domain/vendors.ts';
import type { SimPhoneSpec } from './types.ts';

type Phone = Pick<SimPhoneSpec, 'vendor' | 'model' | 'provisioningKey' | 'mac'>;

function macWithColons(mac: string): string {
  return mac.match(/../g)?.join(':') ?? mac;
}

/**
 * The model as a Yealink writes it after `Yealink `: `SIP-T31G`, `SIP-T57W`, `SIP-T53W` for the catalog's T31,
 * T57, T53; `SIP-T58` for a T58W (wazo-provd-plugins PR #46: "T58A actually identifies itself as T58");
 * conference phones without `SIP-` (`Yealink CP860 …`, wazo_yealink common.py).
 */
function yealinkUaModel(model: string): string {
  const variants: Record<string, string> = {
    T31: 'SIP-T31G',
    T53: 'SIP-T53W',
    T57: 'SIP-T57W',
    T58W: 'SIP-T58',
  };
  if (variants[model]) return variants[model];
  if (/^CP\d+/.test(model)) return model;
  if (model === 'VP59') return 'SIP VP59';
  return `SIP-${model}`;
}

/** Snom DECT bases (M900) write `Snom M900 <version>`, desk phones `snom<Model>-SIP <version>`. */
function snomIsDect(p: Phone): boolean {
  return /^M\d+/.test(p.model);
}

export function httpUserAgent(p: Phone, version: string): string {
  switch (p.vendor) {
    case 'yealink':
      // `Yealink SIP-T31G 124.85.257.55 80:5e:c0:d5:7d:72` (wazo_yealink v86 tests)
      return `Yealink ${yealinkUaModel(p.model)} ${version} ${macWithColons(p.mac)}`;
    case 'snom':
      // `Mozilla/4.0 (compatible; Snom M900 05.20.0001 000413b60680)` (wazo Snom DECT plugin); desk phones since
      // 10.1.1xx: `… snomD785-SIP 10.1.169.16 2010.12-00001-gd311851f1 (Feb 25 2019 - 14:19:43) 00041396D9B4 SXM:0
      // UXM:0 UXMC:0)` (fusionpbx app/provision/index.php)
      return snomIsDect(p)
        ? `Mozilla/4.0 (compatible; Snom ${p.model} ${version} ${p.mac})`
        : `Mozilla/4.0 (compatible; ${p.provisioningKey}-SIP ${version} 2010.12-00001-gd311851f1 (Feb 25 2019 - 14:19:43) ${p.mac.toUpperCase()} SXM:0 UXM:0 UXMC:0)`;
    case 'grandstream':
      // `Grandstream Model HW HT801 V1.1A SW 1.0.17.5 DevId c074ad273a10` (wazo_grandstream common_ata)
      return `Grandstream Model HW ${p.model} V1.0A SW ${version} DevId ${p.mac}`;
    case 'gigaset':
      // `Gigaset N670 IP PRO/83.V2.43.0+build.5f0a106;7C2F80XXXXXX;Handset=20` (Gigaset pro wiki "FAQ Nx70 - User
      // agent": HTTP only adds `;Handset=` from 2.26)
      return `Gigaset ${p.model} IP PRO/83.V${version}+build.5f0a106;${p.mac.toUpperCase()};Handset=20`;
  }
}

export function sipUserAgent(p: Phone, version: string): string {
  switch (p.vendor) {
    case 'yealink':
      // `Yealink SIP-T27G 69.86.0.15` (PHONES.md)
      return `Yealink ${yealinkUaModel(p.model)} ${version}`;
    case 'snom':
      // `snomD785/10.1.84.12` (PHONES.md, unconfirmed); DECT bases as over HTTP
      return snomIsDect(p) ? `Snom ${p.model} ${version}` : `${p.provisioningKey}/${version}`;
    case 'grandstream':
      // `Grandstream HT802 1.0.29.8` (PHONES.md)
      return `Grandstream ${p.model} ${version}`;
    case 'gigaset':
      // the HTTP User-Agent without `;Handset=` (Gigaset pro wiki)
      return `Gigaset ${p.model} IP PRO/83.V${version}+build.5f0a106;${p.mac.toUpperCase()}`;
  }
}

/**
 * The image name a Grandstream ATA appends to its firmware path (P192): `ht802fw.bin` for the HT802 (PHONES.md,
 * wazo-provd-plugins wazo_grandstream packages), `ht81xfw.bin` for the HT812/HT814 family (issue 10; unconfirmed).
 */
export function grandstreamImageName(model: string): string {
  const m = model.toLowerCase();
  return /^ht81\d$/.test(m) ? 'ht81xfw.bin' : `${m}fw.bin`;
}

/**
 * NOTIFY events each vendor acts on (PHONES.md "Triggering a re-sync": Yealink and Snom `check-sync`, Grandstream
 * ATAs `resync` and `check-sync`, Gigaset `check-sync`); any other event is answered 489 Bad Event (RFC 6665 8.3.2).
 */
export const ACCEPTED_EVENTS: Record<Vendor, string[]> = {
  yealink: ['check-sync'],
  snom: ['check-sync'],
  grandstream: ['resync', 'check-sync'],
  gigaset: ['check-sync'],
};

/** The OUI a simulated phone's MAC starts with, per vendor. */
export const VENDOR_OUI = {
  yealink: '805ec0',
  snom: '000413',
  grandstream: 'ec74d7',
  gigaset: '7c2f80',
} as const;
