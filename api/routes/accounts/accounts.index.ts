import { createRouter } from '../../env.ts';
import * as handlers from './accounts.handlers.ts';
import * as routes from './accounts.routes.ts';

export const accountRoutes = createRouter()
  .openapi(routes.list, handlers.list)
  .openapi(routes.bulkCreate, handlers.bulkCreate)
  .openapi(routes.create, handlers.create)
  .openapi(routes.get, handlers.get)
  .openapi(routes.remove, handlers.remove);
