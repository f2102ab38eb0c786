/**
 * Firmware version order. Vendors write versions as dot-separated numbers (Yealink `96.86.0.70`,
 * Snom `10.1.33.33`, Grandstream `1.0.43.11`, Gigaset `2.65.0`); segments compare numerically, a missing
 * segment counts as 0, and a non-numeric suffix in a segment (`5-beta`) sorts before the plain number.
 */
export function compareVersions(a: string, b: string): number {
  const pa = a.trim().split('.');
  const pb = b.trim().split('.');
  const n = Math.max(pa.length, pb.length);
  for (let i = 0; i < n; i++) {
    const c = compareSegment(pa[i] ?? '0', pb[i] ?? '0');
    if (c !== 0) return c;
  }
  return 0;
}

function compareSegment(a: string, b: string): number {
  const ma = /^(\d+)(.*)$/.exec(a);
  const mb = /^(\d+)(.*)$/.exec(b);
  if (!ma || !mb) return a < b ? -1 : a > b ? 1 : 0;
  const na = Number(ma[1]);
  const nb = Number(mb[1]);
  if (na !== nb) return na < nb ? -1 : 1;
  const sa = ma[2] ?? '';
  const sb = mb[2] ?? '';
  if (sa === sb) return 0;
  if (sa === '') return 1; // 5 > 5-beta
  if (sb === '') return -1;
  return sa < sb ? -1 : 1;
}

export function isNewer(candidate: string, than: string | null | undefined): boolean {
  return than == null || compareVersions(candidate, than) > 0;
}

/** The highest version of a list, or undefined for an empty list. */
export function newestVersion<T extends string>(versions: readonly T[]): T | undefined {
  let best: T | undefined;
  for (const v of versions) if (best === undefined || compareVersions(v, best) > 0) best = v;
  return best;
}

/** A version string a vendor could have written: digits and dots, optional suffix per segment. */
export const VERSION_PATTERN = /^\d+(\.\d+[0-9A-Za-z-]*){1,5}$/;
