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

/**
 * Whether a vendor's phones install an older firmware when provisioning offers one: what a deliberate downgrade
 * (issue 13) needs.
 *   Gigaset Nx70/N610: a newer version is installed, "an older one is ignored (no downgrade)" (spec PHONES.md,
 *                      Gigaset pro wiki): never offered a downgrade.
 *   Snom:              downgrades through the firmware image URL are documented, with their caveats
 *                      (helpdesk.snom.com, solution 6000187341, "unable to upgrade/downgrade after downgrade from
 *                      8.9.3.x to 8.7.5.x").
 *   Yealink,
 *   Grandstream:       the phone flashes the image its provisioning names; no vendor statement found that refuses an
 *                      older one (unconfirmed).
 */
export const DOWNGRADE_ALLOWED: Record<Vendor, boolean> = {
  yealink: true,
  snom: true,
  grandstream: true,
  gigaset: false,
};

export function allowsDowngrade(vendor: string): boolean {
  return isVendor(vendor) && DOWNGRADE_ALLOWED[vendor];
}
