/**
 * The block activity's contract played against the real database, for API tests on the dev server where real
 * phones are not the point: each phone of a block comes back on the target or fails as the test scripts it, and
 * its outcome goes to the same per-phone record (rollout_results) the real block writes. While a block "runs" it
 * holds the phones' firmware approvals (as the real one does) and heartbeats, so a cancelled rollout reaches it.
 * The real block against simulated phones over SIP is proven in test/integration/block-update.test.ts.
 */
import { Context } from '@temporalio/activity';
import { eq, inArray } from 'drizzle-orm';
import type { BlockInput, BlockResult } from '../../activities/contracts.ts';
import type { Db } from '../../db/client.ts';
import { clearFirmwareTargets, setFirmwareTargets } from '../../db/queries/phones.ts';
import { openBlock, phonesForRollout, recordOutcomes } from '../../db/queries/rollout-phones.ts';
import { phoneAccounts } from '../../db/schema.ts';
import type { PhoneOutcome } from '../../domain/rollout.ts';

export interface PhoneScript {
  /** What phone `id` does on attempt `attempt` (1-based); `updated` by default. */
  outcome?: (id: number, attempt: number) => PhoneOutcome;
  /** Awaited while the block holds its approvals (before the phones answer). */
  during?: (input: BlockInput) => Promise<void> | undefined;
}

export function scriptedPhoneActivities(db: Db, script: PhoneScript) {
  return {
    async updatePhoneBlock(input: BlockInput): Promise<BlockResult> {
      const ctx = Context.current();
      const phones = await phonesForRollout(db, input.pbxId, input.phoneIds);
      const rows = await openBlock(db, {
        rolloutId: input.rolloutId,
        block: input.block,
        phones,
        at: new Date(),
      });
      const attempts = new Map(rows.map((r) => [r.phoneAccountId, r.attempts]));
      const expiresAt = new Date(Date.now() + 15 * 60_000);
      await setFirmwareTargets(db, input.pbxId, input.phoneIds, {
        version: input.targetVersion,
        at: new Date(),
        rolloutId: input.rolloutId,
        expiresAt,
      });
      const during = script.during?.(input);
      if (during) {
        const beat = setInterval(() => ctx.heartbeat(), 200);
        try {
          await Promise.race([during, ctx.cancelled]);
        } catch (err) {
          await clearFirmwareTargets(db, input.pbxId, input.phoneIds, input.targetVersion);
          throw err;
        } finally {
          clearInterval(beat);
        }
      }
      const results = phones.map((p) => {
        const outcome = script.outcome?.(p.id, attempts.get(p.id) ?? 1) ?? 'updated';
        return {
          phoneId: p.id,
          mac: p.mac,
          extension: p.extension,
          outcome,
          fromVersion: p.fromVersion,
          reportedVersion: outcome === 'updated' ? input.targetVersion : p.fromVersion,
        };
      });
      const updated = results.filter((r) => r.outcome === 'updated').map((r) => r.phoneId);
      if (updated.length > 0) {
        await db
          .update(phoneAccounts)
          .set({ installedVersion: input.targetVersion })
          .where(inArray(phoneAccounts.id, updated));
      }
      await recordOutcomes(
        db,
        input.rolloutId,
        results.map((r) => ({ phoneId: r.phoneId, outcome: r.outcome, reportedVersion: r.reportedVersion })),
      );
      await clearFirmwareTargets(db, input.pbxId, input.phoneIds, input.targetVersion);
      return { results };
    },
  };
}

/** A phone's live registration (what the canary prefers) set or taken away. */
export async function setRegistered(db: Db, id: number, registered: boolean): Promise<void> {
  await db
    .update(phoneAccounts)
    .set(
      registered
        ? { sipContact: `sip:p${id}@127.0.0.1:5060`, sipRegisteredUntil: new Date(Date.now() + 3_600_000) }
        : { sipContact: null, sipRegisteredUntil: null },
    )
    .where(eq(phoneAccounts.id, id));
}
