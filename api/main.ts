import { connectDb } from '../db/client.ts';
import { migrateDatabase } from '../db/migrate.ts';
import { loadConfig } from '../lib/config.ts';
import { createLogger } from '../lib/logger.ts';
import { PbxLogs } from '../lib/pbx-logs.ts';
import { stopWhenSupervisorGone } from '../lib/supervised.ts';
import { connectClient } from '../lib/temporal.ts';
import { createApp } from './app.ts';
import { startApiServer } from './http-server.ts';
import { ensureLifecycles } from './lifecycle-client.ts';

stopWhenSupervisorGone();
const config = loadConfig();
const logger = createLogger('api', config.logLevel);
if (!config.database.url) {
  logger.fatal('DATABASE_URL is not set (npm start sets it for the embedded Postgres)');
  process.exit(2);
}
await migrateDatabase(config.database.url);
const { db, sql, close } = connectDb(config.database.url);
const temporal = await connectClient(config);
const logs = new PbxLogs(config.logDir);
// Every registered PBX has its lifecycle workflow running (idempotent; heals a terminated one).
await ensureLifecycles(db, temporal, config, logger);
const app = createApp({ config, db, sql, temporal, logger, logs });
const server = await startApiServer(app.fetch, config.api);
logger.info({ port: server.port }, `API listening on ${config.api.publicUrl}`);

let stopping = false;
/**
 * SIGTERM: stop accepting, let in-flight requests finish (an Update may wait up to API_WORKFLOW_ANSWER_TIMEOUT_MS)
 * within API_SHUTDOWN_GRACE_MS, then close what is left.
 */
async function shutdown(signal: string) {
  if (stopping) return;
  stopping = true;
  logger.info(
    { signal, graceMs: config.api.shutdownGraceMs },
    'API shutting down: draining in-flight requests',
  );
  if (!(await server.drain(config.api.shutdownGraceMs))) {
    logger.warn('grace period over: closed the connections still open');
  }
  await temporal.connection.close().catch(() => {});
  logs.close();
  await close();
  process.exit(0);
}
process.on('SIGINT', () => void shutdown('SIGINT'));
process.on('SIGTERM', () => void shutdown('SIGTERM'));
