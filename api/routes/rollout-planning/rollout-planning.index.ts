import { createRouter } from '../../env.ts';
import * as handlers from './rollout-planning.handlers.ts';
import * as routes from './rollout-planning.routes.ts';

export const rolloutPlanningRoutes = createRouter()
  .openapi(routes.makePreviews, handlers.makePreviews)
  .openapi(routes.getPreview, handlers.getPreview)
  .openapi(routes.getSettings, handlers.getSettings)
  .openapi(routes.changeSettings, handlers.changeSettings)
  .openapi(routes.setHold, handlers.setHold)
  .openapi(routes.releaseHold, handlers.releaseHold)
  .openapi(routes.downgrade, handlers.downgrade)
  .openapi(routes.typeRollout, handlers.typeRollout);
