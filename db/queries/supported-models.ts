/**
 * R1 / R2 for one PBX: every model the deployment knows — the firmware server's catalog models with the newest
 * release it offers, and the image-managed ones with the image copy the PBX holds — and how many accounts of each
 * the PBX has.
 */
import { and, asc, count, eq } from 'drizzle-orm';
import type { Db } from '../client.ts';
import { catalogReleases, localFirmware, phoneAccounts, phoneModels } from '../schema.ts';

export async function loadSupportedModels(db: Db, pbxId: string) {
  const [models, offered, image, accounts] = await Promise.all([
    db.select().from(phoneModels).orderBy(asc(phoneModels.vendor), asc(phoneModels.model)),
    db
      .select({ modelIds: catalogReleases.modelIds, version: catalogReleases.version })
      .from(catalogReleases)
      .where(eq(catalogReleases.withdrawn, false)),
    db
      .select({ modelId: localFirmware.modelId, version: localFirmware.version })
      .from(localFirmware)
      .where(and(eq(localFirmware.pbxId, pbxId), eq(localFirmware.source, 'image'))),
    db
      .select({ modelId: phoneAccounts.modelId, n: count() })
      .from(phoneAccounts)
      .where(eq(phoneAccounts.pbxId, pbxId))
      .groupBy(phoneAccounts.modelId),
  ]);
  return { models, offered, image, accounts };
}
