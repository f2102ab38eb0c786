/**
 * Sets up the phone accounts of a simulated fleet on a PBX in one call: MACs with the vendor's OUI, free
 * extensions, random SIP passwords stored as the admin API stores them (HA1 for REGISTER, sealed for the provisioning
 * files). Tests and the benchmark use it.
 */
import { and, eq, inArray, like, sql } from 'drizzle-orm';
import type { Db } from '../db/client.ts';
import { pbxes, phoneAccounts, phoneModels } from '../db/schema.ts';
import { isVendor, type Vendor } from '../domain/vendors.ts';
import { loadConfig } from '../lib/config.ts';
import { generateSecret, sealSecret, sipHa1 } from '../lib/secrets.ts';
import { VENDOR_OUI } from './identity.ts';
import type { FleetSpec, SimPhoneSpec } from './types.ts';

export interface CreateFleetOptions {
  pbxId: string;
  /** How many phones of each model (phone_models.id), e.g. `{ 'yealink-t54w': 50 }`. */
  models: Record<string, number>;
  /** The version the phones run at the start: one for all, or per model id. Default: a plausible old one. */
  initialVersion?: string | Record<string, string>;
  /** First extension; default: after the highest numeric extension of the PBX (or 1000). */
  extensionStart?: number;
  /** SECRETS_KEY the phone edge opens SIP passwords with; default: the configured one. */
  secretsKey?: string;
}

export interface SimulatedFleetAccounts {
  pbxId: string;
  sipDomain: string;
  provisioningUser: string;
  phones: Array<SimPhoneSpec & { id: number; modelId: string }>;
}

function defaultVersion(vendor: Vendor, provisioningKey: string): string {
  switch (vendor) {
    case 'yealink':
      return `${Number(provisioningKey) || 96}.86.0.10`;
    case 'snom':
      return '10.1.33.33';
    case 'grandstream':
      return '1.0.29.8';
    case 'gigaset':
      return '2.43.0';
  }
}

export async function createSimulatedFleet(db: Db, o: CreateFleetOptions): Promise<SimulatedFleetAccounts> {
  const [pbx] = await db.select().from(pbxes).where(eq(pbxes.id, o.pbxId));
  if (!pbx) throw new Error(`no PBX ${JSON.stringify(o.pbxId)}`);
  const modelIds = Object.keys(o.models);
  const models = modelIds.length
    ? await db.select().from(phoneModels).where(inArray(phoneModels.id, modelIds))
    : [];
  for (const id of modelIds) {
    const count = o.models[id] as number;
    if (!Number.isInteger(count) || count < 0)
      throw new Error(`phone count for ${id} must be a whole number ≥ 0`);
    const m = models.find((x) => x.id === id);
    if (!m) throw new Error(`no phone model ${JSON.stringify(id)} in phone_models`);
    if (!isVendor(m.vendor)) throw new Error(`model ${id} has an unknown vendor ${m.vendor}`);
  }
  let extension = o.extensionStart ?? 0;
  if (o.extensionStart === undefined) {
    const [row] = await db
      .select({ max: sql<number | null>`max(${phoneAccounts.extension}::bigint)` })
      .from(phoneAccounts)
      .where(and(eq(phoneAccounts.pbxId, o.pbxId), sql`${phoneAccounts.extension} ~ '^[0-9]{1,15}$'`));
    extension = Math.max(1000, Number(row?.max ?? 0) + 1);
  }
  // A MAC is unique in the whole deployment (issue 11), so simulated MACs continue after every PBX's.
  const nextMac = new Map<Vendor, number>();
  for (const vendor of Object.keys(VENDOR_OUI) as Vendor[]) {
    const oui = VENDOR_OUI[vendor];
    const [row] = await db
      .select({ max: sql<string | null>`max(${phoneAccounts.mac})` })
      .from(phoneAccounts)
      .where(like(phoneAccounts.mac, `${oui}%`));
    nextMac.set(vendor, row?.max ? Number.parseInt(row.max.slice(6), 16) + 1 : 1);
  }

  const specs: Array<SimPhoneSpec & { modelId: string }> = [];
  for (const id of modelIds) {
    const m = models.find((x) => x.id === id) as (typeof models)[number];
    const vendor = m.vendor as Vendor;
    const version =
      typeof o.initialVersion === 'string'
        ? o.initialVersion
        : (o.initialVersion?.[id] ?? defaultVersion(vendor, m.provisioningKey));
    for (let i = 0; i < (o.models[id] as number); i++) {
      const serial = nextMac.get(vendor) as number;
      if (serial > 0xffffff) throw new Error(`no simulated MACs left for ${vendor}`);
      nextMac.set(vendor, serial + 1);
      specs.push({
        mac: `${VENDOR_OUI[vendor]}${serial.toString(16).padStart(6, '0')}`,
        vendor,
        model: m.model,
        provisioningKey: m.provisioningKey,
        modelId: id,
        extension: String(extension++),
        sipPassword: generateSecret(12),
        version,
      });
    }
  }
  const secretsKey = o.secretsKey ?? loadConfig().secretsKey;
  const idByMac = new Map<string, number>();
  for (let i = 0; i < specs.length; i += 1_000) {
    const chunk = specs.slice(i, i + 1_000);
    const rows = await db
      .insert(phoneAccounts)
      .values(
        chunk.map((s) => ({
          pbxId: o.pbxId,
          modelId: s.modelId,
          mac: s.mac,
          extension: s.extension,
          displayName: `Sim ${s.model} ${s.extension}`,
          sipHa1: sipHa1(s.extension, pbx.sipDomain, s.sipPassword as string),
          sipPasswordSealed: sealSecret(s.sipPassword as string, secretsKey),
        })),
      )
      .returning({ id: phoneAccounts.id, mac: phoneAccounts.mac });
    for (const r of rows) idByMac.set(r.mac, r.id);
  }
  return {
    pbxId: o.pbxId,
    sipDomain: pbx.sipDomain,
    provisioningUser: pbx.provisioningUser,
    phones: specs.map((s) => ({ ...s, id: idByMac.get(s.mac) as number })),
  };
}

/** The fleet spec for `startFleet`: where the phones find provisioning (with the PBX's secret) and SIP. */
export function fleetSpecOf(
  accounts: SimulatedFleetAccounts,
  endpoints: { provisioningUrl: string; provisioningPassword: string; sipHost: string; sipPort: number },
): FleetSpec {
  return {
    pbxId: accounts.pbxId,
    provisioning: {
      url: endpoints.provisioningUrl,
      user: accounts.provisioningUser,
      password: endpoints.provisioningPassword,
    },
    sip: { host: endpoints.sipHost, port: endpoints.sipPort, domain: accounts.sipDomain },
    phones: accounts.phones,
  };
}
