/**
 * The worker process. WORKER_ROLES picks which task queues it serves, so roles can be scaled apart:
 *   lifecycle  the per-PBX workflows and their database/catalog activities
 *   downloads  firmware downloads (bounded by WORKER_MAX_CONCURRENT_DOWNLOADS)
 *   phones     the phone edge (provisioning HTTP + SIP) and block updates
 */
import { NativeConnection, Runtime, Worker } from '@temporalio/worker';
import { syncCatalog } from '../activities/catalog.ts';
import { syncImageFirmware } from '../activities/image-firmware.ts';
import {
  createDownloadActivities,
  createLifecycleActivities,
  createPhoneActivities,
} from '../activities/index.ts';
import { BLOCK_HEARTBEAT_THROTTLE } from '../activities/update-block.ts';
import { connectDb } from '../db/client.ts';
import { migrateDatabase } from '../db/migrate.ts';
import { loadConfig } from '../lib/config.ts';
import { edgeIdentity } from '../lib/edge-identity.ts';
import { createLogger } from '../lib/logger.ts';
import { PbxLogs } from '../lib/pbx-logs.ts';
import { stopWhenSupervisorGone } from '../lib/supervised.ts';
import { ensureSearchAttributes, workerConnectionOptions } from '../lib/temporal.ts';
import { type PhoneEdge, startPhoneEdge } from '../phones/edge.ts';
import { workflowsPath } from './bundle.ts';

stopWhenSupervisorGone();
const config = loadConfig();
const logger = createLogger('worker', config.logLevel);
if (!config.database.url) {
  logger.fatal('DATABASE_URL is not set (npm start sets it for the embedded Postgres)');
  process.exit(2);
}
Runtime.install({
  logger: {
    log: (level, message, meta) =>
      logger[level.toLowerCase() as Lowercase<typeof level>]({ ...meta }, message),
    trace: (m, meta) => logger.trace({ ...meta }, m),
    debug: (m, meta) => logger.debug({ ...meta }, m),
    info: (m, meta) => logger.info({ ...meta }, m),
    warn: (m, meta) => logger.warn({ ...meta }, m),
    error: (m, meta) => logger.error({ ...meta }, m),
  },
});

await migrateDatabase(config.database.url);
const dbHandle = connectDb(config.database.url, { max: 20 });
const logs = new PbxLogs(config.logDir);
const deps = { config, db: dbHandle.db, logs, logger };
const connection = await NativeConnection.connect(workerConnectionOptions(config));
if (config.worker.roles.has('lifecycle')) {
  try {
    await ensureSearchAttributes(connection, config.temporal.namespace, logger);
  } catch (err) {
    logger.fatal(err instanceof Error ? err.message : String(err));
    process.exit(1);
  }
}
// SIGTERM (a deploy, Ctrl-C): stop polling, let running downloads and blocks finish within the grace time; only
// then are they cancelled (and retried elsewhere from their heartbeats).
const common = {
  connection,
  namespace: config.temporal.namespace,
  shutdownGraceTime: config.worker.shutdownGraceMs,
};
const workflowSource = process.env.WORKFLOW_BUNDLE_PATH
  ? { workflowBundle: { codePath: process.env.WORKFLOW_BUNDLE_PATH } }
  : { workflowsPath };

const workers: Worker[] = [];
if (config.worker.roles.has('lifecycle')) {
  // R2: the models whose firmware ships with the PBX image must be known before accounts of them are created.
  const image = await syncImageFirmware(deps);
  // R1: the phone models come from the firmware server's catalog; fetch it now so accounts can be created
  // right away. Unreachable is not fatal: every weekly check and Check now syncs again (R3).
  await syncCatalog(deps).then(
    (r) =>
      logger.info(
        r.ok ? { status: r.status, serial: r.serial } : { rejected: r.error },
        'catalog sync at start',
      ),
    (err: unknown) =>
      logger.warn(
        { err: err instanceof Error ? err.message : String(err) },
        'catalog not reachable at start',
      ),
  );
  logger.info(
    { imageModels: image.registered.length, dir: config.imageFirmwareDir },
    'image firmware registered',
  );
  workers.push(
    await Worker.create({
      ...common,
      ...workflowSource,
      taskQueue: config.taskQueues.lifecycle,
      activities: createLifecycleActivities(deps),
      maxConcurrentActivityTaskExecutions: config.worker.maxConcurrentActivities,
      maxConcurrentWorkflowTaskExecutions: config.worker.maxConcurrentWorkflowTasks,
      // Set, not left to the SDK's guess from the heap limit: every PBX's workflow is long-lived.
      maxCachedWorkflows: config.worker.maxCachedWorkflows,
    }),
  );
}
if (config.worker.roles.has('downloads')) {
  workers.push(
    await Worker.create({
      ...common,
      taskQueue: config.taskQueues.downloads,
      activities: createDownloadActivities(deps),
      maxConcurrentActivityTaskExecutions: config.worker.maxConcurrentDownloads,
    }),
  );
}
let phoneEdge: PhoneEdge | undefined;
if (config.worker.roles.has('phones')) {
  // The phone edge (provisioning HTTP + SIP) lives with the activities that NOTIFY phones and wait for them.
  phoneEdge = await startPhoneEdge(deps, {
    provisioningPort: config.provisioning.port,
    sipPort: config.sip.port,
    host: config.sip.host,
    provisioningPublicUrl: config.provisioning.publicUrl,
    sipPublicHost: config.sip.publicHost,
    sipPublicPort: config.sip.publicPort,
  });
  workers.push(
    await Worker.create({
      ...common,
      taskQueue: config.taskQueues.phones,
      // Where phones reach this edge, for /health's SIP and HTTP checks (lib/edge-identity.ts).
      identity: edgeIdentity(
        { host: config.sip.publicHost, port: phoneEdge.sipPort },
        phoneEdge.provisioningUrl,
      ),
      activities: createPhoneActivities(deps, phoneEdge),
      maxConcurrentActivityTaskExecutions: config.worker.maxConcurrentBlocks,
      maxHeartbeatThrottleInterval: BLOCK_HEARTBEAT_THROTTLE,
    }),
  );
}
logger.info({ roles: [...config.worker.roles], namespace: config.temporal.namespace }, 'worker running');
try {
  // Runtime's shutdown signals (SIGINT/SIGTERM) make every worker drain and return.
  await Promise.all(workers.map((w) => w.run()));
} finally {
  await phoneEdge?.close();
  logs.close();
  await connection.close();
  await dbHandle.close();
  logger.info('worker stopped');
}
