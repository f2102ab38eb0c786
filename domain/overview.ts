/**
 * R6: the "Firmware-Übersicht". One row per phone type with at least one account on the PBX (R4: active or not).
 *
 * How this project reads the columns (the page is terse):
 *  - in use:           the versions the phones report, each with its phone count, newest first; phones that have
 *                      not reported a version yet count as `unknown` (version null), listed last.
 *  - newest local:     the newest firmware stored on the PBX, shown only when some phone would get something newer
 *                      from it: it is newer than the oldest known version in use, or no phone has reported a
 *                      version yet. Empty (null) when nothing newer than in use was downloaded.
 *  - newest available: the newest release the firmware server offers for the type (withdrawn ones do not count),
 *                      shown only when it is newer than both the newest local firmware and the oldest known
 *                      version in use. Empty when there is nothing newer.
 *  - R2 image-managed types never come from the catalog; their image copy is local firmware and is also reported
 *    as `imageFirmware`, always.
 *  - Auto-Update (R7): a type without a stored setting is on.
 */
import { isVendor, VENDOR_LABELS } from './vendors.ts';
import { compareVersions, isNewer, newestVersion } from './versions.ts';

export interface OverviewType {
  modelId: string;
  vendor: string;
  model: string;
  imageManaged: boolean;
  /** Phone accounts of this type on the PBX, active or not. */
  accounts: number;
}

export interface OverviewInput {
  types: OverviewType[];
  /** Phone counts per reported version (null = not reported yet). */
  installed: Array<{ modelId: string; version: string | null; phones: number }>;
  localFirmware: Array<{ modelId: string; version: string; source: 'download' | 'image' }>;
  catalogReleases: Array<{ modelIds: string[]; version: string; withdrawn: boolean }>;
  /** Stored R7 settings; a type missing here has Auto-Update on. */
  autoUpdate: Array<{ modelId: string; autoUpdate: boolean }>;
  /** Types held at a version (issue 13); absent: none held. */
  holds?: Array<{ modelId: string } & TypeHold>;
}

/** A type held at a version (issue 13): no update beyond it; who held it, why, when. */
export interface TypeHold {
  version: string;
  who: string;
  why: string;
  at: string;
}

export interface VersionInUse {
  version: string | null;
  phones: number;
}

export interface OverviewRow {
  modelId: string;
  vendor: string;
  model: string;
  imageManaged: boolean;
  accounts: number;
  inUse: VersionInUse[];
  newestLocal: string | null;
  newestAvailable: string | null;
  imageFirmware: string | null;
  autoUpdate: boolean;
  /** Issue 13: held at a version, or null. */
  hold: TypeHold | null;
  /** Issue 13: every version stored on the PBX for the type, newest first (what a hold or downgrade can name). */
  storedVersions: string[];
}

export function vendorLabel(vendor: string): string {
  return isVendor(vendor) ? VENDOR_LABELS[vendor] : vendor;
}

export function firmwareOverview(input: OverviewInput): OverviewRow[] {
  const rows: OverviewRow[] = [];
  for (const type of input.types) {
    if (type.accounts < 1) continue;
    const inUse = versionsInUse(input.installed.filter((i) => i.modelId === type.modelId));
    const known = inUse.flatMap((v) => (v.version === null ? [] : [v.version]));
    const oldestInUse =
      known.length > 0 ? known.reduce((a, b) => (compareVersions(a, b) <= 0 ? a : b)) : null;

    const local = input.localFirmware.filter((f) => f.modelId === type.modelId);
    const newestLocalStored = newestVersion(local.map((f) => f.version)) ?? null;
    const newestLocal =
      newestLocalStored !== null && isNewer(newestLocalStored, oldestInUse) ? newestLocalStored : null;

    const offered = type.imageManaged
      ? []
      : input.catalogReleases
          .filter((r) => !r.withdrawn && r.modelIds.includes(type.modelId))
          .map((r) => r.version);
    const newestOffered = newestVersion(offered) ?? null;
    const newestAvailable =
      newestOffered !== null &&
      isNewer(newestOffered, newestLocalStored) &&
      isNewer(newestOffered, oldestInUse)
        ? newestOffered
        : null;

    const imageFirmware = type.imageManaged
      ? (newestVersion(local.filter((f) => f.source === 'image').map((f) => f.version)) ?? null)
      : null;

    rows.push({
      modelId: type.modelId,
      vendor: vendorLabel(type.vendor),
      model: type.model,
      imageManaged: type.imageManaged,
      accounts: type.accounts,
      inUse,
      newestLocal,
      newestAvailable,
      imageFirmware,
      autoUpdate: input.autoUpdate.find((s) => s.modelId === type.modelId)?.autoUpdate ?? true,
      hold: holdOf(input.holds?.find((h) => h.modelId === type.modelId)),
      storedVersions: [...new Set(local.map((f) => f.version))].sort((a, b) => compareVersions(b, a)),
    });
  }
  return rows.sort((a, b) => a.vendor.localeCompare(b.vendor) || a.model.localeCompare(b.model));
}

function holdOf(h: ({ modelId: string } & TypeHold) | undefined): TypeHold | null {
  return h ? { version: h.version, who: h.who, why: h.why, at: h.at } : null;
}

/** Merges counts per version; newest first, unknown last. */
function versionsInUse(counts: Array<{ version: string | null; phones: number }>): VersionInUse[] {
  const byVersion = new Map<string | null, number>();
  for (const c of counts) {
    if (c.phones > 0) byVersion.set(c.version, (byVersion.get(c.version) ?? 0) + c.phones);
  }
  return [...byVersion.entries()]
    .map(([version, phones]) => ({ version, phones }))
    .sort((a, b) => {
      if (a.version === null) return 1;
      if (b.version === null) return -1;
      return compareVersions(b.version, a.version);
    });
}
