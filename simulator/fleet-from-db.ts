/** The simulator CLI's database side: create a fleet's accounts, or simulate a PBX's existing accounts. */
import { and, eq } from 'drizzle-orm';
import { connectDb } from '../db/client.ts';
import { catalogReleases, localFirmware, pbxes, phoneAccounts, phoneModels } from '../db/schema.ts';
import { isVendor } from '../domain/vendors.ts';
import { compareVersions } from '../domain/versions.ts';
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
    // A phone whose version the PBX has not learned yet runs something older than what the catalog or the image
    // offers for its model, so the demo has work to do.
    const releases = await handle.db
      .select({ modelIds: catalogReleases.modelIds, version: catalogReleases.version })
      .from(catalogReleases);
    const images = await handle.db
      .select({ modelId: localFirmware.modelId, version: localFirmware.version })
      .from(localFirmware)
      .where(and(eq(localFirmware.pbxId, o.pbxId), eq(localFirmware.source, 'image')));
    const startVersion = (modelId: string): string => {
      const known = [
        ...releases.filter((r) => r.modelIds.includes(modelId)).map((r) => r.version),
        ...images.filter((i) => i.modelId === modelId).map((i) => i.version),
      ];
      const oldest = known.sort(compareVersions)[0];
      return oldest ? olderVersionThan(oldest) : '1.0.0.1';
    };
    // The phones take their SIP line from their provisioning files; the HA1 serves phones simulated without
    // provisioning at boot (benchmarks). An account without SIP credentials cannot register either way.
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
              version: a.installedVersion ?? o.initialVersion ?? startVersion(m.id),
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

/** A plausible earlier version in the same scheme: `96.86.0.70` → `96.86.0.35`, `2.65.0` → `2.64.0`. */
export function olderVersionThan(version: string): string {
  const parts = version.split('.').map((p) => Number.parseInt(p, 10));
  for (let i = parts.length - 1; i >= 0; i--) {
    const n = parts[i] as number;
    if (Number.isFinite(n) && n > 0) {
      parts[i] = i === parts.length - 1 ? Math.floor(n / 2) : n - 1;
      return parts.map((p) => (Number.isFinite(p) ? p : 0)).join('.');
    }
  }
  return version;
}
