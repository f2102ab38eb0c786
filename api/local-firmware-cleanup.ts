/**
 * R5 wiring: the account routes mark a type's local firmware for deletion at the next restart when its last account
 * goes, and unmark it when an account of that type comes back. The queries belong to the firmware side
 * (db/queries/local-firmware.ts, issue 3); until that lands these interim versions do the same update, and the
 * switch is this one file.
 */
import { and, eq, sql } from 'drizzle-orm';
import type { Db } from '../db/client.ts';
import { localFirmware, phoneAccounts } from '../db/schema.ts';

/** R5: marks downloaded (never image, R2) firmware of the type when the PBX has no account of it any more. */
export async function markFirmwareForCleanupIfUnused(
  db: Db,
  pbxId: string,
  modelId: string,
): Promise<number> {
  const rows = await db
    .update(localFirmware)
    .set({ deleteAtNextRestart: true })
    .where(
      and(
        eq(localFirmware.pbxId, pbxId),
        eq(localFirmware.modelId, modelId),
        eq(localFirmware.source, 'download'),
        sql`not exists (select 1 from ${phoneAccounts} where ${phoneAccounts.pbxId} = ${pbxId} and ${phoneAccounts.modelId} = ${modelId})`,
      ),
    )
    .returning({ version: localFirmware.version });
  return rows.length;
}

/** R5: an account of the type exists again, so its firmware stays. */
export async function unmarkFirmwareCleanup(db: Db, pbxId: string, modelId: string): Promise<number> {
  const rows = await db
    .update(localFirmware)
    .set({ deleteAtNextRestart: false })
    .where(
      and(
        eq(localFirmware.pbxId, pbxId),
        eq(localFirmware.modelId, modelId),
        eq(localFirmware.deleteAtNextRestart, true),
      ),
    )
    .returning({ version: localFirmware.version });
  return rows.length;
}
