/**
 * The firmware catalog the central firmware server publishes (R1, R3): which models exist, which releases
 * cover them, and the bytes each release must have (size + sha256). The server signs the canonical JSON
 * of the document with ed25519; the PBX side verifies it before anything is stored.
 * Pure: schema, canonical serialization and the "what is newest" rules. No I/O.
 */
import { z } from 'zod';
import { modelIdOf, VENDORS } from './vendors.ts';
import { compareVersions, VERSION_PATTERN } from './versions.ts';

export const SHA256_PATTERN = /^[0-9a-f]{64}$/;
/** Phones fetch firmware by this name, so it must be safe in a URL path segment without escaping. */
export const FIRMWARE_FILE_NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._+-]{0,199}$/;
export const MODEL_ID_PATTERN = /^[a-z0-9]+(-[a-z0-9]+)*$/;
export const RELEASE_ID_PATTERN = /^[a-z0-9][a-z0-9.-]{0,159}$/;

const isoDateTime = z.iso.datetime({ offset: true });

/** The exact model name as the vendor writes it (`T54W`, `D785`, `HT802`). */
export const modelNameSchema = z
  .string()
  .min(1)
  .max(40)
  .regex(/^[A-Za-z0-9][A-Za-z0-9 ._-]*$/);
/** Vendor-specific: Yealink common-file code, Snom model token, Grandstream model, Gigaset family. */
export const provisioningKeySchema = z
  .string()
  .min(1)
  .max(40)
  .regex(/^[A-Za-z0-9._-]+$/);

export const catalogModelSchema = z
  .object({
    id: z.string().regex(MODEL_ID_PATTERN),
    vendor: z.enum(VENDORS),
    model: modelNameSchema,
    provisioningKey: provisioningKeySchema,
  })
  .strict()
  .refine((m) => m.id === modelIdOf(m.vendor, m.model), {
    message: 'model id must be modelIdOf(vendor, model)',
    path: ['id'],
  });

export const catalogReleaseSchema = z
  .object({
    id: z.string().regex(RELEASE_ID_PATTERN),
    vendor: z.enum(VENDORS),
    /** One image can cover a family of models (Yealink T54W/T57/T53, Gigaset N670/N870/N610). */
    models: z.array(z.string().regex(MODEL_ID_PATTERN)).min(1),
    version: z.string().regex(VERSION_PATTERN),
    fileName: z.string().regex(FIRMWARE_FILE_NAME_PATTERN),
    size: z.number().int().positive().max(Number.MAX_SAFE_INTEGER),
    sha256: z.string().regex(SHA256_PATTERN),
    releasedAt: isoDateTime,
    notes: z.string().max(4000),
  })
  .strict();

export const catalogSchema = z
  .object({
    /** Grows with every change; the PBX side refuses a lower serial than it holds (rollback). */
    serial: z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER),
    generatedAt: isoDateTime,
    models: z.array(catalogModelSchema),
    releases: z.array(catalogReleaseSchema),
  })
  .strict()
  .superRefine((c, ctx) => {
    const models = new Map<string, string>();
    for (const [i, m] of c.models.entries()) {
      if (models.has(m.id))
        ctx.addIssue({ code: 'custom', message: `duplicate model ${m.id}`, path: ['models', i] });
      models.set(m.id, m.vendor);
    }
    const ids = new Set<string>();
    const files = new Set<string>();
    for (const [i, r] of c.releases.entries()) {
      if (ids.has(r.id))
        ctx.addIssue({ code: 'custom', message: `duplicate release ${r.id}`, path: ['releases', i] });
      if (files.has(r.fileName)) {
        ctx.addIssue({ code: 'custom', message: `duplicate file ${r.fileName}`, path: ['releases', i] });
      }
      ids.add(r.id);
      files.add(r.fileName);
      for (const m of r.models) {
        const vendor = models.get(m);
        if (vendor === undefined) {
          ctx.addIssue({
            code: 'custom',
            message: `release ${r.id} covers unknown model ${m}`,
            path: ['releases', i],
          });
        } else if (vendor !== r.vendor) {
          ctx.addIssue({
            code: 'custom',
            message: `release ${r.id} covers ${m} of another vendor`,
            path: ['releases', i],
          });
        }
      }
    }
  });

export type CatalogModel = z.infer<typeof catalogModelSchema>;
export type CatalogRelease = z.infer<typeof catalogReleaseSchema>;
export type Catalog = z.infer<typeof catalogSchema>;

/** What `GET /catalog.json` returns: the canonical payload as a string, so the signed bytes are exactly these. */
export const signedCatalogSchema = z
  .object({
    payload: z.string().min(2),
    /** base64 ed25519 signature over the UTF-8 bytes of `payload`. */
    signature: z.string().regex(/^[A-Za-z0-9+/]+={0,2}$/),
    keyId: z.string().min(1).max(64),
  })
  .strict();
export type SignedCatalog = z.infer<typeof signedCatalogSchema>;

/**
 * Canonical JSON: object keys sorted, no whitespace, arrays in order. Signer and verifier agree on the bytes
 * whatever order a producer wrote the keys in.
 */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') {
    if (typeof value === 'number' && !Number.isFinite(value))
      throw new Error('canonicalJson: non-finite number');
    if (value === undefined) throw new Error('canonicalJson: undefined has no JSON form');
    return JSON.stringify(value);
  }
  if (Array.isArray(value)) return `[${value.map((v) => canonicalJson(v)).join(',')}]`;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
}

export type CatalogParseResult = { ok: true; catalog: Catalog } | { ok: false; error: string };

/** Parses a verified payload; a malformed document is a clear error naming the first problems. */
export function parseCatalogPayload(payload: string): CatalogParseResult {
  let json: unknown;
  try {
    json = JSON.parse(payload);
  } catch (err) {
    return {
      ok: false,
      error: `catalog payload is not JSON: ${err instanceof Error ? err.message : String(err)}`,
    };
  }
  const parsed = catalogSchema.safeParse(json);
  if (!parsed.success) {
    const problems = parsed.error.issues
      .slice(0, 5)
      .map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`)
      .join('; ');
    return { ok: false, error: `catalog does not match the schema: ${problems}` };
  }
  return { ok: true, catalog: parsed.data };
}

/** Replay protection: a catalog older than the one already applied is refused, an equal one changes nothing. */
export function catalogSerialVerdict(incoming: number, stored: number): 'apply' | 'same' | 'rollback' {
  if (incoming > stored) return 'apply';
  return incoming === stored ? 'same' : 'rollback';
}

export interface VersionedRelease {
  id: string;
  version: string;
  models: readonly string[];
  withdrawn?: boolean;
}

/** The newest release that covers a model and is not withdrawn (ties: the later id, for a stable answer). */
export function newestReleaseFor<T extends VersionedRelease>(
  releases: readonly T[],
  modelId: string,
): T | null {
  let best: T | null = null;
  for (const r of releases) {
    if (r.withdrawn || !r.models.includes(modelId)) continue;
    if (best === null) {
      best = r;
      continue;
    }
    const c = compareVersions(r.version, best.version);
    if (c > 0 || (c === 0 && r.id > best.id)) best = r;
  }
  return best;
}

export interface TypeFirmwareState {
  imageManaged: boolean;
  /** Versions the PBX holds for the type. */
  localVersions: readonly string[];
  newestAvailable: { releaseId: string; version: string } | null;
}

/**
 * R4/R10: a type needs a download when the catalog offers a version newer than anything the PBX holds.
 * R2: never for image-managed types — their firmware comes with the PBX image.
 */
export function typeNeedsDownload(s: TypeFirmwareState): boolean {
  if (s.imageManaged || s.newestAvailable === null) return false;
  const newest = s.newestAvailable.version;
  return s.localVersions.every((v) => compareVersions(newest, v) > 0);
}
