import type { Vendor } from '../domain/vendors.ts';

/** What can go wrong with one simulated phone (failure injection). */
export const FAILURES = [
  'offline',
  'download-aborts',
  'never-returns',
  'returns-old-version',
  // Answers an out-of-dialog NOTIFY with 481, as a phone that takes NOTIFY only within a subscription does
  // (RFC 6665 4.1.3; e.g. Yealink with sip.notify_reboot_enable = 2 "ignore", PHONES.md).
  'refuses-notify',
] as const;
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
  /**
   * SIP credentials for a phone that registers without provisioning first (benchmarks): the password, or the
   * HA1. A phone that provisions at boot registers with the line its provisioning files give it instead.
   */
  sipPassword?: string | undefined;
  sipHa1?: string | undefined;
  /**
   * Challenges NOTIFYs with digest, realm = its model, as Grandstream ATAs do with P4428 "disable SIP NOTIFY
   * authentication" = No (PHONES.md; issue 10 item 6).
   */
  notifyAuth?: boolean | undefined;
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
