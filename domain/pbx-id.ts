/** The slug a PBX is known by in URLs, workflow ids (`pbx/<id>`) and its log folder (R14, R16). */
export const PBX_ID_PATTERN = /^[a-z0-9][a-z0-9-]{0,62}$/;

/**
 * `"Müller & Söhne GmbH"` → `mueller-soehne-gmbh`. A name with no Latin letter or digit (`日本`) gets a stable id
 * from its hash (`pbx-5d0bb3c5`), so every name the API accepts yields a valid id.
 */
export function pbxIdFromName(name: string): string {
  const slug = slugOf(name);
  return slug === '' ? `pbx-${fnv1a32(name.trim()).toString(16).padStart(8, '0')}` : slug;
}

/** FNV-1a over the UTF-16 code units: a short, stable fingerprint (not a secret). */
function fnv1a32(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193) >>> 0;
  return h;
}

function slugOf(name: string): string {
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
