import { createRouter } from '../../env.ts';
import * as handlers from './fleet-rollouts.handlers.ts';
import * as routes from './fleet-rollouts.routes.ts';

export const fleetRolloutRoutes = createRouter()
  .openapi(routes.create, handlers.create)
  .openapi(routes.list, handlers.list)
  .openapi(routes.get, handlers.get)
  .openapi(routes.pause, handlers.pause)
  .openapi(routes.resume, handlers.resume)
  .openapi(routes.cancel, handlers.cancel);
