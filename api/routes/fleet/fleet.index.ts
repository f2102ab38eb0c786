import { createRouter } from '../../env.ts';
import * as handlers from './fleet.handlers.ts';
import * as routes from './fleet.routes.ts';

export const fleetRoutes = createRouter()
  .openapi(routes.create, handlers.create)
  .openapi(routes.list, handlers.list)
  .openapi(routes.get, handlers.get)
  .openapi(routes.pause, handlers.pause)
  .openapi(routes.resume, handlers.resume)
  .openapi(routes.cancel, handlers.cancel);
