import { createRouter } from '../../env.ts';
import * as handlers from './rollouts.handlers.ts';
import * as routes from './rollouts.routes.ts';

export const rolloutRoutes = createRouter()
  .openapi(routes.progress, handlers.progress)
  .openapi(routes.list, handlers.list)
  .openapi(routes.get, handlers.get);
