/**
 * Statements for the hottest paths (the phone edge, block updates), rendered ONCE from drizzle `sql` templates —
 * so column names still come from db/schema.ts — and run as named prepared statements on the postgres.js client,
 * without drizzle's per-call query building and row mapping (a profile of the edge at 2,000 phones put a
 * quarter of its CPU there). Parameters are `sql.placeholder(name)`; rows come back as the driver gives them
 * (drizzle leaves timestamps as text, int8 is a string): `rowMapper` decodes them the way each column does.
 */
import { type Column, Placeholder, type SQL } from 'drizzle-orm';
import { PgDialect } from 'drizzle-orm/pg-core';
import type { Sql } from 'postgres';
import type { Db } from './client.ts';

const dialect = new PgDialect();

export interface CompiledStatement<P extends string> {
  readonly text: string;
  run<R extends object = Record<string, unknown>>(db: Db, values: Record<P, unknown>): Promise<R[]>;
}

export function compileStatement<P extends string>(query: SQL): CompiledStatement<P> {
  const { sql: text, params } = dialect.sqlToQuery(query);
  const names = params.map((p) => {
    if (!(p instanceof Placeholder)) {
      throw new Error(`compiled statements take only placeholders, got ${JSON.stringify(p)} in: ${text}`);
    }
    return p.name as P;
  });
  return {
    text,
    run<R extends object>(db: Db, values: Record<P, unknown>): Promise<R[]> {
      const client = (db as Db & { $client?: Sql }).$client;
      if (!client?.unsafe)
        throw new Error('compiled statements need a postgres.js database handle (connectDb)');
      return client.unsafe(
        text,
        names.map((n) => values[n] as never),
        { prepare: true },
      ) as unknown as Promise<R[]>;
    },
  };
}

/**
 * Decodes driver rows whose keys are the aliases of `columns` with each column's own decoder (timestamps to Date,
 * int8 to number), as drizzle would; other keys stay as they are.
 */
export function rowMapper<T>(columns: Record<string, Column>): (row: Record<string, unknown>) => T {
  const decoders = Object.entries(columns).map(([alias, column]) => [alias, column] as const);
  return (row) => {
    for (const [alias, column] of decoders) {
      const v = row[alias];
      if (v !== null && v !== undefined) row[alias] = column.mapFromDriverValue(v);
    }
    return row as T;
  };
}

/** A timestamptz[] parameter (postgres.js sends arrays of strings; the statement casts `::text[]::timestamptz[]`). */
export function isoTimes(dates: Array<Date | null>): Array<string | null> {
  return dates.map((d) => (d ? d.toISOString() : null));
}

/** An int8 postgres.js returned (a string), as the number drizzle's `mode: 'number'` columns give. */
export function int8(v: unknown): number {
  return typeof v === 'number' ? v : Number(v);
}
