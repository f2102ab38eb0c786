/**
 * An admin steers rollouts (issue 13): pause, resume, cancel and "retry parked phones" are Updates on the rollout
 * workflow (its validators refuse what does not fit its state, with a reason code); a rollout of one type with
 * options, and a deliberate downgrade, are Updates on the PBX's lifecycle workflow (R7, R12 apply there); a hold
 * is stored and journaled with who and why.
 */

import type { Client } from '@temporalio/client';
import type { UpdateDefinition } from '@temporalio/common';
import { and, eq } from 'drizzle-orm';
import type { Db } from '../../db/client.ts';
import { appendJournal } from '../../db/queries/journal.ts';
import type { PbxRow } from '../../db/queries/pbxes.ts';
import { getRollout, listParkedPhones, type RolloutRow } from '../../db/queries/rollout-history.ts';
import { getTypeHold, releaseTypeHold, setTypeHold, type TypeHoldRow } from '../../db/queries/type-holds.ts';
import { localFirmware, phoneModels } from '../../db/schema.ts';
import type { RolloutControl } from '../../domain/contract.ts';
import { reason } from '../../domain/reasons.ts';
import { isFinal } from '../../domain/rollout.ts';
import { allowsDowngrade } from '../../domain/vendors.ts';
import type { Config } from '../../lib/config.ts';
import type { PbxLogs } from '../../lib/pbx-logs.ts';
import {
  cancelRolloutUpdate,
  pauseRolloutUpdate,
  resumeRolloutUpdate,
  retryParkedUpdate,
  type StartTypeRollout,
  startTypeRolloutUpdate,
  type TypeDecision,
} from '../../workflows/messages.ts';
import { ApiError, notFound } from '../errors.ts';
import { asApiError, askLifecycle } from '../lifecycle-client.ts';

type Deps = { db: Db; logs: PbxLogs; config: Config; temporal: Client };

export const ROLLOUT_ACTIONS = {
  pause: pauseRolloutUpdate,
  resume: resumeRolloutUpdate,
  cancel: cancelRolloutUpdate,
} as const;
export type RolloutAction = keyof typeof ROLLOUT_ACTIONS;

/** The rollout if it is this PBX's, else 404. */
export async function rolloutOf(db: Db, pbx: PbxRow, rolloutId: string): Promise<RolloutRow> {
  const row = await getRollout(db, pbx.id, rolloutId);
  if (!row) throw notFound('rollout', rolloutId, 'rolloutId');
  return row;
}

function ended(row: RolloutRow): ApiError {
  const why = reason('rollout-ended', { status: row.status });
  return new ApiError(409, why.text, undefined, { reason: why });
}

/** An Update on the rollout's own run (its id is the run id), answered within API_WORKFLOW_ANSWER_TIMEOUT_MS. */
async function askRollout<Ret, Arg>(
  deps: Deps,
  row: RolloutRow,
  update: UpdateDefinition<Ret, [Arg]>,
  arg: Arg,
) {
  return asApiError(deps, { what: `the rollout ${row.id}` }, () =>
    deps.temporal.withAbortSignal(AbortSignal.timeout(deps.config.api.workflowAnswerTimeoutMs), () =>
      deps.temporal.workflow.getHandle(row.workflowId, row.id).executeUpdate(update, { args: [arg] }),
    ),
  );
}

/** Pause, resume or cancel one rollout; the refused ones come back as 409 with the reason code. */
export async function steerRollout(
  deps: Deps,
  pbx: PbxRow,
  rolloutId: string,
  action: RolloutAction,
  who: string,
) {
  const row = await rolloutOf(deps.db, pbx, rolloutId);
  if (isFinal(row.status)) throw ended(row);
  const message: RolloutControl = { who };
  await askRollout(deps, row, ROLLOUT_ACTIONS[action], message);
  return rolloutOf(deps.db, pbx, rolloutId);
}

/**
 * Parked phones tried again: in their rollout while it is open (their attempts afresh); after it ended, in a new
 * rollout of the type limited to them (R7 and R12 as for Update now).
 */
export async function retryParked(
  deps: Deps,
  pbx: PbxRow,
  rolloutId: string,
  phoneIds: number[] | undefined,
  who: string,
): Promise<{ rollout: RolloutRow | null; decision: TypeDecision | null; phoneIds: number[] }> {
  const row = await rolloutOf(deps.db, pbx, rolloutId);
  if (!isFinal(row.status)) {
    const answer = await askRollout(deps, row, retryParkedUpdate, { who, ...(phoneIds ? { phoneIds } : {}) });
    return { rollout: await rolloutOf(deps.db, pbx, rolloutId), decision: null, phoneIds: answer.phoneIds };
  }
  const parked = await parkedOf(deps.db, row.id, phoneIds);
  if (parked.length === 0) {
    const why = reason('no-parked-phones');
    throw new ApiError(409, why.text, 'phoneIds', { reason: why });
  }
  const decision = await startTypeRollout(deps, pbx, { who, modelId: row.modelId, phoneIds: parked });
  return { rollout: null, decision, phoneIds: parked };
}

async function parkedOf(db: Db, rolloutId: string, only: number[] | undefined): Promise<number[]> {
  const rows = await listParkedPhones(db, [rolloutId]);
  return rows.map((r) => r.phoneAccountId).filter((id) => !only || only.includes(id));
}

/** One type's rollout with options, through the PBX's lifecycle workflow. */
export function startTypeRollout(deps: Deps, pbx: PbxRow, req: StartTypeRollout): Promise<TypeDecision> {
  return askLifecycle(deps, pbx, startTypeRolloutUpdate, req);
}

function presentHold(h: TypeHoldRow) {
  return { version: h.version, who: h.who, why: h.why, at: h.at.toISOString() };
}

/** Holds a type at a version (no update beyond it); journaled with who and why. */
export async function holdType(
  deps: Deps,
  pbx: PbxRow,
  modelId: string,
  version: string,
  why: string,
  who: string,
) {
  const before = await setTypeHold(deps.db, { pbxId: pbx.id, modelId, version, why, who });
  await appendJournal(deps.db, deps.logs, {
    pbxId: pbx.id,
    action: 'type.held',
    why: 'manual',
    who,
    modelId,
    details: { version, reason: why, ...(before ? { before: before.version } : {}) },
  });
  return presentHold((await getTypeHold(deps.db, pbx.id, modelId)) as TypeHoldRow);
}

/** Releases a type's hold; journaled with who and why. Releasing a type not held changes nothing. */
export async function releaseHold(
  deps: Deps,
  pbx: PbxRow,
  modelId: string,
  why: string | undefined,
  who: string,
) {
  const released = await releaseTypeHold(deps.db, pbx.id, modelId);
  if (released) {
    await appendJournal(deps.db, deps.logs, {
      pbxId: pbx.id,
      action: 'type.released',
      why: 'manual',
      who,
      modelId,
      details: { version: released.version, ...(why ? { reason: why } : {}) },
    });
  }
  return released ? presentHold(released) : null;
}

/**
 * A deliberate downgrade to an older stored version where the vendor allows it (not Gigaset, which only upgrades):
 * the type is held at that version (so no scheduled update takes it up again) and a rollout of the phones above
 * it starts. Journaled with who and why.
 */
export async function downgradeType(
  deps: Deps,
  pbx: PbxRow,
  modelId: string,
  body: { version: string; reason: string; canarySize?: number | undefined },
  who: string,
) {
  const [model] = await deps.db.select().from(phoneModels).where(eq(phoneModels.id, modelId));
  if (!model) throw notFound('phone model', modelId, 'modelId');
  if (!allowsDowngrade(model.vendor)) {
    const why = reason('downgrade-not-allowed', { vendor: model.vendor, version: body.version });
    throw new ApiError(409, why.text, 'modelId', { reason: why });
  }
  const [stored] = await deps.db
    .select({ version: localFirmware.version })
    .from(localFirmware)
    .where(
      and(
        eq(localFirmware.pbxId, pbx.id),
        eq(localFirmware.modelId, modelId),
        eq(localFirmware.version, body.version),
      ),
    );
  if (!stored) {
    const why = reason('firmware-not-stored', { version: body.version, model: model.model });
    throw new ApiError(409, why.text, 'version', { reason: why });
  }
  const hold = await holdType(deps, pbx, modelId, body.version, body.reason, who);
  await appendJournal(deps.db, deps.logs, {
    pbxId: pbx.id,
    action: 'type.downgrade',
    why: 'manual',
    who,
    modelId,
    details: { version: body.version, reason: body.reason },
  });
  const decision = await startTypeRollout(deps, pbx, {
    who,
    modelId,
    downgradeTo: body.version,
    ...(body.canarySize !== undefined ? { canarySize: body.canarySize } : {}),
  });
  return { hold, decision };
}
