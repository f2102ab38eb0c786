import type { z } from '@hono/zod-openapi';
import { appendJournal } from '../../../db/queries/journal.ts';
import { unmarkFirmwareCleanup } from '../../../db/queries/local-firmware.ts';
import type { PbxRow } from '../../../db/queries/pbxes.ts';
import {
  deletePhoneAccount,
  getPhoneAccount,
  insertPhoneAccounts,
  listPhoneAccounts,
  type PhoneAccountRow,
} from '../../../db/queries/phone-accounts.ts';
import { listPhoneModels, type PhoneModelRow } from '../../../db/queries/phone-models.ts';
import { formatMac } from '../../../domain/mac.ts';
import { vendorLabel } from '../../../domain/overview.ts';
import { generateSecret, sealSecret, sipHa1 } from '../../../lib/secrets.ts';
import { pbxEventUpdate } from '../../../workflows/messages.ts';
import { pbxForCaller } from '../../auth.ts';
import type { ApiDeps, AppRouteHandler } from '../../env.ts';
import { ApiError, notFound, uniqueViolation } from '../../errors.ts';
import { requireKnownModelFilter } from '../../known-models.ts';
import { askLifecycle } from '../../lifecycle-client.ts';
import type * as routes from './accounts.routes.ts';
import type { NewAccountSchema } from './accounts.routes.ts';

type NewAccount = z.output<typeof NewAccountSchema>;

export function presentAccount(
  row: PhoneAccountRow,
  model: Pick<PhoneModelRow, 'vendor' | 'model'> | undefined,
) {
  return {
    id: row.id,
    pbxId: row.pbxId,
    mac: row.mac,
    modelId: row.modelId,
    vendor: model ? vendorLabel(model.vendor) : '',
    model: model?.model ?? row.modelId,
    extension: row.extension,
    displayName: row.displayName,
    active: row.active,
    installedVersion: row.installedVersion,
    lastContactAt: row.lastContactAt?.toISOString() ?? null,
    createdAt: row.createdAt.toISOString(),
  };
}

/** `yealink-t54w` and "Yealink T54W" (as /api/phone-models lists them, exactly) to the catalog's models. */
export function modelNames(models: Pick<PhoneModelRow, 'id' | 'vendor' | 'model'>[]): Map<string, string> {
  const byName = new Map<string, string>();
  for (const m of models) {
    byName.set(m.id, m.id);
    byName.set(`${vendorLabel(m.vendor)} ${m.model}`, m.id);
  }
  return byName;
}

export const list: AppRouteHandler<typeof routes.list> = async (c) => {
  const { db } = c.var.deps;
  const pbx = await pbxForCaller(c, c.req.valid('param').pbxId);
  const q = c.req.valid('query');
  await requireKnownModelFilter(c.var.deps, q.modelId);
  const [rows, models] = await Promise.all([
    listPhoneAccounts(db, pbx.id, { limit: q.limit, afterId: q.afterId, modelId: q.modelId }),
    listPhoneModels(db),
  ]);
  const byId = new Map(models.map((m) => [m.id, m]));
  return c.json(
    {
      accounts: rows.map((r) => presentAccount(r, byId.get(r.modelId))),
      nextAfterId: rows.length === q.limit ? (rows.at(-1)?.id ?? null) : null,
    },
    200,
  );
};

export const create: AppRouteHandler<typeof routes.create> = async (c) => {
  const pbx = await pbxForCaller(c, c.req.valid('param').pbxId);
  const { created, triggers } = await createAccounts(
    c.var.deps,
    pbx,
    [c.req.valid('json')],
    c.var.principal.name,
    '',
  );
  return c.json({ ...created[0]!, triggers }, 201);
};

export const bulkCreate: AppRouteHandler<typeof routes.bulkCreate> = async (c) => {
  const pbx = await pbxForCaller(c, c.req.valid('param').pbxId);
  const { accounts } = c.req.valid('json');
  const { created, triggers } = await createAccounts(
    c.var.deps,
    pbx,
    accounts,
    c.var.principal.name,
    'accounts.',
  );
  return c.json({ accounts: created, triggers }, 201);
};

/** R16: a taken MAC may belong to another tenant's PBX, which the answer must not name. */
const TAKEN = {
  mac: 'is already registered in this deployment (a phone belongs to one PBX)',
  extension: 'is already used on this PBX',
} as const;

/**
 * All or none: every input is checked (model known, MAC unused in the deployment, extension unused on this PBX,
 * neither repeated in the request)
 * before anything is written. Then R13 (c) fires once for each type that had no account before.
 */
async function createAccounts(deps: ApiDeps, pbx: PbxRow, input: NewAccount[], who: string, prefix: string) {
  const field = (i: number, name: string) => (prefix ? `${prefix}${i}.${name}` : name);
  const models = await listPhoneModels(deps.db);
  const byName = modelNames(models);
  const byId = new Map(models.map((m) => [m.id, m]));
  const seenMacs = new Map<string, number>();
  const seenExtensions = new Map<string, number>();
  const passwords: string[] = [];
  const rows = input.map((a, i) => {
    const model = byId.get(byName.get(a.model) ?? '');
    if (!model)
      throw new ApiError(
        400,
        `${field(i, 'model')}: unknown phone model ${JSON.stringify(a.model)}`,
        field(i, 'model'),
      );
    // Well-formed items that conflict with each other: 409, like a conflict with a stored account.
    if (seenMacs.has(a.mac)) {
      throw new ApiError(
        409,
        `${field(i, 'mac')}: MAC repeated in this request (also item ${seenMacs.get(a.mac)})`,
        field(i, 'mac'),
      );
    }
    if (seenExtensions.has(a.extension)) {
      throw new ApiError(
        409,
        `${field(i, 'extension')}: extension repeated in this request (also item ${seenExtensions.get(a.extension)})`,
        field(i, 'extension'),
      );
    }
    seenMacs.set(a.mac, i);
    seenExtensions.set(a.extension, i);
    // Never logged: it goes into the phone's provisioning file (sealed at rest) and, once, into this response.
    const password = a.sipPassword ?? generateSecret(18);
    passwords.push(password);
    return {
      modelId: model.id,
      mac: a.mac,
      extension: a.extension,
      displayName: a.displayName ?? null,
      active: a.active ?? true,
      sipHa1: sipHa1(a.extension, pbx.sipDomain, password),
      sipPasswordSealed: sealSecret(password, deps.config.secretsKey),
    };
  });

  let result: Awaited<ReturnType<typeof insertPhoneAccounts>>;
  try {
    result = await insertPhoneAccounts(deps.db, pbx.id, rows);
  } catch (err) {
    const constraint = uniqueViolation(err);
    if (!constraint) throw err;
    // A concurrent request took it between our check and the insert.
    const name = constraint.includes('mac') ? 'mac' : 'extension';
    throw new ApiError(409, `${name}: ${TAKEN[name]}`, prefix ? `${prefix}${name}` : name);
  }
  if (!result.ok) {
    const { index, field: name, value } = result.conflict;
    throw new ApiError(
      409,
      `${field(index, name)}: ${name === 'mac' ? formatMac(value) : value} ${TAKEN[name]}`,
      field(index, name),
    );
  }

  const created = result.rows.map((row, i) => ({
    account: presentAccount(row, byId.get(row.modelId)),
    sipPassword: passwords[i]!,
  }));
  for (const modelId of new Set(result.rows.map((r) => r.modelId))) {
    const ofType = result.rows.filter((r) => r.modelId === modelId);
    await appendJournal(deps.db, deps.logs, {
      pbxId: pbx.id,
      action: 'account.created',
      why: 'manual',
      who,
      modelId,
      details: {
        count: ofType.length,
        firstOfType: result.newTypes.includes(modelId),
        accounts: ofType.slice(0, 50).map((r) => ({ id: r.id, mac: r.mac, extension: r.extension })),
      },
    });
  }

  const triggers: Array<{ modelId: string; triggerWorkflowId?: string; error?: string }> = [];
  for (const modelId of result.newTypes) {
    await unmarkFirmwareCleanup(deps.db, pbx.id, modelId);
    try {
      const answer = await askLifecycle(deps, pbx, pbxEventUpdate, {
        kind: 'first-account-of-type',
        modelId,
        who,
      });
      triggers.push({
        modelId,
        ...(answer.triggerWorkflowId ? { triggerWorkflowId: answer.triggerWorkflowId } : {}),
      });
    } catch (err) {
      // The accounts exist; the weekly check and the next event still cover the type. Say so instead of failing.
      deps.logger.error({ err, pbxId: pbx.id, modelId }, 'R13 (c) trigger could not be started');
      triggers.push({ modelId, error: err instanceof Error ? err.message : String(err) });
    }
  }
  return { created, triggers };
}

export const get: AppRouteHandler<typeof routes.get> = async (c) => {
  const { pbxId, accountId } = c.req.valid('param');
  const pbx = await pbxForCaller(c, pbxId);
  const row = await getPhoneAccount(c.var.deps.db, pbx.id, accountId);
  if (!row) throw notFound('phone account', accountId, 'accountId');
  const models = await listPhoneModels(c.var.deps.db);
  return c.json(
    presentAccount(
      row,
      models.find((m) => m.id === row.modelId),
    ),
    200,
  );
};

export const remove: AppRouteHandler<typeof routes.remove> = async (c) => {
  const deps = c.var.deps;
  const { pbxId, accountId } = c.req.valid('param');
  const pbx = await pbxForCaller(c, pbxId);
  const gone = await deletePhoneAccount(deps.db, pbx.id, accountId);
  if (!gone) throw notFound('phone account', accountId, 'accountId');
  // R5: the files of a type whose last account went are marked (in the same transaction) and go at the next restart.
  const { deleted, lastOfType, markedForRestart } = gone;
  await appendJournal(deps.db, deps.logs, {
    pbxId: pbx.id,
    action: 'account.deleted',
    why: 'manual',
    who: c.var.principal.name,
    modelId: deleted.modelId,
    details: { id: deleted.id, mac: deleted.mac, extension: deleted.extension, lastOfType, markedForRestart },
  });
  const models = await listPhoneModels(deps.db);
  return c.json(
    {
      deleted: presentAccount(
        deleted,
        models.find((m) => m.id === deleted.modelId),
      ),
      lastOfType,
    },
    200,
  );
};
