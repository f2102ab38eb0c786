import { and, arrayOverlaps, eq, inArray, ne } from 'drizzle-orm';
import type { OverviewInput } from '../../domain/overview.ts';
import type { Db } from '../client.ts';
import { catalogReleases, localFirmware, phoneModels, phoneVersionCounts } from '../schema.ts';
import { getAutoUpdate } from './type-settings.ts';

/**
 * Phones per type and reported version (null = not reported yet) of one PBX, from the counts the database keeps
 * current (phone_version_counts): a few rows whatever the number of phones.
 */
export async function phonesPerVersion(
  db: Db,
  pbxId: string,
): Promise<Array<{ modelId: string; version: string | null; phones: number }>> {
  const rows = await db
    .select({
      modelId: phoneVersionCounts.modelId,
      version: phoneVersionCounts.version,
      phones: phoneVersionCounts.phones,
    })
    .from(phoneVersionCounts)
    .where(and(eq(phoneVersionCounts.pbxId, pbxId), ne(phoneVersionCounts.phones, 0)));
  return rows.map((r) => ({ ...r, version: r.version === '' ? null : r.version }));
}

/** Everything the R6 overview rule needs for one PBX, in five small queries (none reads every phone). */
export async function loadOverviewInput(db: Db, pbxId: string): Promise<OverviewInput> {
  const installed = await phonesPerVersion(db, pbxId);
  const modelIds = [...new Set(installed.map((i) => i.modelId))];
  if (modelIds.length === 0) {
    return { types: [], installed: [], localFirmware: [], catalogReleases: [], autoUpdate: [] };
  }
  const [models, local, releases, autoUpdate] = await Promise.all([
    db.select().from(phoneModels).where(inArray(phoneModels.id, modelIds)),
    db
      .select({
        modelId: localFirmware.modelId,
        version: localFirmware.version,
        source: localFirmware.source,
      })
      .from(localFirmware)
      .where(eq(localFirmware.pbxId, pbxId)),
    db
      .select({
        modelIds: catalogReleases.modelIds,
        version: catalogReleases.version,
        withdrawn: catalogReleases.withdrawn,
      })
      .from(catalogReleases)
      .where(arrayOverlaps(catalogReleases.modelIds, modelIds)),
    getAutoUpdate(db, pbxId),
  ]);
  const accounts = new Map<string, number>();
  for (const i of installed) accounts.set(i.modelId, (accounts.get(i.modelId) ?? 0) + i.phones);
  const types = models
    .filter((m) => accounts.has(m.id))
    .map((m) => ({
      modelId: m.id,
      vendor: m.vendor,
      model: m.model,
      imageManaged: m.imageManaged,
      accounts: accounts.get(m.id) ?? 0,
    }));
  return { types, installed, localFirmware: local, catalogReleases: releases, autoUpdate };
}
