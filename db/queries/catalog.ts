/**
 * The catalog as last accepted from the firmware server (deployment-wide, R1/R3): models, releases, and the
 * sync state (ETag for conditional GET, serial for replay protection). Only a verified catalog reaches
 * applyCatalog; it replaces the known releases in one transaction.
 */
import { and, arrayOverlaps, eq, inArray, not, notInArray, sql } from 'drizzle-orm';
import { type Catalog, catalogSerialVerdict } from '../../domain/catalog.ts';
import type { Db } from '../client.ts';
import { catalogReleases, catalogState, phoneModels } from '../schema.ts';

/** Key of the advisory lock that serialises catalog applies across workers. */
const CATALOG_LOCK = 7_310_001;

export interface CatalogSyncState {
  etag: string | null;
  serial: number;
  syncedAt: Date | null;
  lastError: string | null;
  lastErrorAt: Date | null;
}

export async function getCatalogState(db: Db): Promise<CatalogSyncState> {
  const [row] = await db.select().from(catalogState).where(eq(catalogState.id, 1));
  return row ?? { etag: null, serial: 0, syncedAt: null, lastError: null, lastErrorAt: null };
}

export type ApplyCatalogOutcome =
  | {
      status: 'applied';
      serial: number;
      previousSerial: number;
      releasesAdded: string[];
      releasesWithdrawn: string[];
      modelsAdded: string[];
    }
  | { status: 'same'; serial: number }
  | { status: 'rollback'; serial: number; incoming: number };

/**
 * Stores a verified catalog. A lower serial than the stored one is a rollback and changes nothing; the same serial
 * only refreshes the ETag. Releases missing from the new catalog are kept, flagged withdrawn.
 */
export async function applyCatalog(
  db: Db,
  catalog: Catalog,
  etag: string | null,
  now = new Date(),
): Promise<ApplyCatalogOutcome> {
  return db.transaction(async (tx) => {
    await tx.execute(sql`select pg_advisory_xact_lock(${CATALOG_LOCK})`);
    const [state] = await tx.select().from(catalogState).where(eq(catalogState.id, 1));
    const stored = state?.serial ?? 0;
    const verdict = catalogSerialVerdict(catalog.serial, stored);
    if (verdict === 'rollback') return { status: 'rollback', serial: stored, incoming: catalog.serial };
    if (verdict === 'same' && state) {
      await tx
        .update(catalogState)
        .set({ etag, syncedAt: now, lastError: null, lastErrorAt: null })
        .where(eq(catalogState.id, 1));
      return { status: 'same', serial: stored };
    }

    const knownModels = new Set((await tx.select({ id: phoneModels.id }).from(phoneModels)).map((r) => r.id));
    const knownReleases = new Map(
      (
        await tx
          .select({ id: catalogReleases.id, withdrawn: catalogReleases.withdrawn })
          .from(catalogReleases)
      ).map((r) => [r.id, r.withdrawn]),
    );
    const modelIds = catalog.models.map((m) => m.id);
    const releaseIds = catalog.releases.map((r) => r.id);

    if (catalog.models.length > 0) {
      await tx
        .insert(phoneModels)
        .values(catalog.models.map((m) => ({ ...m, inCatalog: true, updatedAt: now })))
        .onConflictDoUpdate({
          target: phoneModels.id,
          set: {
            vendor: sql.raw('excluded.vendor'),
            model: sql.raw('excluded.model'),
            provisioningKey: sql.raw('excluded.provisioning_key'),
            inCatalog: true,
            updatedAt: now,
          },
        });
    }
    // Models that left the catalog stay known (accounts reference them), flagged.
    await tx
      .update(phoneModels)
      .set({ inCatalog: false, updatedAt: now })
      .where(
        and(
          eq(phoneModels.inCatalog, true),
          eq(phoneModels.imageManaged, false),
          modelIds.length > 0 ? notInArray(phoneModels.id, modelIds) : undefined,
        ),
      );

    if (catalog.releases.length > 0) {
      await tx
        .insert(catalogReleases)
        .values(
          catalog.releases.map((r) => ({
            id: r.id,
            vendor: r.vendor,
            modelIds: r.models,
            version: r.version,
            fileName: r.fileName,
            size: r.size,
            sha256: r.sha256,
            releasedAt: new Date(r.releasedAt),
            notes: r.notes,
            withdrawn: false,
            firstSeenAt: now,
          })),
        )
        .onConflictDoUpdate({
          target: catalogReleases.id,
          set: {
            vendor: sql.raw('excluded.vendor'),
            modelIds: sql.raw('excluded.model_ids'),
            version: sql.raw('excluded.version'),
            fileName: sql.raw('excluded.file_name'),
            size: sql.raw('excluded.size'),
            sha256: sql.raw('excluded.sha256'),
            releasedAt: sql.raw('excluded.released_at'),
            notes: sql.raw('excluded.notes'),
            withdrawn: false,
          },
        });
    }
    const withdrawn = await tx
      .update(catalogReleases)
      .set({ withdrawn: true })
      .where(
        and(
          eq(catalogReleases.withdrawn, false),
          releaseIds.length > 0 ? notInArray(catalogReleases.id, releaseIds) : undefined,
        ),
      )
      .returning({ id: catalogReleases.id });

    await tx
      .insert(catalogState)
      .values({ id: 1, etag, serial: catalog.serial, syncedAt: now })
      .onConflictDoUpdate({
        target: catalogState.id,
        set: { etag, serial: catalog.serial, syncedAt: now, lastError: null, lastErrorAt: null },
      });

    return {
      status: 'applied',
      serial: catalog.serial,
      previousSerial: stored,
      releasesAdded: releaseIds.filter((id) => knownReleases.get(id) !== false),
      releasesWithdrawn: withdrawn.map((r) => r.id),
      modelsAdded: modelIds.filter((id) => !knownModels.has(id)),
    };
  });
}

/** R3 visibility: the last failure to get a good catalog (the catalog data itself stays as it was). */
export async function recordCatalogError(db: Db, message: string, at = new Date()): Promise<void> {
  await db
    .insert(catalogState)
    .values({ id: 1, lastError: message, lastErrorAt: at })
    .onConflictDoUpdate({ target: catalogState.id, set: { lastError: message, lastErrorAt: at } });
}

export type CatalogReleaseRow = typeof catalogReleases.$inferSelect;

export async function getRelease(db: Db, id: string): Promise<CatalogReleaseRow | undefined> {
  const [row] = await db.select().from(catalogReleases).where(eq(catalogReleases.id, id));
  return row;
}

/** Releases not withdrawn that cover any of these models. */
export async function activeReleasesFor(db: Db, modelIds: string[]): Promise<CatalogReleaseRow[]> {
  if (modelIds.length === 0) return [];
  return db
    .select()
    .from(catalogReleases)
    .where(and(not(catalogReleases.withdrawn), arrayOverlaps(catalogReleases.modelIds, modelIds)));
}

export async function getPhoneModels(db: Db, ids: string[]) {
  if (ids.length === 0) return [];
  return db.select().from(phoneModels).where(inArray(phoneModels.id, ids));
}
