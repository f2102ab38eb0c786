import { createRouter } from '../../env.ts';
import * as handlers from './pbxes.handlers.ts';
import * as routes from './pbxes.routes.ts';

export const pbxRoutes = createRouter()
  .openapi(routes.list, handlers.list)
  .openapi(routes.register, handlers.register)
  .openapi(routes.get, handlers.get)
  .openapi(routes.changeSettings, handlers.changeSettings)
  .openapi(routes.status, handlers.status);
