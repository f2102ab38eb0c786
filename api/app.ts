import type { Client } from '@temporalio/client';
import { Hono } from 'hono';
import type postgres from 'postgres';
import type { Db } from '../db/client.ts';
import type { Config } from '../lib/config.ts';
import type { Logger } from '../lib/logger.ts';
import { checkHealth } from './health.ts';

export interface ApiDeps {
  config: Config;
  db: Db;
  sql: postgres.Sql;
  temporal: Client;
  logger: Logger;
}

export function createApp(deps: ApiDeps) {
  const app = new Hono();
  app.get('/health', async (c) => {
    const health = await checkHealth({
      sql: deps.sql,
      temporal: deps.temporal,
      namespace: deps.config.temporal.namespace,
    });
    return c.json(health, health.ok ? 200 : 503);
  });
  return app;
}
