import type { Db } from '../db/client.ts';
import type { Config } from '../lib/config.ts';
import type { Logger } from '../lib/logger.ts';
import type { PbxLogs } from '../lib/pbx-logs.ts';

/** What activities get from the worker (real I/O) or from a test (real Postgres, loopback servers). No globals. */
export interface ActivityDeps {
  config: Config;
  db: Db;
  logs: PbxLogs;
  logger: Logger;
}
