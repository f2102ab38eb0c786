import { createRouter } from '../../env.ts';
import * as handlers from './types.handlers.ts';
import * as routes from './types.routes.ts';

export const typeRoutes = createRouter()
  .openapi(routes.models, handlers.models)
  .openapi(routes.overview, handlers.overview)
  .openapi(routes.setAutoUpdate, handlers.setAutoUpdate);
