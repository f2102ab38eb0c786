import { getCatalogState } from '../../../db/queries/catalog.ts';
import { latestRolloutResults, listPhonesOfPbx } from '../../../db/queries/phone-list.ts';
import { loadSupportedModels } from '../../../db/queries/supported-models.ts';
import { vendorLabel } from '../../../domain/overview.ts';
import { registrationState } from '../../../domain/registration.ts';
import type { PhoneOutcome } from '../../../domain/rollout.ts';
import { newestVersion } from '../../../domain/versions.ts';
import { pbxForCaller } from '../../auth.ts';
import type { AppRouteHandler } from '../../env.ts';
import { requireKnownModelFilter } from '../../known-models.ts';
import type * as routes from './phones.routes.ts';

const iso = (d: Date | null) => d?.toISOString() ?? null;

export const phones: AppRouteHandler<typeof routes.phones> = async (c) => {
  const { db } = c.var.deps;
  const pbx = await pbxForCaller(c, c.req.valid('param').pbxId);
  const q = c.req.valid('query');
  await requireKnownModelFilter(c.var.deps, q.modelId);
  const rows = await listPhonesOfPbx(db, pbx.id, q);
  const results = new Map(
    (
      await latestRolloutResults(
        db,
        pbx.id,
        rows.map((r) => r.id),
      )
    ).map((r) => [r.phoneAccountId, r]),
  );
  const now = Date.now();
  return c.json(
    {
      phones: rows.map((p) => {
        const last = results.get(p.id);
        const offered =
          p.firmwareTargetVersion !== null &&
          (p.firmwareTargetExpiresAt === null || p.firmwareTargetExpiresAt.getTime() > now);
        return {
          id: p.id,
          mac: p.mac,
          extension: p.extension,
          displayName: p.displayName,
          modelId: p.modelId,
          model: p.model,
          active: p.active,
          installedVersion: p.installedVersion,
          userAgent: p.userAgent,
          lastContactAt: iso(p.lastContactAt),
          lastProvisionedAt: iso(p.lastProvisionedAt),
          lastBootAt: iso(p.lastBootAt),
          registration: { state: registrationState(p, now), until: iso(p.sipRegisteredUntil) },
          firmwareOffer: offered
            ? { version: p.firmwareTargetVersion as string, expiresAt: iso(p.firmwareTargetExpiresAt) }
            : null,
          lastRollout: last
            ? {
                rolloutId: last.rolloutId,
                targetVersion: last.targetVersion,
                status: last.rolloutStatus,
                outcome: last.outcome,
                lastOutcome: last.lastOutcome as PhoneOutcome | null,
                fromVersion: last.fromVersion,
                reportedVersion: last.reportedVersion,
                reason: last.reason,
                at: last.at.toISOString(),
              }
            : null,
        };
      }),
      nextAfterId: rows.length === q.limit ? (rows.at(-1)?.id ?? null) : null,
    },
    200,
  );
};

export const supportedModels: AppRouteHandler<typeof routes.supportedModels> = async (c) => {
  const { db } = c.var.deps;
  const pbx = await pbxForCaller(c, c.req.valid('param').pbxId);
  const [{ models, offered, image, accounts }, state] = await Promise.all([
    loadSupportedModels(db, pbx.id),
    getCatalogState(db),
  ]);
  const count = new Map(accounts.map((a) => [a.modelId, a.n]));
  return c.json(
    {
      firmwareServer: {
        lastSyncAt: iso(state.syncedAt),
        lastError: state.lastError,
        lastErrorAt: iso(state.lastErrorAt),
      },
      models: models.map((m) => ({
        modelId: m.id,
        vendor: vendorLabel(m.vendor),
        model: m.model,
        source: m.imageManaged ? ('image' as const) : ('firmware-server' as const),
        inCatalog: m.inCatalog && !m.imageManaged,
        newestOffered: m.imageManaged
          ? null
          : (newestVersion(offered.filter((r) => r.modelIds.includes(m.id)).map((r) => r.version)) ?? null),
        imageVersion: newestVersion(image.filter((f) => f.modelId === m.id).map((f) => f.version)) ?? null,
        accounts: count.get(m.id) ?? 0,
      })),
    },
    200,
  );
};
