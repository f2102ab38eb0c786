import { createRouter } from '../../env.ts';
import * as handlers from './journal.handlers.ts';
import * as routes from './journal.routes.ts';

export const journalRoutes = createRouter().openapi(routes.list, handlers.list);
