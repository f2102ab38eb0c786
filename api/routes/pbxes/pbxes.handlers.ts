import { randomInt } from 'node:crypto';
import { appendJournal } from '../../../db/queries/journal.ts';
import {
  deletePbx,
  getPbx,
  insertPbx,
  listPbxes,
  type PbxRow,
  type PbxSettingsChange,
  sipDomainTaken,
  updatePbxSettings,
} from '../../../db/queries/pbxes.ts';
import { PBX_ID_PATTERN, pbxIdFromName } from '../../../domain/pbx-id.ts';
import {
  drawWeeklyCheckMoment,
  formatWeeklyMoment,
  parseWeeklyMoment,
  type WeeklyMoment,
} from '../../../domain/timing.ts';
import type { Config } from '../../../lib/config.ts';
import { generateSecret, hashSecret } from '../../../lib/secrets.ts';
import { workflowIds } from '../../../workflows/messages.ts';
import { pbxForCaller, requireDeploymentScope } from '../../auth.ts';
import type { AppRouteHandler } from '../../env.ts';
import { ApiError, uniqueViolation } from '../../errors.ts';
import {
  lifecycleStatus,
  notifySettingsChanged,
  startLifecycle,
  temporalUiUrl,
} from '../../lifecycle-client.ts';
import type * as routes from './pbxes.routes.ts';

/** R11 default for a newly registered PBX: Sunday 03:00 local time. */
const DEFAULT_UPDATE_MOMENT: WeeklyMoment = { day: 6, minute: 3 * 60 };

/** A uniform number in [0, 1) from the OS's cryptographic randomness (R9: the moment must not be guessable). */
const cryptoRandom = () => randomInt(0, 2 ** 47) / 2 ** 47;

const presentMoment = (m: WeeklyMoment) => {
  const { weekday, time } = formatWeeklyMoment(m);
  return { day: weekday, time };
};

export function presentPbx(pbx: PbxRow, config: Config) {
  return {
    id: pbx.id,
    name: pbx.name,
    timeZone: pbx.timeZone,
    softwareVersion: pbx.softwareVersion,
    sipDomain: pbx.sipDomain,
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
  const rows = await listPbxes(db, scope === null ? undefined : [scope]);
  return c.json({ pbxes: rows.map((p) => presentPbx(p, config)) }, 200);
};

export const register: AppRouteHandler<typeof routes.register> = async (c) => {
  requireDeploymentScope(c, 'registering a PBX');
  const deps = c.var.deps;
  const body = c.req.valid('json');
  const id = body.id ?? pbxIdFromName(body.name);
  if (!PBX_ID_PATTERN.test(id)) {
    throw new ApiError(400, 'id: no id can be derived from this name; give one ([a-z0-9-])', 'id');
  }
  const sipDomain = body.sipDomain ?? `${id}.pbx.local`;
  if (await getPbx(deps.db, id)) throw new ApiError(409, `a PBX with id ${JSON.stringify(id)} exists`, 'id');
  if (await sipDomainTaken(deps.db, sipDomain))
    throw new ApiError(409, `SIP domain ${JSON.stringify(sipDomain)} is taken`, 'sipDomain');

  // R9: drawn once, here, with crypto randomness; stored and never drawn again.
  const weeklyCheck = drawWeeklyCheckMoment(cryptoRandom);
  const password = generateSecret(24);
  let pbx: PbxRow;
  try {
    pbx = await insertPbx(deps.db, {
      id,
      name: body.name,
      timeZone: body.timeZone,
      softwareVersion: body.softwareVersion ?? null,
      weeklyCheckDay: weeklyCheck.day,
      weeklyCheckMinute: weeklyCheck.minute,
      updateDay: DEFAULT_UPDATE_MOMENT.day,
      updateMinute: DEFAULT_UPDATE_MOMENT.minute,
      provisioningUser: id,
      provisioningSecretHash: await hashSecret(password),
      sipDomain,
    });
  } catch (err) {
    const constraint = uniqueViolation(err);
    if (!constraint) throw err;
    const field = constraint.includes('sip_domain') ? 'sipDomain' : 'id';
    throw new ApiError(409, `${field} is taken`, field);
  }
  try {
    await startLifecycle(deps, pbx);
  } catch (err) {
    // Without its workflow the PBX would be a half-registered ghost: undo and let the admin retry.
    await deletePbx(deps.db, id);
    deps.logger.error({ err, pbxId: id }, 'could not start the lifecycle workflow; registration undone');
    throw new ApiError(503, `Temporal is not reachable; PBX ${id} was not registered`);
  }
  await appendJournal(deps.db, deps.logs, {
    pbxId: id,
    action: 'pbx.registered',
    why: 'manual',
    who: c.var.principal.name,
    details: {
      name: pbx.name,
      timeZone: pbx.timeZone,
      weeklyCheck: presentMoment(weeklyCheck),
      updateMoment: presentMoment(DEFAULT_UPDATE_MOMENT),
      sipDomain,
    },
  });
  return c.json(
    { pbx: presentPbx(pbx, deps.config), provisioning: { user: pbx.provisioningUser, password } },
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

export const status: AppRouteHandler<typeof routes.status> = async (c) => {
  const pbx = await pbxForCaller(c, c.req.valid('param').pbxId);
  const s = await lifecycleStatus(c.var.deps, pbx.id);
  return c.json({ status: s as Record<string, unknown> | null }, 200);
};
