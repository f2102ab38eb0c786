import { appendJournal } from '../../../db/queries/journal.ts';
import { loadOverviewInput } from '../../../db/queries/overview.ts';
import { getPbx } from '../../../db/queries/pbxes.ts';
import { getPhoneModels, listPhoneModels } from '../../../db/queries/phone-models.ts';
import { setAutoUpdate as storeAutoUpdate } from '../../../db/queries/type-settings.ts';
import { firmwareOverview, vendorLabel } from '../../../domain/overview.ts';
import { assertCallerMaySee, pbxForCaller } from '../../auth.ts';
import { type AppRouteHandler, jsonBytes, toJsonBytes } from '../../env.ts';
import { notFound } from '../../errors.ts';
import { notifySettingsChanged } from '../../lifecycle-client.ts';
import type * as routes from './types.routes.ts';
import type { Overview } from './types.routes.ts';

export const models: AppRouteHandler<typeof routes.models> = async (c) => {
  const rows = await listPhoneModels(c.var.deps.db);
  return c.json(
    {
      models: rows.map((m) => ({
        id: m.id,
        vendor: vendorLabel(m.vendor),
        model: m.model,
        imageManaged: m.imageManaged,
        inCatalog: m.inCatalog,
      })),
    },
    200,
  );
};

/** R6; one shared answer per PBX for at most API_ANSWER_CACHE_MS (a page polls it; issue 14). */
export const overview: AppRouteHandler<typeof routes.overview> = async (c) => {
  const { pbxId } = c.req.valid('param');
  assertCallerMaySee(c, pbxId);
  const { db, answers } = c.var.deps;
  const body = await answers.overview.get(pbxId, async () => {
    const pbx = await getPbx(db, pbxId);
    if (!pbx) throw notFound('PBX', pbxId, 'pbxId');
    // Serialized once per answer, not per request (a profile at 6,000 requests/s put a quarter of the API there).
    return toJsonBytes<Overview>({
      pbxId: pbx.id,
      types: firmwareOverview(await loadOverviewInput(db, pbx.id)),
    });
  });
  return jsonBytes(c, body, 200);
};

export const setAutoUpdate: AppRouteHandler<typeof routes.setAutoUpdate> = async (c) => {
  const deps = c.var.deps;
  const { pbxId, modelId } = c.req.valid('param');
  const pbx = await pbxForCaller(c, pbxId);
  const [model] = await getPhoneModels(deps.db, [modelId]);
  if (!model) throw notFound('phone model', modelId, 'modelId');
  const { enabled } = c.req.valid('json');
  const before = await storeAutoUpdate(deps.db, pbx.id, model.id, enabled);
  if (before !== enabled) {
    const who = c.var.principal.name;
    await appendJournal(deps.db, deps.logs, {
      pbxId: pbx.id,
      action: 'settings.auto-update',
      why: 'manual',
      who,
      modelId: model.id,
      details: { from: before, to: enabled },
    });
    await notifySettingsChanged(deps, pbx, who);
  }
  return c.json({ modelId: model.id, autoUpdate: enabled }, 200);
};
