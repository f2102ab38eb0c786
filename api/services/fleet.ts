/**
 * Fleet rollouts (issue 13): the operator of many PBXes rolls one model to one version across chosen PBXes in waves.
 * The API checks and plans (domain/fleet-waves.ts), records it, and starts the fleet workflow (workflows/fleet.ts);
 * pause, resume and cancel are Updates on that workflow, which passes them to every per-PBX rollout of it.
 */
import { randomUUID } from 'node:crypto';
import type { Client } from '@temporalio/client';
import type { UpdateDefinition } from '@temporalio/common';
import type { Db } from '../../db/client.ts';
import {
  type FleetRolloutRow,
  getFleetRollout,
  insertFleetRollout,
  listFleetRollouts,
} from '../../db/queries/fleet-rollouts.ts';
import { appendJournal } from '../../db/queries/journal.ts';
import { listPbxes } from '../../db/queries/pbxes.ts';
import { getPhoneModels } from '../../db/queries/phone-models.ts';
import type { FleetRolloutSummary, RolloutControl } from '../../domain/contract.ts';
import { DEFAULT_WAVES, type FleetPbxState, parseWaveSize, planWaves } from '../../domain/fleet-waves.ts';
import { reason } from '../../domain/reasons.ts';
import { isFinal } from '../../domain/rollout.ts';
import type { Config } from '../../lib/config.ts';
import type { PbxLogs } from '../../lib/pbx-logs.ts';
import {
  cancelFleetUpdate,
  type FleetArgs,
  pauseFleetUpdate,
  resumeFleetUpdate,
  workflowIds,
} from '../../workflows/messages.ts';
import {
  FirmwarePhaseAttr,
  PhoneModelAttr,
  RolloutStatusAttr,
  TargetVersionAttr,
} from '../../workflows/search-attributes.ts';
import { ApiError, notFound } from '../errors.ts';
import { asApiError, lifecycleArgs, temporalUiUrl } from '../lifecycle-client.ts';

type Deps = { db: Db; logs: PbxLogs; config: Config; temporal: Client };

export const FLEET_WORKFLOW_TYPE = 'fleetRollout';

export const FLEET_ACTIONS = {
  pause: pauseFleetUpdate,
  resume: resumeFleetUpdate,
  cancel: cancelFleetUpdate,
} as const;
export type FleetAction = keyof typeof FLEET_ACTIONS;

/** A fleet rollout as the API shows it, from its record. */
export function presentFleet(config: Config, row: FleetRolloutRow) {
  const states = row.pbxStates as Record<string, FleetPbxState>;
  const pbxes: FleetPbxState[] = row.waves.flatMap((members, i) =>
    members.map(
      (pbxId) =>
        states[pbxId] ?? {
          pbxId,
          wave: i + 1,
          state: 'pending',
          status: null,
          rolloutId: null,
          reason: null,
        },
    ),
  );
  return {
    fleetRolloutId: row.id,
    workflowId: row.workflowId,
    modelId: row.modelId,
    targetVersion: row.targetVersion,
    status: row.status,
    reason: row.reason,
    waves: row.waves.length,
    currentWave: row.currentWave + 1,
    cancelRequestedBy: null,
    pbxes,
    wavePbxIds: row.waves,
    canarySize: row.canarySize,
    who: row.who,
    startedAt: row.startedAt.toISOString(),
    finishedAt: row.finishedAt?.toISOString() ?? null,
    temporalUrl: temporalUiUrl(config, row.workflowId),
  };
}

export async function fleetOf(db: Db, id: string): Promise<FleetRolloutRow> {
  const row = await getFleetRollout(db, id);
  if (!row) throw notFound('fleet rollout', id, 'fleetRolloutId');
  return row;
}

export async function listFleets(deps: Deps, limit: number) {
  return (await listFleetRollouts(deps.db, limit)).map((r) => presentFleet(deps.config, r));
}

export interface FleetRequest {
  modelId: string;
  version: string;
  pbxIds: string[];
  waves?: string[] | undefined;
  canarySize?: number | undefined;
}

/** Checks the request, plans the waves, records the fleet rollout and starts its workflow. */
export async function createFleet(deps: Deps, body: FleetRequest, who: string) {
  const [model] = await getPhoneModels(deps.db, [body.modelId]);
  if (!model)
    throw new ApiError(400, `modelId: unknown phone model ${JSON.stringify(body.modelId)}`, 'modelId');
  const pbxes = await listPbxes(deps.db, body.pbxIds);
  const known = new Set(pbxes.map((p) => p.id));
  const missing = body.pbxIds.findIndex((id) => !known.has(id));
  if (missing >= 0) throw notFound('PBX', body.pbxIds[missing] as string, `pbxIds.${missing}`);
  const sizes = (body.waves ?? DEFAULT_WAVES.map(String)).map((w) => parseWaveSize(w));
  const waves = planWaves(body.pbxIds, sizes);
  const id = randomUUID();
  const workflowId = workflowIds.fleet(id);
  await insertFleetRollout(deps.db, {
    id,
    workflowId,
    modelId: model.id,
    targetVersion: body.version,
    who,
    status: 'running',
    reason: null,
    waves,
    canarySize: body.canarySize ?? null,
  });
  for (const [i, members] of waves.entries()) {
    for (const pbxId of members) {
      await appendJournal(deps.db, deps.logs, {
        pbxId,
        action: 'rollout.fleet-planned',
        why: 'manual',
        who,
        modelId: model.id,
        details: { fleetRolloutId: id, targetVersion: body.version, wave: i + 1, waves: waves.length },
      });
    }
  }
  const byId = new Map(pbxes.map((p) => [p.id, p]));
  const args: FleetArgs = {
    fleetRolloutId: id,
    modelId: model.id,
    model: model.model,
    targetVersion: body.version,
    waves: waves.map((members) =>
      members.map((pbxId) => ({
        pbxId,
        queues: lifecycleArgs(deps.config, byId.get(pbxId) as (typeof pbxes)[number]).queues ?? {
          downloads: deps.config.taskQueues.downloads,
          phones: deps.config.taskQueues.phones,
        },
      })),
    ),
    who,
    queues: { downloads: deps.config.taskQueues.downloads, phones: deps.config.taskQueues.phones },
    ...(body.canarySize !== undefined ? { canarySize: body.canarySize } : {}),
  };
  await asApiError(deps, { what: 'Temporal' }, () =>
    deps.temporal.workflow.start(FLEET_WORKFLOW_TYPE, {
      workflowId,
      taskQueue: deps.config.taskQueues.lifecycle,
      args: [args],
      typedSearchAttributes: [
        { key: PhoneModelAttr, value: model.id },
        { key: TargetVersionAttr, value: body.version },
        { key: FirmwarePhaseAttr, value: 'fleet' },
        { key: RolloutStatusAttr, value: 'running' },
      ],
      staticSummary: `Fleet rollout ${model.model} → ${body.version}: ${body.pbxIds.length} PBXes in ${waves.length} waves`,
    }),
  );
  return presentFleet(deps.config, await fleetOf(deps.db, id));
}

/** Pause, resume or cancel a fleet rollout: answered with how it stands then (its record's extras beside). */
export async function steerFleet(deps: Deps, id: string, action: FleetAction, who: string) {
  const row = await fleetOf(deps.db, id);
  if (isFinal(row.status)) {
    const why = reason('rollout-ended', { status: row.status });
    throw new ApiError(409, why.text, undefined, { reason: why });
  }
  const update: UpdateDefinition<FleetRolloutSummary, [RolloutControl]> = FLEET_ACTIONS[action];
  const live = await asApiError(deps, { what: `the fleet rollout ${id}` }, () =>
    deps.temporal.withAbortSignal(AbortSignal.timeout(deps.config.api.workflowAnswerTimeoutMs), () =>
      deps.temporal.workflow.getHandle(row.workflowId).executeUpdate(update, { args: [{ who }] }),
    ),
  );
  return { ...presentFleet(deps.config, await fleetOf(deps.db, id)), ...live };
}
