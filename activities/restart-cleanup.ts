/**
 * R5 at a PBX restart: the firmware of types whose last account was deleted (marked deleteAtNextRestart by
 * markFirmwareForCleanupIfUnused) goes now, not before. Image firmware never goes (R2). Then blobs no PBX references
 * any more are deleted from the shared store (R16).
 */
import { eq } from 'drizzle-orm';
import { z } from 'zod';
import { appendJournal } from '../db/queries/journal.ts';
import { takeFirmwareMarkedForRestart } from '../db/queries/local-firmware.ts';
import { pbxes } from '../db/schema.ts';
import { requirePbx } from './check.ts';
import type { RestartCleanupInput, RestartCleanupResult } from './contracts.ts';
import type { ActivityDeps } from './deps.ts';
import { collectUnreferencedBlobs } from './firmware-store.ts';
import { parseActivityInput } from './temporal-context.ts';

const inputSchema = z.object({ pbxId: z.string().min(1), who: z.string().min(1) });

export async function restartCleanup(
  deps: ActivityDeps,
  raw: RestartCleanupInput,
): Promise<RestartCleanupResult> {
  const input = parseActivityInput(inputSchema, raw, 'restartCleanup');
  const { db, logs, config } = deps;
  await requirePbx(deps, input.pbxId);
  const started = performance.now();
  const at = new Date();
  const { removed, kept } = await db.transaction(async (tx) => {
    const taken = await takeFirmwareMarkedForRestart(tx, input.pbxId);
    await tx.update(pbxes).set({ lastRestartAt: at }).where(eq(pbxes.id, input.pbxId));
    return taken;
  });
  for (const r of removed) {
    await appendJournal(db, logs, {
      pbxId: input.pbxId,
      action: 'firmware.removed',
      why: 'trigger',
      who: input.who,
      modelId: r.modelId,
      details: {
        version: r.version,
        sha256: r.sha256,
        reason: 'R5: last account of the type deleted; PBX restarted',
      },
    });
  }
  const deleted = await collectUnreferencedBlobs(db, config.firmwareStoreDir);
  logs.firmwares(input.pbxId).info(
    {
      event: 'restart-cleanup',
      who: input.who,
      removed: removed.map((r) => ({ model: r.modelId, version: r.version })),
      keptBecauseAccountReturned: kept.map((r) => ({ model: r.modelId, version: r.version })),
      durationMs: Math.round(performance.now() - started),
    },
    'restart clean-up',
  );
  // Whether a blob went depends on other PBXes still using it: the operator's log only (issue 11, R16).
  deps.logger.info({ pbx: input.pbxId, blobsDeleted: deleted.length }, 'shared store garbage collected');
  return {
    removed: removed.map((r) => ({ modelId: r.modelId, version: r.version })),
    blobsDeleted: deleted.length,
  };
}

export function createRestartCleanupActivities(deps: ActivityDeps) {
  return {
    restartCleanup: (input: RestartCleanupInput) => restartCleanup(deps, input),
  };
}
