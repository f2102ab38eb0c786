/**
 * How simulated phones introduce themselves, per vendor: HTTP and SIP User-Agents as the real devices write them
 * (see domain/user-agent.ts for the PBX side), file names they ask for, and the MAC spelling they use.
 */
import type { SimPhoneSpec } from './types.ts';

type Phone = Pick<SimPhoneSpec, 'vendor' | 'model' | 'provisioningKey' | 'mac'>;

function macWithColons(mac: string): string {
  return mac.match(/../g)?.join(':') ?? mac;
}

export function httpUserAgent(p: Phone, version: string): string {
  switch (p.vendor) {
    case 'yealink':
      return `Yealink SIP-${p.model} ${version} ${macWithColons(p.mac)}`;
    case 'snom':
      return `Mozilla/4.0 (compatible; ${p.provisioningKey}-SIP ${version} 2010.12-00004-g9ba52f5 ${p.mac.toUpperCase()} SXM:0 UXM:0)`;
    case 'grandstream':
      return `Grandstream Model HW ${p.model} V1.0A SW ${version} DevId ${p.mac}`;
    case 'gigaset':
      return `Gigaset ${p.model} IP PRO/83.V${version}+build.5f0a106;${p.mac.toUpperCase()};Handset=20`;
  }
}

export function sipUserAgent(p: Phone, version: string): string {
  switch (p.vendor) {
    case 'yealink':
      return `Yealink SIP-${p.model} ${version}`;
    case 'snom':
      return `${p.provisioningKey}/${version}`;
    case 'grandstream':
      return `Grandstream ${p.model} ${version}`;
    case 'gigaset':
      return `Gigaset ${p.model} IP PRO/83.V${version}+build.5f0a106;${p.mac.toUpperCase()}`;
  }
}

/** The image name a Grandstream ATA appends to its firmware path (P192), e.g. `ht802fw.bin`. */
export function grandstreamImageName(model: string): string {
  return `${model.toLowerCase()}fw.bin`;
}

/** The OUI a simulated phone's MAC starts with, per vendor. */
export const VENDOR_OUI = {
  yealink: '805ec0',
  snom: '000413',
  grandstream: 'ec74d7',
  gigaset: '7c2f80',
} as const;
