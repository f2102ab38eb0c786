import type { RouteConfig, RouteHandler } from '@hono/zod-openapi';
import { OpenAPIHono } from '@hono/zod-openapi';
import type { Client } from '@temporalio/client';
import type postgres from 'postgres';
import type { Db } from '../db/client.ts';
import type { Config } from '../lib/config.ts';
import type { Logger } from '../lib/logger.ts';
import type { PbxLogs } from '../lib/pbx-logs.ts';
import { validationHook } from './errors.ts';

export interface ApiDeps {
  config: Config;
  db: Db;
  sql: postgres.Sql;
  temporal: Client;
  logger: Logger;
  /** R14: the per-PBX logs the journal writes to. */
  logs: PbxLogs;
}

/** Who is calling: the token's name (journalled as `who`) and its scope (null = the whole deployment, R16). */
export interface Principal {
  tokenId: number;
  name: string;
  pbxId: string | null;
}

export interface AppEnv {
  Variables: {
    deps: ApiDeps;
    principal: Principal;
  };
}

/** A router with the shared validation hook, as every resource module builds it. */
export function createRouter() {
  return new OpenAPIHono<AppEnv>({ strict: false, defaultHook: validationHook });
}

export type AppRouteHandler<R extends RouteConfig> = RouteHandler<R, AppEnv>;
