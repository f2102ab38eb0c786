import { arrayOverlaps, count, eq } from 'drizzle-orm';
import type { OverviewInput } from '../../domain/overview.ts';
import type { Db } from '../client.ts';
import { catalogReleases, localFirmware, phoneAccounts, phoneModels } from '../schema.ts';
import { listTypeHolds } from './type-holds.ts';
import { getAutoUpdate } from './type-settings.ts';

/** Everything the R6 overview rule needs for one PBX, in five small queries. */
export async function loadOverviewInput(db: Db, pbxId: string): Promise<OverviewInput> {
  const installed = await db
    .select({ modelId: phoneAccounts.modelId, version: phoneAccounts.installedVersion, phones: count() })
    .from(phoneAccounts)
    .where(eq(phoneAccounts.pbxId, pbxId))
    .groupBy(phoneAccounts.modelId, phoneAccounts.installedVersion);
  const modelIds = [...new Set(installed.map((i) => i.modelId))];
  if (modelIds.length === 0) {
    return { types: [], installed: [], localFirmware: [], catalogReleases: [], autoUpdate: [] };
  }
  const [models, local, releases, autoUpdate, holds] = await Promise.all([
    db.select().from(phoneModels),
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
    listTypeHolds(db, pbxId),
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
  return {
    types,
    installed,
    localFirmware: local,
    catalogReleases: releases,
    autoUpdate,
    holds: holds.map((h) => ({
      modelId: h.modelId,
      version: h.version,
      who: h.who,
      why: h.why,
      at: h.at.toISOString(),
    })),
  };
}
