import { createRouter } from '../../env.ts';
import * as handlers from './fleet.handlers.ts';
import * as routes from './fleet.routes.ts';

export const fleetRoutes = createRouter().openapi(routes.fleet, handlers.fleet);
