/**
 * Model ids in requests must be models the deployment knows (R1: the catalog's, and R2's image-managed ones); the
 * OpenAPI document lists them (api/openapi.ts), and anything else is a 400 naming the field, also for filters.
 */
import { getPhoneModels } from '../db/queries/phone-models.ts';
import type { ApiDeps } from './env.ts';
import { ApiError } from './errors.ts';

export async function requireKnownModels(
  deps: Pick<ApiDeps, 'db'>,
  modelIds: readonly string[],
  field: (index: number) => string,
): Promise<void> {
  if (modelIds.length === 0) return;
  const known = new Set((await getPhoneModels(deps.db, [...modelIds])).map((m) => m.id));
  const i = modelIds.findIndex((m) => !known.has(m));
  if (i >= 0) {
    throw new ApiError(400, `${field(i)}: unknown phone model ${JSON.stringify(modelIds[i])}`, field(i));
  }
}

/** A `modelId` query filter, when given. */
export const requireKnownModelFilter = (deps: Pick<ApiDeps, 'db'>, modelId: string | undefined) =>
  requireKnownModels(deps, modelId === undefined ? [] : [modelId], () => 'modelId');
