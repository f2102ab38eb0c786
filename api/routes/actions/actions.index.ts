import { createRouter } from '../../env.ts';
import * as handlers from './actions.handlers.ts';
import * as routes from './actions.routes.ts';

export const actionRoutes = createRouter()
  .openapi(routes.checkNow.press, handlers.checkNow)
  .openapi(routes.checkNow.result, handlers.checkNowResult)
  .openapi(routes.downloadNow.press, handlers.downloadNow)
  .openapi(routes.downloadNow.result, handlers.downloadNowResult)
  .openapi(routes.updateNow.press, handlers.updateNow)
  .openapi(routes.updateNow.result, handlers.updateNowResult)
  .openapi(routes.pbxEvent, handlers.pbxEvent);
