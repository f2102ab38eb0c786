/**
 * The operator's fleet view (R16, issue 12): one row per PBX with its time zone, switches, the types whose phones
 * run older firmware than the newest version the PBX knows of, running rollouts, rollouts that failed in the last
 * week and the next update moment; filtered and sorted by the server. Pure: the database gives the numbers
 * (db/queries/fleet.ts), this decides what they mean, using the one version order (domain/versions.ts) and the
 * one weekly-moment rule (domain/timing.ts).
 */
import { vendorLabel } from './overview.ts';
import { nextWeeklyOccurrence, type WeeklyMoment } from './timing.ts';
import { compareVersions, newestVersion } from './versions.ts';

export const FAILURE_WINDOW_MS = 7 * 24 * 60 * 60 * 1000;

export interface FleetInput {
  pbxes: Array<{
    id: string;
    name: string;
    timeZone: string;
    autoDownloadInstall: boolean;
    updateMoment: WeeklyMoment | null;
  }>;
  models: Array<{ id: string; vendor: string; model: string }>;
  /** Phones per PBX, type and reported version (null = not reported yet). */
  installed: Array<{ pbxId: string; modelId: string; version: string | null; phones: number }>;
  /** Firmware stored on the PBXes (downloads and R2 image copies). */
  localFirmware: Array<{ pbxId: string; modelId: string; version: string }>;
  /** Releases the firmware server offers (withdrawn ones left out). */
  offered: Array<{ modelIds: string[]; version: string }>;
  running: Array<{
    pbxId: string;
    modelId: string;
    rolloutId: string;
    targetVersion: string;
    total: number;
    done: number;
  }>;
  /** Rollouts that ended `failed` or `completed-with-failures` within the failure window. */
  failures: Array<{ pbxId: string; rollouts: number; lastAt: number }>;
}

export interface TypeBehind {
  modelId: string;
  vendor: string;
  model: string;
  /** The newest version the PBX knows of for the type: stored on it, or offered by the firmware server. */
  newest: string;
  /** Phones that reported an older version. */
  phonesBehind: number;
  /** The oldest version among them. */
  oldest: string;
}

export interface FleetRow {
  id: string;
  name: string;
  timeZone: string;
  autoDownloadInstall: boolean;
  updateMoment: WeeklyMoment | null;
  /** R11's next moment; null when none is set or R8 is off (the update moment then does nothing). */
  nextUpdateAt: number | null;
  phones: number;
  /** Phones that never reported a version. */
  phonesUnknown: number;
  typesBehind: TypeBehind[];
  phonesBehind: number;
  runningRollouts: Array<{
    modelId: string;
    model: string;
    rolloutId: string;
    targetVersion: string;
    percent: number;
  }>;
  failedRollouts: number;
  lastFailureAt: number | null;
}

export const FLEET_SORTS = [
  'id',
  'name',
  'timeZone',
  'nextUpdate',
  'behind',
  'running',
  'failures',
  'phones',
] as const;
export type FleetSort = (typeof FLEET_SORTS)[number];

export interface FleetFilter {
  /** Part of the PBX's id or name, any case. */
  q?: string | undefined;
  /** Only PBXes with phones of this type. */
  modelId?: string | undefined;
  /** Only PBXes where a phone of this type reported a version older than this one. */
  below?: { modelId: string; version: string } | undefined;
  behind?: boolean | undefined;
  running?: boolean | undefined;
  failed?: boolean | undefined;
  autoDownloadInstall?: boolean | undefined;
  timeZone?: string | undefined;
}

type Versions = Map<string, Array<{ version: string | null; phones: number }>>;

function groupBy<T>(items: T[], key: (t: T) => string): Map<string, T[]> {
  const m = new Map<string, T[]>();
  for (const item of items) {
    const k = key(item);
    const list = m.get(k);
    if (list) list.push(item);
    else m.set(k, [item]);
  }
  return m;
}

/** The rows and, per PBX, the versions its phones report (for the `below` filter). */
export function fleetRows(
  input: FleetInput,
  now: number,
): { rows: FleetRow[]; versions: Map<string, Versions> } {
  const models = new Map(input.models.map((m) => [m.id, m]));
  const offeredByModel = new Map<string, string[]>();
  for (const r of input.offered) {
    for (const id of r.modelIds) offeredByModel.set(id, [...(offeredByModel.get(id) ?? []), r.version]);
  }
  const installedByPbx = groupBy(input.installed, (i) => i.pbxId);
  const localByPbx = groupBy(input.localFirmware, (f) => f.pbxId);
  const runningByPbx = groupBy(input.running, (r) => r.pbxId);
  const failuresByPbx = new Map(input.failures.map((f) => [f.pbxId, f]));
  const versions = new Map<string, Versions>();

  const rows = input.pbxes.map((pbx): FleetRow => {
    const perType: Versions = new Map();
    for (const i of installedByPbx.get(pbx.id) ?? []) {
      perType.set(i.modelId, [...(perType.get(i.modelId) ?? []), { version: i.version, phones: i.phones }]);
    }
    versions.set(pbx.id, perType);
    const local = localByPbx.get(pbx.id) ?? [];
    let phones = 0;
    let phonesUnknown = 0;
    const typesBehind: TypeBehind[] = [];
    for (const [modelId, counts] of perType) {
      for (const c of counts) {
        phones += c.phones;
        if (c.version === null) phonesUnknown += c.phones;
      }
      const newest = newestVersion([
        ...local.filter((f) => f.modelId === modelId).map((f) => f.version),
        ...(offeredByModel.get(modelId) ?? []),
      ]);
      if (newest === undefined) continue;
      const older = counts.filter(
        (c): c is { version: string; phones: number } =>
          c.version !== null && compareVersions(c.version, newest) < 0,
      );
      if (older.length === 0) continue;
      const m = models.get(modelId);
      typesBehind.push({
        modelId,
        vendor: vendorLabel(m?.vendor ?? ''),
        model: m?.model ?? modelId,
        newest,
        phonesBehind: older.reduce((n, c) => n + c.phones, 0),
        oldest: older.map((c) => c.version).reduce((a, b) => (compareVersions(a, b) <= 0 ? a : b)),
      });
    }
    typesBehind.sort((a, b) => a.vendor.localeCompare(b.vendor) || a.model.localeCompare(b.model));
    const failures = failuresByPbx.get(pbx.id);
    return {
      id: pbx.id,
      name: pbx.name,
      timeZone: pbx.timeZone,
      autoDownloadInstall: pbx.autoDownloadInstall,
      updateMoment: pbx.updateMoment,
      nextUpdateAt:
        pbx.updateMoment && pbx.autoDownloadInstall
          ? nextWeeklyOccurrence(pbx.updateMoment, pbx.timeZone, now)
          : null,
      phones,
      phonesUnknown,
      typesBehind,
      phonesBehind: typesBehind.reduce((n, t) => n + t.phonesBehind, 0),
      runningRollouts: (runningByPbx.get(pbx.id) ?? [])
        .map((r) => ({
          modelId: r.modelId,
          model: models.get(r.modelId)?.model ?? r.modelId,
          rolloutId: r.rolloutId,
          targetVersion: r.targetVersion,
          percent: r.total === 0 ? 0 : Math.min(100, Math.floor((r.done * 100) / r.total)),
        }))
        .sort((a, b) => a.model.localeCompare(b.model)),
      failedRollouts: failures?.rollouts ?? 0,
      lastFailureAt: failures?.lastAt ?? null,
    };
  });
  return { rows, versions };
}

/** Whether a PBX's row passes the filter. */
export function matchesFleetFilter(row: FleetRow, versions: Versions | undefined, f: FleetFilter): boolean {
  if (f.q) {
    const q = f.q.toLowerCase();
    if (!row.id.includes(q) && !row.name.toLowerCase().includes(q)) return false;
  }
  if (f.timeZone !== undefined && row.timeZone !== f.timeZone) return false;
  if (f.autoDownloadInstall !== undefined && row.autoDownloadInstall !== f.autoDownloadInstall) return false;
  if (f.behind !== undefined && row.typesBehind.length > 0 !== f.behind) return false;
  if (f.running !== undefined && row.runningRollouts.length > 0 !== f.running) return false;
  if (f.failed !== undefined && row.failedRollouts > 0 !== f.failed) return false;
  const has = (modelId: string) => versions?.get(modelId)?.some((c) => c.phones > 0) === true;
  if (f.modelId !== undefined && !has(f.modelId)) return false;
  if (f.below !== undefined) {
    const { modelId, version } = f.below;
    if (!versions?.get(modelId)?.some((c) => c.version !== null && compareVersions(c.version, version) < 0))
      return false;
  }
  return true;
}

function sortKey(row: FleetRow, sort: FleetSort): string | number | null {
  switch (sort) {
    case 'id':
      return row.id;
    case 'name':
      return row.name.toLowerCase();
    case 'timeZone':
      return row.timeZone;
    case 'nextUpdate':
      return row.nextUpdateAt;
    case 'behind':
      return row.phonesBehind;
    case 'running':
      return row.runningRollouts.length;
    case 'failures':
      return row.failedRollouts;
    case 'phones':
      return row.phones;
  }
}

/**
 * Sorted by the key, the PBX id breaking ties (so pages never overlap or skip); rows without a key (no next
 * update moment) come last in either order.
 */
export function sortFleet(rows: FleetRow[], sort: FleetSort, order: 'asc' | 'desc'): FleetRow[] {
  const sign = order === 'asc' ? 1 : -1;
  return [...rows].sort((a, b) => {
    const ka = sortKey(a, sort);
    const kb = sortKey(b, sort);
    if (ka !== kb) {
      if (ka === null) return 1;
      if (kb === null) return -1;
      return (ka < kb ? -1 : 1) * sign;
    }
    return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
  });
}

export interface FleetPage {
  total: number;
  rows: FleetRow[];
  /** Over every PBX that passed the filter, not only this page. */
  summary: { pbxes: number; behind: number; running: number; failed: number; phonesBehind: number };
}

/** Filter, sort, then the page [offset, offset + limit). */
export function fleetPage(
  input: FleetInput,
  now: number,
  q: { filter: FleetFilter; sort: FleetSort; order: 'asc' | 'desc'; offset: number; limit: number },
): FleetPage {
  const { rows, versions } = fleetRows(input, now);
  const kept = rows.filter((r) => matchesFleetFilter(r, versions.get(r.id), q.filter));
  const sorted = sortFleet(kept, q.sort, q.order);
  return {
    total: kept.length,
    rows: sorted.slice(q.offset, q.offset + q.limit),
    summary: {
      pbxes: kept.length,
      behind: kept.filter((r) => r.typesBehind.length > 0).length,
      running: kept.filter((r) => r.runningRollouts.length > 0).length,
      failed: kept.filter((r) => r.failedRollouts > 0).length,
      phonesBehind: kept.reduce((n, r) => n + r.phonesBehind, 0),
    },
  };
}
