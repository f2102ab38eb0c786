/**
 * The plan of a type's rollout from what the database holds now: its phones, the canary, the blocks, the policy
 * and the window. The rollout's start and the API's preview both use it, so a preview shows what would run.
 */
import type { RolloutDirection } from '../../activities/contracts.ts';
import type { MaintenanceWindow } from '../../domain/maintenance-window.ts';
import { type PlannedBlock, planBlocks } from '../../domain/rollout-plan.ts';
import { type RolloutPolicy, resolvePolicy } from '../../domain/rollout-policy.ts';
import type { Db } from '../client.ts';
import { getRolloutSettings } from './rollout-settings.ts';
import { rolloutCandidates } from './rollouts.ts';

export interface TypePlanInput {
  pbxId: string;
  modelId: string;
  targetVersion: string;
  direction?: RolloutDirection;
  /** This rollout's own canary size; else the PBX's, else the default. */
  canarySize?: number;
  phoneIds?: number[];
  now?: Date;
}

export type TypePlan = Awaited<ReturnType<typeof rolloutCandidates>> & {
  policy: RolloutPolicy;
  timeZone: string;
  window: MaintenanceWindow | null;
  plan: PlannedBlock[];
};

export async function loadTypePlan(db: Db, input: TypePlanInput): Promise<TypePlan> {
  const settings = await getRolloutSettings(db, input.pbxId);
  const c = await rolloutCandidates(db, input.pbxId, input.modelId, input.targetVersion, {
    ...(input.direction ? { direction: input.direction } : {}),
    ...(input.phoneIds ? { phoneIds: input.phoneIds } : {}),
    ...(input.now ? { now: input.now } : {}),
  });
  const policy = resolvePolicy(
    settings?.policy,
    input.canarySize !== undefined ? { canarySize: input.canarySize } : {},
  );
  return {
    ...c,
    policy,
    timeZone: settings?.timeZone ?? 'UTC',
    window: settings?.window ?? null,
    plan: planBlocks(c.phones, policy.canarySize),
  };
}
