import { and, eq, ne, sql } from 'drizzle-orm';
import type { OverviewInput } from '../../domain/overview.ts';
import type { Db } from '../client.ts';
import { compileStatement } from '../prepared.ts';
import { catalogReleases, localFirmware, phoneModels, phoneVersionCounts, typeSettings } from '../schema.ts';
import { listTypeHolds } from './type-holds.ts';

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

const pbx = sql.placeholder('pbxId');
const jsonList = (select: ReturnType<typeof sql>) => sql`coalesce((${select}), '[]'::json)`;

/**
 * Everything the R6 overview rule needs for one PBX in ONE statement (a page polls it; each statement is a round
 * trip): the kept counts per type and version (none of it reads every phone), the models in use, the PBX's
 * local firmware, the catalog's releases for those models, the R7 settings.
 */
const overviewInput = compileStatement<'pbxId'>(sql`
  with installed as (
    select ${phoneVersionCounts.modelId} as model_id, ${phoneVersionCounts.version} as version,
      ${phoneVersionCounts.phones} as phones
    from ${phoneVersionCounts}
    where ${phoneVersionCounts.pbxId} = ${pbx} and ${phoneVersionCounts.phones} <> 0
  )
  select
    ${jsonList(sql`select json_agg(json_build_object('modelId', model_id, 'version', nullif(version, ''),
      'phones', phones)) from installed`)} as "installed",
    ${jsonList(sql`select json_agg(json_build_object('modelId', ${phoneModels.id}, 'vendor', ${phoneModels.vendor},
      'model', ${phoneModels.model}, 'imageManaged', ${phoneModels.imageManaged}))
      from ${phoneModels} where ${phoneModels.id} in (select model_id from installed)`)} as "types",
    ${jsonList(sql`select json_agg(json_build_object('modelId', ${localFirmware.modelId},
      'version', ${localFirmware.version}, 'source', ${localFirmware.source}))
      from ${localFirmware} where ${localFirmware.pbxId} = ${pbx}`)} as "localFirmware",
    ${jsonList(sql`select json_agg(json_build_object('modelIds', ${catalogReleases.modelIds},
      'version', ${catalogReleases.version}, 'withdrawn', ${catalogReleases.withdrawn}))
      from ${catalogReleases}
      where ${catalogReleases.modelIds} && array(select distinct model_id from installed)`)} as "catalogReleases",
    ${jsonList(sql`select json_agg(json_build_object('modelId', ${typeSettings.modelId},
      'autoUpdate', ${typeSettings.autoUpdate}))
      from ${typeSettings} where ${typeSettings.pbxId} = ${pbx}`)} as "autoUpdate"
`);

/** Everything the R6 overview rule needs for one PBX (one statement; none of it reads every phone). */
export async function loadOverviewInput(db: Db, pbxId: string): Promise<OverviewInput> {
  const [[row], holds] = await Promise.all([
    overviewInput.run<{
      installed: OverviewInput['installed'];
      types: Array<Omit<OverviewInput['types'][number], 'accounts'>>;
      localFirmware: OverviewInput['localFirmware'];
      catalogReleases: OverviewInput['catalogReleases'];
      autoUpdate: OverviewInput['autoUpdate'];
    }>(db, { pbxId }),
    listTypeHolds(db, pbxId),
  ]);
  if (!row || row.installed.length === 0) {
    return { types: [], installed: [], localFirmware: [], catalogReleases: [], autoUpdate: [] };
  }
  const accounts = new Map<string, number>();
  for (const i of row.installed) accounts.set(i.modelId, (accounts.get(i.modelId) ?? 0) + i.phones);
  return {
    types: row.types.map((t) => ({ ...t, accounts: accounts.get(t.modelId) ?? 0 })),
    installed: row.installed,
    localFirmware: row.localFirmware,
    catalogReleases: row.catalogReleases,
    autoUpdate: row.autoUpdate,
    holds: holds.map((h) => ({
      modelId: h.modelId,
      version: h.version,
      who: h.who,
      why: h.why,
      at: h.at.toISOString(),
    })),
  };
}
