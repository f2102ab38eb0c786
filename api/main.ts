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
let stopping = false;
const app = createApp({ config, db, sql, temporal, logger, logs });
const server = await startApiServer(app.fetch, config.api);
logger.info({ port: server.port }, `API listening on ${config.api.publicUrl}`);
// Every registered PBX has its lifecycle workflow running (idempotent; heals a terminated one). In the background,
// after the API listens: with 10,000 PBXes and none running a first start takes minutes, and nothing waits for it
// (every button starts its PBX's workflow with-start; the status is what the workflow recorded). Retried until it
// went through once, e.g. while Temporal is still coming up.
void (async () => {
  for (let attempt = 1; !stopping; attempt++) {
    try {
      await ensureLifecycles(db, temporal, config, logger);
      return;
    } catch (err) {
      logger.warn({ err, attempt }, 'could not ensure every PBX lifecycle workflow runs; retrying');
      await new Promise((r) => setTimeout(r, Math.min(30_000, 1_000 * 2 ** attempt)).unref());
    }
  }
})();

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
