import { and, desc, eq, gte, like, lt, lte, type SQL } from 'drizzle-orm';
import type { PbxLogs } from '../../lib/pbx-logs.ts';
import type { Db } from '../client.ts';
import { journal } from '../schema.ts';

export type JournalWhy = 'schedule' | 'manual' | 'trigger' | 'system';

export interface JournalEntry {
  pbxId: string;
  /** What changed, e.g. `firmware.downloaded`, `settings.auto-update`, `rollout.started`. */
  action: string;
  why: JournalWhy;
  /** Token name of the admin, or `system`. */
  who: string;
  modelId?: string | null;
  details?: Record<string, unknown>;
  at?: Date;
}

/**
 * R14: every state change goes to the journal table and, as one JSON line, to the PBX's
 * firmware-journal.log. The table is the queryable copy; the file is the appliance-style log.
 */
export async function appendJournal(db: Db, logs: PbxLogs, entry: JournalEntry): Promise<void> {
  const at = entry.at ?? new Date();
  const details = entry.details ?? {};
  await db.insert(journal).values({
    pbxId: entry.pbxId,
    at,
    action: entry.action,
    why: entry.why,
    who: entry.who,
    modelId: entry.modelId ?? null,
    details,
  });
  logs.journal(entry.pbxId).info({
    at: at.toISOString(),
    action: entry.action,
    why: entry.why,
    who: entry.who,
    model: entry.modelId ?? undefined,
    ...details,
  });
}

export interface JournalFilter {
  pbxId: string;
  action?: string;
  /** Every action of a kind: `rollout` → `rollout.started`, `rollout.completed`, … (letters, digits, dashes only). */
  actionPrefix?: string;
  why?: JournalWhy;
  modelId?: string;
  from?: Date;
  to?: Date;
  /** Page backwards from this id (exclusive). */
  beforeId?: number;
  limit: number;
}

export async function listJournal(db: Db, f: JournalFilter) {
  const where: SQL[] = [eq(journal.pbxId, f.pbxId)];
  if (f.action) where.push(eq(journal.action, f.action));
  if (f.actionPrefix) where.push(like(journal.action, `${f.actionPrefix}.%`));
  if (f.why) where.push(eq(journal.why, f.why));
  if (f.modelId) where.push(eq(journal.modelId, f.modelId));
  if (f.from) where.push(gte(journal.at, f.from));
  if (f.to) where.push(lte(journal.at, f.to));
  if (f.beforeId) where.push(lt(journal.id, f.beforeId));
  return db
    .select()
    .from(journal)
    .where(and(...where))
    .orderBy(desc(journal.id))
    .limit(f.limit);
}
