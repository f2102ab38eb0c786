import { createRouter } from '../../env.ts';
import * as handlers from './actions.handlers.ts';
import * as routes from './actions.routes.ts';

export const actionRoutes = createRouter()
  .openapi(routes.checkNow, handlers.checkNow)
  .openapi(routes.downloadNow, handlers.downloadNow)
  .openapi(routes.updateNow, handlers.updateNow)
  .openapi(routes.pbxEvent, handlers.pbxEvent);
