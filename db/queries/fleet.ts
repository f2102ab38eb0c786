/**
 * What the fleet view (domain/fleet.ts) needs across PBXes, in seven aggregate queries whatever the number of
 * PBXes: no query per PBX. Phones per PBX, type and version are the counts Postgres keeps current
 * (phone_version_counts); running rollouts come from the partial index of running rows; failures from rollouts that
 * ended in the failure window.
 */
import { and, count, eq, gte, inArray, max, ne, type SQL, sql } from 'drizzle-orm';
import type { FleetInput } from '../../domain/fleet.ts';
import type { Db } from '../client.ts';
import {
  catalogReleases,
  localFirmware,
  pbxes,
  phoneModels,
  phoneVersionCounts,
  rollouts,
} from '../schema.ts';

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
    // The counts the database keeps current as phones report versions (phone_version_counts, R6): a few rows per
    // PBX, not a scan of every phone of the fleet per request.
    db
      .select({
        pbxId: phoneVersionCounts.pbxId,
        modelId: phoneVersionCounts.modelId,
        version: phoneVersionCounts.version,
        phones: phoneVersionCounts.phones,
      })
      .from(phoneVersionCounts)
      .where(scoped(phoneVersionCounts.pbxId, ne(phoneVersionCounts.phones, 0))),
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
    installed: installed.map((i) => ({ ...i, version: i.version === '' ? null : i.version })),
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
