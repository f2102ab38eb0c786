import { bodyLimit } from 'hono/body-limit';
import { requireToken } from './auth.ts';
import { type ApiDeps, createRouter } from './env.ts';
import { onApiError, onNotFound } from './errors.ts';
import { checkHealth } from './health.ts';
import { accountRoutes } from './routes/accounts/accounts.index.ts';
import { actionRoutes } from './routes/actions/actions.index.ts';
import { journalRoutes } from './routes/journal/journal.index.ts';
import { pbxRoutes } from './routes/pbxes/pbxes.index.ts';
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
  app.use('*', async (c, next) => {
    c.set('deps', deps);
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
  app.doc('/openapi.json', {
    openapi: '3.0.3',
    info: {
      title: 'Phone firmware distribution — admin API',
      version: '1',
      description:
        'Per PBX: overview (R6), switches (R7, R8), update moment (R11), Check/Download/Update now, PBX events ' +
        '(R13, R5), rollouts (R12), journal (R14). A PBX-scoped token gets 404 for every other PBX (R16).',
    },
  });

  const maxSize = deps.config.api.maxBodyBytes;
  app.use(
    '/api/*',
    bodyLimit({
      maxSize,
      onError: (c) => c.json({ error: `request body larger than ${maxSize} bytes`, field: 'body' }, 413),
    }),
    requireToken,
  );
  for (const routes of [pbxRoutes, accountRoutes, typeRoutes, actionRoutes, rolloutRoutes, journalRoutes]) {
    app.route('/', routes);
  }
  // R15: the "Firmwares" page and its script; no data in them, so no token needed to load them.
  app.route('/', createWebRoutes());
  return app;
}
