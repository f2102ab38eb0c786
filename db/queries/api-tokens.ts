import { and, asc, eq, isNull, lt, or } from 'drizzle-orm';
import type { Db } from '../client.ts';
import { apiTokens } from '../schema.ts';

export type ApiTokenRow = typeof apiTokens.$inferSelect;

export async function insertApiToken(
  db: Db,
  token: { name: string; tokenHash: string; pbxId: string | null },
): Promise<ApiTokenRow> {
  const [row] = await db.insert(apiTokens).values(token).returning();
  return row!;
}

/** The live (not revoked) token with this hash. */
export async function findActiveToken(db: Db, tokenHash: string): Promise<ApiTokenRow | undefined> {
  const [row] = await db
    .select()
    .from(apiTokens)
    .where(and(eq(apiTokens.tokenHash, tokenHash), isNull(apiTokens.revokedAt)));
  return row;
}

/** Records use at most once per `granularityMs`, so reads do not turn into a write each. */
export async function touchApiToken(db: Db, id: number, now: Date, granularityMs = 60_000): Promise<void> {
  await db
    .update(apiTokens)
    .set({ lastUsedAt: now })
    .where(
      and(
        eq(apiTokens.id, id),
        or(isNull(apiTokens.lastUsedAt), lt(apiTokens.lastUsedAt, new Date(now.getTime() - granularityMs))),
      ),
    );
}

export async function listApiTokens(db: Db): Promise<ApiTokenRow[]> {
  return db.select().from(apiTokens).orderBy(asc(apiTokens.id));
}

/** Revokes live tokens by id or by name; returns what was revoked. */
export async function revokeApiTokens(db: Db, by: { id: number } | { name: string }): Promise<ApiTokenRow[]> {
  const match = 'id' in by ? eq(apiTokens.id, by.id) : eq(apiTokens.name, by.name);
  return db
    .update(apiTokens)
    .set({ revokedAt: new Date() })
    .where(and(match, isNull(apiTokens.revokedAt)))
    .returning();
}
