/** The simulator CLI's database side: create a fleet's accounts, or simulate a PBX's existing accounts. */
import { eq } from 'drizzle-orm';
import { connectDb } from '../db/client.ts';
import { pbxes, phoneAccounts, phoneModels } from '../db/schema.ts';
import { isVendor } from '../domain/vendors.ts';
import { createSimulatedFleet, fleetSpecOf } from './accounts.ts';
import type { FleetSpec, SimPhoneSpec } from './types.ts';

export interface FleetFromDatabaseOptions {
  pbxId: string;
  /** Create this many accounts per model id; absent = simulate the PBX's existing accounts. */
  models?: Record<string, number> | undefined;
  initialVersion?: string | undefined;
  endpoints: { provisioningUrl: string; provisioningPassword: string; sipHost: string; sipPort: number };
}

export async function fleetFromDatabase(url: string, o: FleetFromDatabaseOptions): Promise<FleetSpec> {
  const handle = connectDb(url, { max: 2 });
  try {
    if (o.models) {
      const accounts = await createSimulatedFleet(handle.db, {
        pbxId: o.pbxId,
        models: o.models,
        ...(o.initialVersion ? { initialVersion: o.initialVersion } : {}),
      });
      return fleetSpecOf(accounts, o.endpoints);
    }
    const [pbx] = await handle.db.select().from(pbxes).where(eq(pbxes.id, o.pbxId));
    if (!pbx) throw new Error(`no PBX ${JSON.stringify(o.pbxId)}`);
    const rows = await handle.db
      .select({ a: phoneAccounts, m: phoneModels })
      .from(phoneAccounts)
      .innerJoin(phoneModels, eq(phoneModels.id, phoneAccounts.modelId))
      .where(eq(phoneAccounts.pbxId, o.pbxId));
    // Accounts without SIP credentials cannot register; the HA1 is all digest needs.
    const phones: SimPhoneSpec[] = rows.flatMap(({ a, m }) =>
      a.sipHa1 && isVendor(m.vendor)
        ? [
            {
              mac: a.mac,
              vendor: m.vendor,
              model: m.model,
              provisioningKey: m.provisioningKey,
              extension: a.extension,
              sipHa1: a.sipHa1,
              version: a.installedVersion ?? o.initialVersion ?? '1.0.0.1',
            },
          ]
        : [],
    );
    const spec = fleetSpecOf(
      { pbxId: o.pbxId, sipDomain: pbx.sipDomain, provisioningUser: pbx.provisioningUser, phones: [] },
      o.endpoints,
    );
    return { ...spec, phones };
  } finally {
    await handle.close();
  }
}
