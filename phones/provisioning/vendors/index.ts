import type { Vendor } from '../../../domain/vendors.ts';
import type { RequestedFile, VendorConvention } from './convention.ts';
import { gigaset } from './gigaset.ts';
import { grandstream } from './grandstream.ts';
import { snom } from './snom.ts';
import { yealink } from './yealink.ts';

export type { RenderContext, RequestedFile, VendorConvention } from './convention.ts';

export const CONVENTIONS: Record<Vendor, VendorConvention> = { yealink, snom, grandstream, gigaset };

export function conventionOf(vendor: string): VendorConvention | undefined {
  return (CONVENTIONS as Record<string, VendorConvention>)[vendor];
}

/**
 * Every vendor reading of a file name. `<MAC>.xml` is both Snom's and Gigaset's per-phone file: the phone
 * account behind the MAC then decides which one it is.
 */
export function recogniseFile(
  fileName: string,
): Array<{ convention: VendorConvention; file: RequestedFile }> {
  const found: Array<{ convention: VendorConvention; file: RequestedFile }> = [];
  for (const convention of Object.values(CONVENTIONS)) {
    const file = convention.recognise(fileName);
    if (file) found.push({ convention, file });
  }
  return found;
}

/** The NOTIFY event that makes a phone of this vendor re-provision. */
export function checkSyncEventOf(vendor: string): string {
  return conventionOf(vendor)?.checkSyncEvent ?? 'check-sync;reboot=true';
}
