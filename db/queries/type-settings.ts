import { and, eq } from 'drizzle-orm';
import type { Db } from '../client.ts';
import { typeSettings } from '../schema.ts';
import { clearTypeApprovals } from './phones.ts';

/** R7: a missing row means Auto-Update on. */
export async function getAutoUpdate(
  db: Db,
  pbxId: string,
): Promise<Array<{ modelId: string; autoUpdate: boolean }>> {
  return db
    .select({ modelId: typeSettings.modelId, autoUpdate: typeSettings.autoUpdate })
    .from(typeSettings)
    .where(eq(typeSettings.pbxId, pbxId));
}

/**
 * R7: sets Auto-Update for one type; returns the previous value (true when never set). Switched off, no phone of
 * the type keeps a firmware approval a running block gave it: in the same transaction, so no phone can fetch the
 * firmware after the switch went off.
 */
export async function setAutoUpdate(
  db: Db,
  pbxId: string,
  modelId: string,
  autoUpdate: boolean,
): Promise<boolean> {
  return db.transaction(async (tx) => {
    const before = await tx
      .select({ autoUpdate: typeSettings.autoUpdate })
      .from(typeSettings)
      .where(eqPbxModel(pbxId, modelId))
      .for('update');
    await tx
      .insert(typeSettings)
      .values({ pbxId, modelId, autoUpdate })
      .onConflictDoUpdate({
        target: [typeSettings.pbxId, typeSettings.modelId],
        set: { autoUpdate, updatedAt: new Date() },
      });
    if (!autoUpdate) await clearTypeApprovals(tx, pbxId, modelId);
    return before[0]?.autoUpdate ?? true;
  });
}

function eqPbxModel(pbxId: string, modelId: string) {
  return and(eq(typeSettings.pbxId, pbxId), eq(typeSettings.modelId, modelId));
}
