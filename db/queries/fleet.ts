/**
 * What the fleet view (domain/fleet.ts) needs across PBXes, in seven aggregate queries whatever the number of
 * PBXes: no query per PBX. Phones are counted per PBX, type and version by Postgres; running rollouts come from
 * the partial index of running rows; failures from rollouts that ended in the failure window.
 */
import { and, count, eq, gte, inArray, max, type SQL, sql } from 'drizzle-orm';
import type { FleetInput } from '../../domain/fleet.ts';
import type { Db } from '../client.ts';
import { catalogReleases, localFirmware, pbxes, phoneAccounts, phoneModels, rollouts } from '../schema.ts';

/** `onlyPbxIds`: a PBX-scoped token's own PBX (R16); undefined = the whole deployment. */
export async function loadFleetInput(
  db: Db,
  options: { onlyPbxIds?: string[]; failuresSince: Date },
): Promise<FleetInput> {
  const only = options.onlyPbxIds;
  const scoped = <T extends SQL | undefined>(column: Parameters<typeof inArray>[0], extra?: T) =>
    and(only ? inArray(column, only) : undefined, extra);
  const [pbxRows, models, installed, local, offered, running, failures] = await Promise.all([
    db
      .select({
        id: pbxes.id,
        name: pbxes.name,
        timeZone: pbxes.timeZone,
        autoDownloadInstall: pbxes.autoDownloadInstall,
        updateDay: pbxes.updateDay,
        updateMinute: pbxes.updateMinute,
      })
      .from(pbxes)
      .where(scoped(pbxes.id)),
    db.select({ id: phoneModels.id, vendor: phoneModels.vendor, model: phoneModels.model }).from(phoneModels),
    db
      .select({
        pbxId: phoneAccounts.pbxId,
        modelId: phoneAccounts.modelId,
        version: phoneAccounts.installedVersion,
        phones: count(),
      })
      .from(phoneAccounts)
      .where(scoped(phoneAccounts.pbxId))
      .groupBy(phoneAccounts.pbxId, phoneAccounts.modelId, phoneAccounts.installedVersion),
    db
      .selectDistinct({
        pbxId: localFirmware.pbxId,
        modelId: localFirmware.modelId,
        version: localFirmware.version,
      })
      .from(localFirmware)
      .where(scoped(localFirmware.pbxId)),
    db
      .select({ modelIds: catalogReleases.modelIds, version: catalogReleases.version })
      .from(catalogReleases)
      .where(eq(catalogReleases.withdrawn, false)),
    db
      .select({
        pbxId: rollouts.pbxId,
        modelId: rollouts.modelId,
        rolloutId: rollouts.id,
        targetVersion: rollouts.targetVersion,
        total: rollouts.total,
        // Kept current by the rollout as its blocks settle (the per-PBX page reads the per-phone record live).
        done: sql<number>`${rollouts.updated} + ${rollouts.alreadyCurrent} + ${rollouts.failed} + ${rollouts.notContacted} + ${rollouts.skipped}`,
      })
      .from(rollouts)
      .where(scoped(rollouts.pbxId, eq(rollouts.status, 'running'))),
    db
      .select({ pbxId: rollouts.pbxId, rollouts: count(), lastAt: max(rollouts.finishedAt) })
      .from(rollouts)
      .where(
        scoped(
          rollouts.pbxId,
          and(
            inArray(rollouts.status, ['failed', 'completed-with-failures']),
            gte(rollouts.finishedAt, options.failuresSince),
          ),
        ),
      )
      .groupBy(rollouts.pbxId),
  ]);
  return {
    pbxes: pbxRows.map((p) => ({
      id: p.id,
      name: p.name,
      timeZone: p.timeZone,
      autoDownloadInstall: p.autoDownloadInstall,
      updateMoment:
        p.updateDay === null || p.updateMinute === null ? null : { day: p.updateDay, minute: p.updateMinute },
    })),
    models,
    installed,
    localFirmware: local,
    offered,
    running: running.map((r) => ({ ...r, done: Number(r.done) })),
    failures: failures.map((f) => ({
      pbxId: f.pbxId,
      rollouts: f.rollouts,
      lastAt: (f.lastAt as Date | null)?.getTime() ?? 0,
    })),
  };
}
