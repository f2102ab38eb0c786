import { createRouter } from '../../env.ts';
import * as handlers from './phones.handlers.ts';
import * as routes from './phones.routes.ts';

export const phoneRoutes = createRouter()
  .openapi(routes.phones, handlers.phones)
  .openapi(routes.supportedModels, handlers.supportedModels);
