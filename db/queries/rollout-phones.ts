/**
 * The durable per-phone record of a rollout (rollout_results): which block a phone went in, whether it was
 * notified, and its outcome the moment it is known. A retried block reads it back, so no phone is notified twice
 * and a phone this rollout updated stays `updated` whatever the retry sees.
 */
import { and, eq, inArray, isNotNull, isNull, ne, sql } from 'drizzle-orm';
import type { Reason } from '../../domain/reasons.ts';
import { countOutcomes, type PhoneOutcome, type RolloutCounts } from '../../domain/rollout.ts';
import type { Db } from '../client.ts';
import { compileStatement, isoTimes } from '../prepared.ts';
import { phoneAccounts, rolloutResults, rollouts } from '../schema.ts';

export type RolloutPhoneRow = typeof rolloutResults.$inferSelect;

export interface BlockPhone {
  id: number;
  mac: string;
  extension: string;
  fromVersion: string | null;
}

/**
 * The rollout's plan, recorded when it starts: each phone to update with its planned block, no outcome yet. A
 * rollout started before issue 13 ran its blocks as planned, so its `block` is the planned one from the start.
 */
export async function planBlocks(
  db: Db,
  rolloutId: string,
  blocks: BlockPhone[][],
  firstBlock = 0,
  o: { joined?: boolean; runBlockKnown?: boolean } = {},
): Promise<void> {
  const rows = blocks.flatMap((phones, i) =>
    phones.map((p) => ({
      rolloutId,
      phoneAccountId: p.id,
      mac: p.mac,
      extension: p.extension,
      plannedBlock: firstBlock + i,
      block: o.runBlockKnown === false ? null : firstBlock + i,
      joined: o.joined ?? false,
      fromVersion: p.fromVersion,
    })),
  );
  for (let i = 0; i < rows.length; i += 1000) {
    await db
      .insert(rolloutResults)
      .values(rows.slice(i, i + 1000))
      .onConflictDoNothing({ target: [rolloutResults.rolloutId, rolloutResults.phoneAccountId] });
  }
}

/**
 * Starts the phones' block (an attempt: its block and attempt number are recorded) or reads it back (a retried
 * activity): rows already started keep their notify state, outcome and start time.
 */
export async function openBlock(
  db: Db,
  r: { rolloutId: string; block: number; phones: BlockPhone[]; at: Date },
): Promise<RolloutPhoneRow[]> {
  if (r.phones.length === 0) return [];
  await planBlocks(db, r.rolloutId, [r.phones], r.block);
  const these = and(
    eq(rolloutResults.rolloutId, r.rolloutId),
    inArray(
      rolloutResults.phoneAccountId,
      r.phones.map((p) => p.id),
    ),
  );
  await db
    .update(rolloutResults)
    .set({
      block: r.block,
      attempts: sql`${rolloutResults.attempts} + 1`,
      retryAt: null,
      blockStartedAt: r.at,
    })
    .where(and(these, isNull(rolloutResults.blockStartedAt)));
  return db.select().from(rolloutResults).where(these);
}

export type NotifyState = 'sending' | 'answered';

const notifies = compileStatement<'rolloutIds' | 'ids' | 'states' | 'ats'>(
  sql`update ${rolloutResults} set
        ${sql.identifier(rolloutResults.notify.name)} = v.state,
        ${sql.identifier(rolloutResults.at.name)} = v.at,
        ${sql.identifier(rolloutResults.notifies.name)} =
          ${rolloutResults.notifies} + case when v.state = 'sending' then 1 else 0 end
      from unnest(${sql.placeholder('rolloutIds')}::text[], ${sql.placeholder('ids')}::int8[],
        ${sql.placeholder('states')}::text[], ${sql.placeholder('ats')}::text[]::timestamptz[])
        as v(rollout_id, phone_id, state, at)
      where ${rolloutResults.rolloutId} = v.rollout_id and ${rolloutResults.phoneAccountId} = v.phone_id`,
);

/**
 * The durable notify state of phones (one statement; lib/batch.ts sends many blocks' at once); each 'sending'
 * counts one more NOTIFY of the phone in this rollout (rollout_results.notifies).
 */
export async function recordNotifies(
  db: Db,
  items: Array<{ rolloutId: string; phoneId: number; state: NotifyState; at: Date }>,
): Promise<void> {
  if (items.length === 0) return;
  await notifies.run(db, {
    rolloutIds: items.map((i) => i.rolloutId),
    ids: items.map((i) => i.phoneId),
    states: items.map((i) => i.state),
    ats: isoTimes(items.map((i) => i.at)),
  });
}

/**
 * After a failed attempt: the phone waits for its next one (its row starts afresh, remembering the failure and
 * when the next attempt is due), or it is parked with its last reason.
 */
export async function requeueOrPark(
  db: Db,
  rolloutId: string,
  decisions: Array<{ phoneId: number; retryAt: Date } | { phoneId: number; park: true }>,
): Promise<void> {
  for (const d of decisions) {
    const row = and(
      eq(rolloutResults.rolloutId, rolloutId),
      eq(rolloutResults.phoneAccountId, d.phoneId),
      isNotNull(rolloutResults.outcome),
    );
    if ('park' in d) {
      await db
        .update(rolloutResults)
        .set({
          lastOutcome: sql`${rolloutResults.outcome}`,
          outcome: 'parked',
          retryAt: null,
          at: new Date(),
        })
        .where(and(row, ne(rolloutResults.outcome, 'parked')));
    } else {
      await db
        .update(rolloutResults)
        .set({
          lastOutcome: sql`${rolloutResults.outcome}`,
          outcome: null,
          notify: null,
          blockStartedAt: null,
          retryAt: d.retryAt,
          at: new Date(),
        })
        .where(row);
    }
  }
}

/** An admin retries parked phones: each gets its attempts afresh, due at once. */
export async function unparkPhones(
  db: Db,
  rolloutId: string,
  phoneIds: number[] | undefined,
  at: Date,
): Promise<number[]> {
  const rows = await db
    .update(rolloutResults)
    .set({ outcome: null, notify: null, blockStartedAt: null, attempts: 0, retryAt: at, at })
    .where(
      and(
        eq(rolloutResults.rolloutId, rolloutId),
        eq(rolloutResults.outcome, 'parked'),
        ...(phoneIds ? [inArray(rolloutResults.phoneAccountId, phoneIds)] : []),
      ),
    )
    .returning({ id: rolloutResults.phoneAccountId });
  return rows.map((r) => r.id).sort((a, b) => a - b);
}

/** The rows of some phones of a rollout. */
export async function rolloutRows(db: Db, rolloutId: string, phoneIds: number[]): Promise<RolloutPhoneRow[]> {
  if (phoneIds.length === 0) return [];
  return db
    .select()
    .from(rolloutResults)
    .where(and(eq(rolloutResults.rolloutId, rolloutId), inArray(rolloutResults.phoneAccountId, phoneIds)));
}

export async function recordNotify(
  db: Db,
  rolloutId: string,
  phoneId: number,
  state: NotifyState,
): Promise<void> {
  await recordNotifies(db, [{ rolloutId, phoneId, state, at: new Date() }]);
}

export interface PhoneVerdict {
  phoneId: number;
  outcome: PhoneOutcome;
  reason?: Reason;
  reportedVersion: string | null;
}

const outcomes = compileStatement<
  'rolloutId' | 'ids' | 'outcomes' | 'reported' | 'details' | 'reasons' | 'at'
>(
  sql`update ${rolloutResults} set
        ${sql.identifier(rolloutResults.outcome.name)} = v.outcome,
        ${sql.identifier(rolloutResults.reportedVersion.name)} = v.reported,
        ${sql.identifier(rolloutResults.detail.name)} = v.detail,
        ${sql.identifier(rolloutResults.reason.name)} = v.reason,
        ${sql.identifier(rolloutResults.at.name)} = ${sql.placeholder('at')}::timestamptz
      from unnest(${sql.placeholder('ids')}::int8[], ${sql.placeholder('outcomes')}::text[],
        ${sql.placeholder('reported')}::text[], ${sql.placeholder('details')}::text[],
        ${sql.placeholder('reasons')}::text[]::jsonb[]) as v(phone_id, outcome, reported, detail, reason)
      where ${rolloutResults.rolloutId} = ${sql.placeholder('rolloutId')}
        and ${rolloutResults.phoneAccountId} = v.phone_id
        and ${rolloutResults.outcome} is null`,
);

/** Writes outcomes not decided yet (one statement); the first verdict on a phone stands (a retry cannot overwrite it). */
export async function recordOutcomes(db: Db, rolloutId: string, verdicts: PhoneVerdict[]): Promise<void> {
  if (verdicts.length === 0) return;
  await outcomes.run(db, {
    rolloutId,
    ids: verdicts.map((v) => v.phoneId),
    outcomes: verdicts.map((v) => v.outcome),
    reported: verdicts.map((v) => v.reportedVersion),
    details: verdicts.map((v) => v.reason?.text ?? null),
    reasons: verdicts.map((v) => (v.reason ? JSON.stringify(v.reason) : null)),
    at: new Date().toISOString(),
  });
}

/** Phones the rollout covers but puts in no block (never contacted): recorded at once, with their reason. */
export async function recordUnblocked(
  db: Db,
  rolloutId: string,
  phones: Array<BlockPhone & { outcome: PhoneOutcome; reason: Reason }>,
): Promise<void> {
  if (phones.length === 0) return;
  await db
    .insert(rolloutResults)
    .values(
      phones.map((p) => ({
        rolloutId,
        phoneAccountId: p.id,
        mac: p.mac,
        extension: p.extension,
        block: null,
        outcome: p.outcome,
        fromVersion: p.fromVersion,
        detail: p.reason.text,
        reason: p.reason,
      })),
    )
    .onConflictDoNothing({ target: [rolloutResults.rolloutId, rolloutResults.phoneAccountId] });
}

/** Outcomes per phone of one rollout so far (phones without a row yet are pending). */
export async function rolloutCounts(db: Db, rolloutId: string, total: number): Promise<RolloutCounts> {
  const rows = await db
    .select({ outcome: rolloutResults.outcome, n: sql<number>`count(*)::int` })
    .from(rolloutResults)
    .where(eq(rolloutResults.rolloutId, rolloutId))
    .groupBy(rolloutResults.outcome);
  const outcomes: PhoneOutcome[] = [];
  for (const r of rows) if (r.outcome) for (let i = 0; i < r.n; i++) outcomes.push(r.outcome);
  return countOutcomes(total, outcomes);
}

/**
 * What an open rollout's record says beside the counts: phones waiting for another attempt, and the block running
 * now (1-based; null when none is).
 */
export async function openRolloutState(
  db: Db,
  rolloutId: string,
): Promise<{ retrying: number; currentBlock: number | null }> {
  const [row] = await db
    .select({
      retrying: sql<number>`count(*) filter (where ${rolloutResults.outcome} is null and ${rolloutResults.retryAt} is not null)::int`,
      running: sql<
        number | null
      >`max(${rolloutResults.block}) filter (where ${rolloutResults.outcome} is null and ${rolloutResults.blockStartedAt} is not null)`,
    })
    .from(rolloutResults)
    .where(eq(rolloutResults.rolloutId, rolloutId));
  return {
    retrying: row?.retrying ?? 0,
    currentBlock: row?.running === null || row?.running === undefined ? null : Number(row.running) + 1,
  };
}

/** Stores the counts on the rollout row, where the API and page read them. */
export async function storeCounts(
  db: Db,
  rolloutId: string,
  c: RolloutCounts,
  blocksDone?: number,
  blocks?: number,
) {
  await db
    .update(rollouts)
    .set({
      total: c.total,
      updated: c.updated,
      alreadyCurrent: c.alreadyCurrent,
      failed: c.failed,
      parked: c.parked,
      notContacted: c.notContacted,
      skipped: c.skipped,
      ...(blocksDone !== undefined
        ? { blocksDone: sql`greatest(${rollouts.blocksDone}, ${blocksDone})` }
        : {}),
      ...(blocks !== undefined ? { blocks } : {}),
    })
    .where(eq(rollouts.id, rolloutId));
}

/**
 * Phones of the rollout that have no outcome when it ends: one waiting for another attempt keeps the failure of
 * its last one (and its reason); one whose block never ran (or stopped) is skipped.
 */
export async function skipUndecided(db: Db, rolloutId: string, reason: Reason): Promise<number> {
  const rows = await db
    .update(rolloutResults)
    .set({
      outcome: sql`coalesce(${rolloutResults.lastOutcome}, 'skipped')`,
      detail: sql`case when ${rolloutResults.lastOutcome} is null then ${reason.text} else ${rolloutResults.detail} end`,
      reason: sql`case when ${rolloutResults.lastOutcome} is null then ${JSON.stringify(reason)}::jsonb else ${rolloutResults.reason} end`,
      retryAt: null,
      at: new Date(),
    })
    .where(and(eq(rolloutResults.rolloutId, rolloutId), isNull(rolloutResults.outcome)))
    .returning({ id: rolloutResults.phoneAccountId });
  return rows.length;
}

/**
 * Late joiners (issue 13): phones now in the rollout's plan. A phone recorded as never contacted starts afresh
 * (it has reported its version since); a phone the rollout did not know gets a row. Returns how many are new.
 */
export async function admitToRollout(
  db: Db,
  rolloutId: string,
  phones: Array<BlockPhone & { plannedBlock: number }>,
): Promise<number> {
  let added = 0;
  for (const p of phones) {
    const [updated] = await db
      .update(rolloutResults)
      .set({
        outcome: null,
        reason: null,
        detail: null,
        plannedBlock: p.plannedBlock,
        block: null,
        joined: true,
        fromVersion: p.fromVersion,
        at: new Date(),
      })
      .where(
        and(
          eq(rolloutResults.rolloutId, rolloutId),
          eq(rolloutResults.phoneAccountId, p.id),
          eq(rolloutResults.outcome, 'not-contacted'),
        ),
      )
      .returning({ id: rolloutResults.phoneAccountId });
    if (updated) continue;
    const inserted = await db
      .insert(rolloutResults)
      .values({
        rolloutId,
        phoneAccountId: p.id,
        mac: p.mac,
        extension: p.extension,
        plannedBlock: p.plannedBlock,
        joined: true,
        fromVersion: p.fromVersion,
      })
      .onConflictDoNothing({ target: [rolloutResults.rolloutId, rolloutResults.phoneAccountId] })
      .returning({ id: rolloutResults.phoneAccountId });
    added += inserted.length;
  }
  return added;
}

/** Phone ids of the rollout that may not join it again (already in it, other than never contacted). */
export async function phonesInRollout(db: Db, rolloutId: string): Promise<Set<number>> {
  const rows = await db
    .select({ id: rolloutResults.phoneAccountId, outcome: rolloutResults.outcome })
    .from(rolloutResults)
    .where(eq(rolloutResults.rolloutId, rolloutId));
  return new Set(rows.filter((r) => r.outcome !== 'not-contacted').map((r) => r.id));
}

/** The phones as a rollout records them (MAC, extension, the version they ran). */
export async function phonesForRollout(db: Db, pbxId: string, ids: number[]): Promise<BlockPhone[]> {
  if (ids.length === 0) return [];
  const rows = await db
    .select({
      id: phoneAccounts.id,
      mac: phoneAccounts.mac,
      extension: phoneAccounts.extension,
      fromVersion: phoneAccounts.installedVersion,
    })
    .from(phoneAccounts)
    .where(and(eq(phoneAccounts.pbxId, pbxId), inArray(phoneAccounts.id, ids)));
  const byId = new Map(rows.map((r) => [r.id, r]));
  return ids.flatMap((id) => (byId.has(id) ? [byId.get(id) as BlockPhone] : []));
}
