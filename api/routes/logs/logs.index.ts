import { createRouter } from '../../env.ts';
import * as handlers from './logs.handlers.ts';
import * as routes from './logs.routes.ts';

export const logRoutes = createRouter().openapi(routes.download, handlers.download);
