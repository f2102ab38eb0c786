import { and, asc, eq, isNull, sql } from 'drizzle-orm';
import type { Db } from '../client.ts';
import { compileStatement, int8 } from '../prepared.ts';
import { apiTokens } from '../schema.ts';

export type ApiTokenRow = typeof apiTokens.$inferSelect;

export async function insertApiToken(
  db: Db,
  token: { name: string; tokenHash: string; pbxId: string | null },
): Promise<ApiTokenRow> {
  const [row] = await db.insert(apiTokens).values(token).returning();
  return row!;
}

const authenticate = compileStatement<'tokenHash' | 'now'>(sql`
  with live as (
    select ${apiTokens.id} as id, ${apiTokens.name} as name, ${apiTokens.pbxId} as pbx_id
    from ${apiTokens}
    where ${apiTokens.tokenHash} = ${sql.placeholder('tokenHash')} and ${apiTokens.revokedAt} is null
  ), touched as (
    update ${apiTokens} set ${sql.identifier(apiTokens.lastUsedAt.name)} = ${sql.placeholder('now')}::timestamptz
    where ${apiTokens.id} in (select id from live)
      and (${apiTokens.lastUsedAt} is null
        or ${apiTokens.lastUsedAt} < ${sql.placeholder('now')}::timestamptz - interval '60 seconds')
    returning 1
  )
  select id, name, pbx_id from live
`);

/**
 * Every admin request (issue 14): the live token with this hash, and its use recorded at most once a minute, in
 * one prepared round trip (a revoked token stops working at once; most requests write nothing).
 */
export async function authenticateToken(
  db: Db,
  tokenHash: string,
  now: Date,
): Promise<{ id: number; name: string; pbxId: string | null } | undefined> {
  const [row] = await authenticate.run<{ id: unknown; name: string; pbx_id: string | null }>(db, {
    tokenHash,
    now: now.toISOString(),
  });
  return row ? { id: int8(row.id), name: row.name, pbxId: row.pbx_id } : undefined;
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
