/** The slug a PBX is known by in URLs, workflow ids (`pbx/<id>`) and its log folder (R14, R16). */
export const PBX_ID_PATTERN = /^[a-z0-9][a-z0-9-]{0,62}$/;

/** `"Müller & Söhne GmbH"` → `mueller-soehne-gmbh`; empty when nothing usable is left. */
export function pbxIdFromName(name: string): string {
  return name
    .toLowerCase()
    .replace(/ä/g, 'ae')
    .replace(/ö/g, 'oe')
    .replace(/ü/g, 'ue')
    .replace(/ß/g, 'ss')
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+/, '')
    .slice(0, 63)
    .replace(/-+$/, '');
}
