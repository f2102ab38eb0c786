/**
 * What a vendor's phones ask the PBX for and what they expect back. One module per vendor; the list of models is
 * catalog data (`phone_models.provisioningKey` ties a model to its vendor-specific file names).
 */
import type { Vendor } from '../../../domain/vendors.ts';

/** A requested file name, recognised: a file per model (key from the name) or per phone (MAC from the name). */
export type RequestedFile =
  | { kind: 'model'; part: string; key: string }
  | { kind: 'phone'; part: string; mac: string };

export interface RenderContext {
  /** `http://host:port/p/<pbxId>/` */
  baseUrl: string;
  pbx: { id: string; sipDomain: string };
  sipServer: { host: string; port: number };
  model: { vendor: string; model: string; provisioningKey: string };
  /** The phone the file is for (always for phone files; for model files when its User-Agent names it). */
  phone: { mac: string; extension: string; displayName: string | null } | null;
  /** R7/R11: set only while an approved rollout offers this phone a version the PBX holds. */
  firmware: { version: string; fileName: string } | null;
}

export interface RenderedFile {
  contentType: string;
  body: string;
}

export interface VendorConvention {
  vendor: Vendor;
  /** `Event` of the out-of-dialog NOTIFY that makes the phone re-provision. */
  checkSyncEvent: string;
  recognise(fileName: string): RequestedFile | null;
  /** The key a model's file names use, from `phone_models.provisioningKey`, normalised like `recognise` does. */
  modelKey(provisioningKey: string): string;
  render(file: RequestedFile, ctx: RenderContext): RenderedFile;
}

export function firmwareUrl(ctx: RenderContext): string | null {
  return ctx.firmware ? `${ctx.baseUrl}firmware/${encodeURIComponent(ctx.firmware.fileName)}` : null;
}

/** `host:port` of a URL, as phones that take server paths without a scheme want it. */
export function hostAndPath(url: string): string {
  return url.replace(/^[a-z]+:\/\//i, '').replace(/\/$/, '');
}

const XML_ESCAPES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&apos;',
};

export function xml(value: string | number): string {
  return String(value).replace(/[&<>"']/g, (c) => XML_ESCAPES[c] as string);
}

export const XML_TYPE = 'application/xml; charset=utf-8';
export const TEXT_TYPE = 'text/plain; charset=utf-8';
