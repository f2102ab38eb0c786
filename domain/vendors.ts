/**
 * The four vendors the central distribution serves (R1). Which models exist is catalog data from the firmware
 * server (R1 "Decided"); only vendor-level facts live here.
 */
export const VENDORS = ['yealink', 'snom', 'grandstream', 'gigaset'] as const;
export type Vendor = (typeof VENDORS)[number];

export const VENDOR_LABELS: Record<Vendor, string> = {
  yealink: 'Yealink',
  snom: 'Snom',
  grandstream: 'Grandstream',
  gigaset: 'Gigaset',
};

export function isVendor(v: unknown): v is Vendor {
  return typeof v === 'string' && (VENDORS as readonly string[]).includes(v);
}

/** Stable id of a phone model across catalog, database and URLs: `<vendor>-<model lower case>`, e.g. `yealink-t54w`. */
export function modelIdOf(vendor: Vendor, model: string): string {
  return `${vendor}-${model.toLowerCase().replace(/[^a-z0-9]+/g, '-')}`;
}
