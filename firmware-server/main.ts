/**
 * `npm run firmware-server`: runs the reference firmware server until SIGINT/SIGTERM.
 *   --port <n>         default: the port of FIRMWARE_SERVER_URL (8090)
 *   --host <addr>      default: FIRMWARE_SERVER_HOST (127.0.0.1)
 *   --data-dir <dir>   default: FIRMWARE_SERVER_DATA_DIR (<DATA_DIR>/firmware-server)
 *   --size-scale <x>   default: FIRMWARE_SIZE_SCALE (1 = realistic sizes; applies when a data dir is first seeded)
 *   --error-rate <p>   default: FIRMWARE_SERVER_ERROR_RATE (0): share 0..1 of catalog/file requests answered 500
 *   --truncate-share <p> default: FIRMWARE_SERVER_TRUNCATE_SHARE (0): share 0..1 of file bodies cut off mid-way
 * The public key PBXes must trust is printed at start and kept in <data-dir>/catalog-public.key.
 */
import { parseArgs } from 'node:util';
import { loadConfig } from '../lib/config.ts';
import { createLogger } from '../lib/logger.ts';
import { stopWhenSupervisorGone } from '../lib/supervised.ts';
import { startFirmwareServer } from './server.ts';

stopWhenSupervisorGone();
const config = loadConfig();
const { values } = parseArgs({
  options: {
    port: { type: 'string' },
    host: { type: 'string' },
    'data-dir': { type: 'string' },
    'size-scale': { type: 'string' },
    'error-rate': { type: 'string' },
    'truncate-share': { type: 'string' },
  },
});
const logger = createLogger('firmware-server', config.logLevel);
const port = Number(values.port ?? (new URL(config.firmwareServer.url).port || 80));
const sizeScale = Number(values['size-scale'] ?? config.firmwareServer.sizeScale);
if (!Number.isInteger(port) || port < 0 || port > 65535) {
  logger.fatal({ port: values.port }, 'invalid --port');
  process.exit(2);
}
const share = (flag: 'error-rate' | 'truncate-share', fallback: number) => {
  const v = values[flag] === undefined ? fallback : Number(values[flag]);
  if (!(v >= 0 && v <= 1)) {
    logger.fatal({ [flag]: values[flag] }, `invalid --${flag}: a share between 0 and 1`);
    process.exit(2);
  }
  return v;
};
const errorRate = share('error-rate', config.firmwareServer.errorRate);
const truncateShare = share('truncate-share', config.firmwareServer.truncateShare);
if (!(sizeScale > 0)) {
  logger.fatal({ sizeScale: values['size-scale'] }, 'invalid --size-scale');
  process.exit(2);
}

try {
  const server = await startFirmwareServer({
    port,
    host: values.host ?? config.firmwareServer.host,
    dataDir: values['data-dir'] ?? config.firmwareServer.dataDir,
    sizeScale,
    logger,
    faults: { errorRate, truncateShare },
  });
  if (errorRate || truncateShare) logger.warn({ errorRate, truncateShare }, 'fault injection on');
  const stop = async () => {
    await server.close();
    logger.info('firmware server stopped');
    process.exit(0);
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
} catch (err) {
  logger.fatal({ err }, 'firmware server did not start');
  process.exit(1);
}
