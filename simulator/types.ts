import type { Vendor } from '../domain/vendors.ts';

/** What can go wrong with one simulated phone (failure injection). */
export const FAILURES = ['offline', 'download-aborts', 'never-returns', 'returns-old-version'] as const;
export type Failure = (typeof FAILURES)[number];

export interface SimPhoneSpec {
  /** 12 lower-case hex digits. */
  mac: string;
  vendor: Vendor;
  /** Catalog model name, e.g. T54W, D785, HT802, N670. */
  model: string;
  /** Catalog provisioning key: Yealink common-file code, Snom model token, ... */
  provisioningKey: string;
  extension: string;
  /** SIP credentials: the password, or the HA1 the PBX stores (enough for digest). */
  sipPassword?: string | undefined;
  sipHa1?: string | undefined;
  /** The firmware the phone runs when the simulation starts. */
  version: string;
  failure?: Failure | undefined;
}

export interface FleetSpec {
  pbxId: string;
  /** `http://host:port/p/<pbxId>/` and the PBX's provisioning credentials. */
  provisioning: { url: string; user: string; password: string };
  sip: { host: string; port: number; domain: string };
  phones: SimPhoneSpec[];
}
