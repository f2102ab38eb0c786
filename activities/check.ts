/**
 * The firmware check (R9, R13): sync the catalog, then say for every type with ≥ 1 account on the PBX (R4) what the
 * PBX holds, what the server offers, and whether a download is due. Image-managed types (R2) report their image
 * version and never need a download.
 * A firmware server that cannot be reached is retried by Temporal (the activity throws); a catalog that is refused
 * (signature, schema, rollback) is journaled and reported as `catalogOk: false` with the last good catalog's view.
 */
import { ApplicationFailure } from '@temporalio/common';
import { eq } from 'drizzle-orm';
import { z } from 'zod';
import { activeReleasesFor, recordCatalogError } from '../db/queries/catalog.ts';
import { appendJournal } from '../db/queries/journal.ts';
import { listLocalFirmware, typesWithAccounts } from '../db/queries/local-firmware.ts';
import { pbxes } from '../db/schema.ts';
import { newestReleaseFor, typeNeedsDownload } from '../domain/catalog.ts';
import { newestVersion } from '../domain/versions.ts';
import { type CatalogSyncResult, syncCatalog } from './catalog.ts';
import type { CheckedType, CheckInput, CheckReport } from './contracts.ts';
import type { ActivityDeps } from './deps.ts';
import { syncImageFirmware } from './image-firmware.ts';
import { activityContext, parseActivityInput } from './temporal-context.ts';

const checkInputSchema = z.object({
  pbxId: z.string().min(1),
  modelIds: z.array(z.string().min(1)).optional(),
  why: z.enum(['schedule', 'manual', 'trigger', 'system']),
  who: z.string().min(1),
});

export async function requirePbx(deps: ActivityDeps, pbxId: string): Promise<void> {
  const [row] = await deps.db.select({ id: pbxes.id }).from(pbxes).where(eq(pbxes.id, pbxId));
  if (!row) throw ApplicationFailure.nonRetryable(`unknown PBX ${JSON.stringify(pbxId)}`, 'UnknownPbx');
}

/** What the PBX holds and what the catalog offers, per type with accounts (optionally only some types). */
export async function firmwareTypes(
  deps: ActivityDeps,
  pbxId: string,
  modelIds?: string[],
): Promise<CheckedType[]> {
  const { db } = deps;
  const wanted = modelIds ? new Set(modelIds) : null;
  const types = (await typesWithAccounts(db, pbxId)).filter((t) => !wanted || wanted.has(t.modelId));
  const ids = types.map((t) => t.modelId);
  const local = await listLocalFirmware(db, pbxId, ids);
  const releases = (await activeReleasesFor(db, ids)).map((r) => ({ ...r, models: r.modelIds }));
  return types.map((t) => {
    const localVersions = local.filter((l) => l.modelId === t.modelId).map((l) => l.version);
    const newest = t.imageManaged ? null : newestReleaseFor(releases, t.modelId);
    const newestAvailable = newest ? { releaseId: newest.id, version: newest.version } : null;
    return {
      modelId: t.modelId,
      vendor: t.vendor,
      model: t.model,
      imageManaged: t.imageManaged,
      newestLocal: newestVersion(localVersions) ?? null,
      newestAvailable,
      needsDownload: typeNeedsDownload({ imageManaged: t.imageManaged, localVersions, newestAvailable }),
    };
  });
}

export async function checkFirmware(deps: ActivityDeps, raw: CheckInput): Promise<CheckReport> {
  const input = parseActivityInput(checkInputSchema, raw, 'checkFirmware');
  const { db, logs } = deps;
  const started = performance.now();
  await requirePbx(deps, input.pbxId);
  const flog = logs.firmwares(input.pbxId);

  try {
    await syncImageFirmware(deps, { pbxId: input.pbxId });
  } catch (err) {
    // A broken image manifest must not stop the check of the downloadable types; it is logged, not retried.
    flog.error(
      { event: 'image-firmware', outcome: 'failed', error: String(err) },
      'image firmware not registered',
    );
  }

  let catalog: CatalogSyncResult;
  try {
    catalog = await syncCatalog(deps, { signal: activityContext()?.cancellationSignal });
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    await recordCatalogError(db, message);
    flog.warn(
      {
        event: 'check',
        outcome: 'firmware-server-unavailable',
        why: input.why,
        who: input.who,
        error: message,
      },
      'firmware check: firmware server unavailable, will retry',
    );
    // R3 / issue 11: the first failure is journalled, so an admin whose Check now answered "retrying" sees why;
    // the retries that follow only go to firmwares.log, and the final outcome is journalled by the workflow.
    if ((activityContext()?.info.attempt ?? 1) === 1) {
      await appendJournal(db, logs, {
        pbxId: input.pbxId,
        action: 'check.retrying',
        why: input.why,
        who: input.who,
        details: { error: message },
      });
    }
    throw err;
  }
  if (!catalog.ok) {
    await recordCatalogError(db, catalog.error);
    flog.error(
      {
        event: 'catalog',
        outcome: 'rejected',
        kind: catalog.kind,
        error: catalog.error,
        keptSerial: catalog.serial,
      },
      'catalog rejected',
    );
    await appendJournal(db, logs, {
      pbxId: input.pbxId,
      action: 'catalog.rejected',
      why: input.why,
      who: input.who,
      details: { kind: catalog.kind, error: catalog.error, keptSerial: catalog.serial },
    });
  }

  const types = await firmwareTypes(deps, input.pbxId, input.modelIds);
  const report: CheckReport = {
    pbxId: input.pbxId,
    checkedAt: new Date().toISOString(),
    catalogOk: catalog.ok,
    ...(catalog.ok ? {} : { catalogError: catalog.error }),
    types,
  };
  const durationMs = Math.round(performance.now() - started);
  flog.info(
    {
      event: 'check',
      outcome: catalog.ok ? 'ok' : 'catalog-rejected',
      why: input.why,
      who: input.who,
      catalog: catalog.ok
        ? {
            status: catalog.status,
            serial: catalog.serial,
            releasesAdded: catalog.releasesAdded?.length,
            releasesWithdrawn: catalog.releasesWithdrawn,
          }
        : { status: 'rejected', kind: catalog.kind, serial: catalog.serial },
      types: types.map((t) => ({
        model: t.modelId,
        newestLocal: t.newestLocal,
        newestAvailable: t.newestAvailable?.version ?? null,
        needsDownload: t.needsDownload,
        image: t.imageManaged || undefined,
      })),
      durationMs,
    },
    'firmware check',
  );
  await appendJournal(db, logs, {
    pbxId: input.pbxId,
    action: 'firmware.checked',
    why: input.why,
    who: input.who,
    details: {
      catalogOk: catalog.ok,
      catalogSerial: catalog.serial,
      ...(input.modelIds ? { onlyModels: input.modelIds } : {}),
      types: types.length,
      needsDownload: types
        .filter((t) => t.needsDownload)
        .map((t) => `${t.modelId}@${t.newestAvailable?.version}`),
    },
  });
  return report;
}

export function createCheckActivities(deps: ActivityDeps) {
  return {
    checkFirmware: (input: CheckInput) => checkFirmware(deps, input),
  };
}
