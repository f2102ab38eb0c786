import type { RouteConfig, RouteHandler } from '@hono/zod-openapi';
import { OpenAPIHono } from '@hono/zod-openapi';
import type { Client } from '@temporalio/client';
import type { Context, TypedResponse } from 'hono';
import type postgres from 'postgres';
import type { Db } from '../db/client.ts';
import type { AnswerCache } from '../lib/answer-cache.ts';
import type { Config } from '../lib/config.ts';
import type { Logger } from '../lib/logger.ts';
import type { PbxLogs } from '../lib/pbx-logs.ts';
import { validationHook } from './errors.ts';
import type { Overview } from './routes/types/types.routes.ts';

export interface ApiDeps {
  config: Config;
  db: Db;
  sql: postgres.Sql;
  temporal: Client;
  logger: Logger;
  /** R14: the per-PBX logs the journal writes to. */
  logs: PbxLogs;
}

/** What the API shares between requests for at most `API_ANSWER_CACHE_MS` (issue 14). */
export interface ApiAnswers {
  /** R6: the overview per PBX id as the JSON bytes it is answered with (a PBX that does not exist is never kept). */
  overview: AnswerCache<JsonBytes<Overview>>;
  /** Live tokens by hash (an unknown or revoked one is never kept: a revocation counts within the ttl). */
  tokens: AnswerCache<Principal>;
}

/** Who is calling: the token's name (journalled as `who`) and its scope (null = the whole deployment, R16). */
export interface Principal {
  tokenId: number;
  name: string;
  pbxId: string | null;
}

export interface AppEnv {
  Variables: {
    deps: ApiDeps & { answers: ApiAnswers };
    principal: Principal;
  };
}

/** A router with the shared validation hook, as every resource module builds it. */
export function createRouter() {
  return new OpenAPIHono<AppEnv>({ strict: false, defaultHook: validationHook });
}

export type AppRouteHandler<R extends RouteConfig> = RouteHandler<R, AppEnv>;

/** A value of type T serialized once as JSON (an answer many requests share, issue 14). */
export type JsonBytes<T> = Uint8Array<ArrayBuffer> & { readonly __json: T };

export function toJsonBytes<T>(value: T): JsonBytes<T> {
  return new TextEncoder().encode(JSON.stringify(value)) as JsonBytes<T>;
}

/** Answers with JSON bytes serialized before, typed as the route's JSON answer. */
export function jsonBytes<T, S extends 200>(
  c: Context,
  bytes: JsonBytes<T>,
  status: S,
): TypedResponse<T, S, 'json'> {
  return c.body(bytes, status, { 'content-type': 'application/json' }) as unknown as TypedResponse<
    T,
    S,
    'json'
  >;
}
