/**
 * What a vendor's phones ask the PBX for and what they expect back. One module per vendor; the list of models is
 * catalog data (`phone_models.provisioningKey` ties a model to its vendor-specific file names).
 *
 * Free text (display names, PBX names) reaches a phone file only through `oneLine` and then the format's own
 * encoding (`xml` for Snom, Grandstream, Gigaset; `cfgValue` for Yealink's key=value lines), so no value can end a
 * line, close an element or add a key the renderer did not write.
 */
import type { Vendor } from '../../../domain/vendors.ts';

/** A requested file name, recognised: a file per model (key from the name) or per phone (MAC from the name). */
export type RequestedFile =
  | { kind: 'model'; part: string; key: string }
  | { kind: 'phone'; part: string; mac: string };

export interface RenderContext {
  /** `http://host:port/p/<pbxId>/` */
  baseUrl: string;
  pbx: { id: string; name: string; sipDomain: string };
  sipServer: { host: string; port: number };
  model: { vendor: string; model: string; provisioningKey: string };
  /**
   * The phone the file is for (always for phone files; for model files when its User-Agent names it). The SIP
   * password is null for an account created before passwords were kept (it cannot register until re-created).
   */
  phone: { mac: string; extension: string; displayName: string | null; sipPassword: string | null } | null;
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
  /**
   * Image names the device itself appends to a firmware path (Grandstream), lower case; a phone asking for one
   * of these under its own firmware path gets its approved image whatever the stored file is called.
   */
  deviceImageNames?(model: string): string[];
}

/**
 * Where one phone fetches its approved image: `<base>firmware/<mac>/`. The MAC in the path makes a fixed device
 * image name (Grandstream's `ht802fw.bin`) unambiguous and lets the server hand the file to that phone only.
 */
export function firmwareDirOf(ctx: RenderContext): string | null {
  return ctx.phone ? `${ctx.baseUrl}firmware/${ctx.phone.mac}/` : null;
}

export function firmwareUrl(ctx: RenderContext): string | null {
  const dir = firmwareDirOf(ctx);
  return ctx.firmware && dir ? `${dir}${encodeURIComponent(ctx.firmware.fileName)}` : null;
}

/** `host:port/path` of a URL, as phones that take server paths without a scheme want it. */
export function hostAndPath(url: string): string {
  return url.replace(/^[a-z]+:\/\//i, '').replace(/\/$/, '');
}

/**
 * Free text as one line of printable text: C0/C1 controls (CR, LF, TAB, NUL, ESC, ...), the Unicode line and
 * paragraph separators, lone surrogates and the non-characters U+FFFE/U+FFFF each become a space, and the ends
 * are trimmed. No vendor format has a way to carry a line break in a display name, so none is kept.
 */
export function oneLine(value: string): string {
  return value
    .replace(
      // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what this removes
      /[\u0000-\u001f\u007f-\u009f\u2028\u2029\ufffe\uffff]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g,
      ' ',
    )
    .trim();
}

const XML_ESCAPES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&apos;',
};

/** Text or attribute content of an XML 1.0 document: one line (see oneLine), markup characters escaped. */
export function xml(value: string | number): string {
  return oneLine(String(value)).replace(/[&<>"']/g, (c) => XML_ESCAPES[c] as string);
}

/**
 * A value of a Yealink `key = value` line. Yealink's parser takes everything after the first `=` up to the end of
 * the line, trimmed, with no escapes, so a value is safe once it is one line (oneLine); `%NULL%`, Yealink's word
 * for "empty" (wazo-provd-plugins wazo_yealink templates), is the only text with a meaning of its own and is
 * written with a space inside when it is someone's display name.
 */
export function cfgValue(value: string | number): string {
  const line = oneLine(String(value));
  return line.toUpperCase() === '%NULL%' ? `${line.slice(0, 1)} ${line.slice(1)}` : line;
}

/** What a phone shows on its line: the display name, else the extension. */
export function lineLabel(phone: { extension: string; displayName: string | null }): string {
  const name = phone.displayName === null ? '' : oneLine(phone.displayName);
  return name === '' ? phone.extension : name;
}

export const XML_TYPE = 'application/xml; charset=utf-8';
export const TEXT_TYPE = 'text/plain; charset=utf-8';
