import { appendJournal } from '../../../db/queries/journal.ts';
import { getLifecycleStatus } from '../../../db/queries/lifecycle-status.ts';
import {
  type PbxRow,
  type PbxSettingsChange,
  pagePbxes,
  updatePbxSettings,
} from '../../../db/queries/pbxes.ts';
import { parseWeeklyMoment } from '../../../domain/timing.ts';
import type { Config } from '../../../lib/config.ts';
import { workflowIds } from '../../../workflows/messages.ts';
import { pbxForCaller, requireDeploymentScope } from '../../auth.ts';
import type { AppRouteHandler } from '../../env.ts';
import { notifySettingsChanged, temporalUiUrl } from '../../lifecycle-client.ts';
import { presentMoment, registerPbx } from '../../pbx-registration.ts';
import type * as routes from './pbxes.routes.ts';

export function presentPbx(pbx: PbxRow, config: Config) {
  return {
    id: pbx.id,
    name: pbx.name,
    timeZone: pbx.timeZone,
    softwareVersion: pbx.softwareVersion,
    sipDomain: pbx.sipDomain,
    phonesTaskQueue: pbx.phonesTaskQueue,
    provisioningUser: pbx.provisioningUser,
    weeklyCheck: presentMoment({ day: pbx.weeklyCheckDay, minute: pbx.weeklyCheckMinute }),
    autoDownloadInstall: pbx.autoDownloadInstall,
    updateMoment:
      pbx.updateDay === null || pbx.updateMinute === null
        ? null
        : presentMoment({ day: pbx.updateDay, minute: pbx.updateMinute }),
    createdAt: pbx.createdAt.toISOString(),
    lastRestartAt: pbx.lastRestartAt?.toISOString() ?? null,
    temporalUrl: temporalUiUrl(config, workflowIds.lifecycle(pbx.id)),
  };
}

export const list: AppRouteHandler<typeof routes.list> = async (c) => {
  const { db, config } = c.var.deps;
  const scope = c.var.principal.pbxId;
  const { limit, after, q } = c.req.valid('query');
  const rows = await pagePbxes(db, {
    onlyIds: scope === null ? undefined : [scope],
    after,
    search: q,
    limit: limit + 1, // one more tells whether a next page exists
  });
  const page = rows.slice(0, limit);
  const nextAfter = rows.length > limit ? (page.at(-1)?.id ?? null) : null;
  return c.json({ pbxes: page.map((p) => presentPbx(p, config)), nextAfter }, 200);
};

export const register: AppRouteHandler<typeof routes.register> = async (c) => {
  requireDeploymentScope(c, 'registering a PBX');
  const deps = c.var.deps;
  const { pbx, provisioningPassword } = await registerPbx(deps, c.req.valid('json'), c.var.principal.name);
  return c.json(
    {
      pbx: presentPbx(pbx, deps.config),
      provisioning: { user: pbx.provisioningUser, password: provisioningPassword },
    },
    201,
  );
};

export const get: AppRouteHandler<typeof routes.get> = async (c) => {
  const pbx = await pbxForCaller(c, c.req.valid('param').pbxId);
  return c.json(presentPbx(pbx, c.var.deps.config), 200);
};

export const changeSettings: AppRouteHandler<typeof routes.changeSettings> = async (c) => {
  const deps = c.var.deps;
  const pbx = await pbxForCaller(c, c.req.valid('param').pbxId);
  const body = c.req.valid('json');
  const who = c.var.principal.name;

  const change: PbxSettingsChange = {};
  if (body.autoDownloadInstall !== undefined && body.autoDownloadInstall !== pbx.autoDownloadInstall) {
    change.autoDownloadInstall = body.autoDownloadInstall;
  }
  const before =
    pbx.updateDay === null || pbx.updateMinute === null
      ? null
      : { day: pbx.updateDay, minute: pbx.updateMinute };
  if (body.updateMoment !== undefined) {
    const wanted =
      body.updateMoment &&
      parseWeeklyMoment({ weekday: body.updateMoment.day, time: body.updateMoment.time });
    if (wanted?.day !== before?.day || wanted?.minute !== before?.minute) change.updateMoment = wanted;
  }
  if (Object.keys(change).length === 0) return c.json(presentPbx(pbx, deps.config), 200);

  const updated = await updatePbxSettings(deps.db, pbx.id, change);
  if (change.autoDownloadInstall !== undefined) {
    await appendJournal(deps.db, deps.logs, {
      pbxId: pbx.id,
      action: 'settings.auto-download-install',
      why: 'manual',
      who,
      details: { from: pbx.autoDownloadInstall, to: change.autoDownloadInstall },
    });
  }
  if (change.updateMoment !== undefined) {
    await appendJournal(deps.db, deps.logs, {
      pbxId: pbx.id,
      action: 'settings.update-moment',
      why: 'manual',
      who,
      details: {
        from: before && presentMoment(before),
        to: change.updateMoment && presentMoment(change.updateMoment),
      },
    });
  }
  await notifySettingsChanged(deps, updated, who);
  return c.json(presentPbx(updated, deps.config), 200);
};

/** What the lifecycle workflow last recorded of itself (it records every change): no Temporal query per poll. */
export const status: AppRouteHandler<typeof routes.status> = async (c) => {
  const pbx = await pbxForCaller(c, c.req.valid('param').pbxId);
  const recorded = await getLifecycleStatus(c.var.deps.db, pbx.id);
  return c.json(
    { status: recorded?.status ?? null, recordedAt: recorded?.recordedAt.toISOString() ?? null },
    200,
  );
};
