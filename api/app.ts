import type { MiddlewareHandler } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { AnswerCache } from '../lib/answer-cache.ts';
import { requireToken } from './auth.ts';
import { type ApiAnswers, type ApiDeps, type AppEnv, createRouter } from './env.ts';
import { methodsAllowed, onApiError, onNotFound } from './errors.ts';
import { checkHealth } from './health.ts';
import { openApiDocument } from './openapi.ts';
import { accountRoutes } from './routes/accounts/accounts.index.ts';
import { actionRoutes } from './routes/actions/actions.index.ts';
import { fleetRoutes } from './routes/fleet/fleet.index.ts';
import { fleetRolloutRoutes } from './routes/fleet-rollouts/fleet-rollouts.index.ts';
import { journalRoutes } from './routes/journal/journal.index.ts';
import { logRoutes } from './routes/logs/logs.index.ts';
import { pbxRoutes } from './routes/pbxes/pbxes.index.ts';
import { phoneRoutes } from './routes/phones/phones.index.ts';
import { rolloutControlRoutes } from './routes/rollout-control/rollout-control.index.ts';
import { rolloutPlanningRoutes } from './routes/rollout-planning/rollout-planning.index.ts';
import { rolloutRoutes } from './routes/rollouts/rollouts.index.ts';
import { typeRoutes } from './routes/types/types.index.ts';
import { createWebRoutes } from './web/pages.ts';

export type { ApiDeps } from './env.ts';

/**
 * The admin surface: `/api/*` (bearer token, zod-validated, described at `/openapi.json`), the "Firmwares" web
 * page (R15) and `/health`. Provisioning is served elsewhere and never accepts admin tokens.
 */
export function createApp(deps: ApiDeps) {
  const app = createRouter();
  const ttl = deps.config.api.answerCacheMs;
  const answers: ApiAnswers = { overview: new AnswerCache(ttl), tokens: new AnswerCache(ttl) };
  const shared = { ...deps, answers };
  app.use('*', async (c, next) => {
    c.set('deps', shared);
    await next();
  });
  app.onError(onApiError);
  app.notFound(onNotFound);

  app.get('/health', async (c) => {
    const health = await checkHealth({
      sql: deps.sql,
      temporal: deps.temporal,
      namespace: deps.config.temporal.namespace,
      queues: deps.config.taskQueues,
    });
    return c.json(health, health.serving ? 200 : 503);
  });

  app.openAPIRegistry.registerComponent('securitySchemes', 'bearer', {
    type: 'http',
    scheme: 'bearer',
    description: 'An admin token from `npm run token -- create --name <who> [--pbx <id>]`',
  });
  // The document is derived from the routes' zod schemas; the known models come from the catalog (R1).
  app.get('/openapi.json', async (c) => c.json(await openApiDocument(app, deps.db), 200));

  const maxSize = deps.config.api.maxBodyBytes;
  app.use(
    '/api/*',
    bodyLimit({
      maxSize,
      onError: (c) => c.json({ error: `request body larger than ${maxSize} bytes`, field: 'body' }, 413),
    }),
    requireToken,
    forgetAnswersAfterChanges(answers),
  );
  // After the token check: a wrong method on an admin path is the caller's business only once it may ask.
  app.use(
    '*',
    methodsAllowed(() => app.routes),
  );
  for (const routes of [
    pbxRoutes,
    accountRoutes,
    typeRoutes,
    actionRoutes,
    rolloutRoutes,
    journalRoutes,
    phoneRoutes,
    logRoutes,
    // Issue 13: rollout safety
    rolloutControlRoutes,
    rolloutPlanningRoutes,
    fleetRolloutRoutes,
    fleetRoutes,
  ]) {
    app.route('/', routes);
  }
  // R15: the "Firmwares" page and its script; no data in them, so no token needed to load them.
  app.route('/', createWebRoutes());
  return app;
}

const PBX_PATH = /^\/api\/pbxes\/([^/]+)/;

/**
 * A change made through this API is seen by the next read at once: after any non-GET admin request the changed
 * PBX's shared answers are dropped (every PBX's when the request was not about one PBX, e.g. fleet actions).
 * Changes the workflows make show within `API_ANSWER_CACHE_MS`.
 */
function forgetAnswersAfterChanges(answers: ApiAnswers): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    try {
      await next();
    } finally {
      if (c.req.method !== 'GET' && c.req.method !== 'HEAD') {
        const pbx = PBX_PATH.exec(c.req.path)?.[1];
        if (pbx) answers.overview.delete(decodeURIComponent(pbx));
        else answers.overview.clear();
      }
    }
  };
}
