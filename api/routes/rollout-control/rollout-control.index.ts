import { createRouter } from '../../env.ts';
import * as handlers from './rollout-control.handlers.ts';
import * as routes from './rollout-control.routes.ts';

export const rolloutControlRoutes = createRouter()
  .openapi(routes.pause, handlers.pause)
  .openapi(routes.resume, handlers.resume)
  .openapi(routes.cancel, handlers.cancel)
  .openapi(routes.retryParked, handlers.retryParked)
  .openapi(routes.plan, handlers.plan)
  .openapi(routes.parked, handlers.parked);
