import { serve } from '@hono/node-server';
import { connectDb } from '../db/client.ts';
import { migrateDatabase } from '../db/migrate.ts';
import { loadConfig } from '../lib/config.ts';
import { createLogger } from '../lib/logger.ts';
import { connectClient } from '../lib/temporal.ts';
import { createApp } from './app.ts';

const config = loadConfig();
const logger = createLogger('api', config.logLevel);
if (!config.database.url) {
  logger.fatal('DATABASE_URL is not set (npm start sets it for the embedded Postgres)');
  process.exit(2);
}
await migrateDatabase(config.database.url);
const { db, sql, close } = connectDb(config.database.url);
const temporal = await connectClient(config);
const app = createApp({ config, db, sql, temporal, logger });
const server = serve({ fetch: app.fetch, hostname: config.api.host, port: config.api.port }, (info) =>
  logger.info({ port: info.port }, `API listening on ${config.api.publicUrl}`),
);

let stopping = false;
async function shutdown(signal: string) {
  if (stopping) return;
  stopping = true;
  logger.info({ signal }, 'API shutting down');
  server.close();
  await temporal.connection.close().catch(() => {});
  await close();
  process.exit(0);
}
process.on('SIGINT', () => void shutdown('SIGINT'));
process.on('SIGTERM', () => void shutdown('SIGTERM'));
