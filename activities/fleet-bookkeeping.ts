/**
 * The fleet rollout's I/O (issue 13): whether a PBX of a wave can take the rollout — R8 and R7 of that PBX, its
 * hold, its phones, the firmware stored or downloadable — and the fleet's record.
 */
import { and, arrayContains, eq } from 'drizzle-orm';
import { updateFleetRollout } from '../db/queries/fleet-rollouts.ts';
import { getPbx } from '../db/queries/pbxes.ts';
import { planRollouts } from '../db/queries/rollouts.ts';
import { catalogReleases, localFirmware } from '../db/schema.ts';
import { reason } from '../domain/reasons.ts';
import { compareVersions } from '../domain/versions.ts';
import type {
  LifecycleActivityFns,
  PrepareFleetMemberInput,
  PrepareFleetMemberResult,
  RecordFleetInput,
} from './contracts.ts';
import type { ActivityDeps } from './deps.ts';

export function createFleetBookkeeping(deps: ActivityDeps) {
  const { db } = deps;
  return {
    async prepareFleetMember(input: PrepareFleetMemberInput): Promise<PrepareFleetMemberResult> {
      const pbx = await getPbx(db, input.pbxId);
      if (!pbx) return { skip: reason('pbx-gone', { pbxId: input.pbxId }) };
      // R8: a fleet rollout is an automatic installation for the PBX; where it is off, the PBX is left alone.
      if (!pbx.autoDownloadInstall) return { skip: reason('automatic-off') };
      const [plan] = await planRollouts(db, input.pbxId, {
        modelIds: [input.modelId],
        targetVersion: input.targetVersion,
      });
      if (!plan) return { skip: reason('no-phones-of-type', { model: input.modelId }) };
      if (!plan.autoUpdate) return { skip: reason('auto-update-off', { model: plan.model }) };
      if (plan.heldAt && compareVersions(input.targetVersion, plan.heldAt) > 0) {
        return { skip: reason('type-held', { model: plan.model, version: plan.heldAt }) };
      }
      if (plan.phonesNeedingUpdate === 0) {
        return {
          skip:
            plan.phonesUnknownVersion > 0
              ? reason('all-current-some-unknown', {
                  version: input.targetVersion,
                  notContacted: plan.phonesUnknownVersion,
                })
              : reason('all-current', { version: input.targetVersion }),
        };
      }
      const [stored] = await db
        .select({ version: localFirmware.version })
        .from(localFirmware)
        .where(
          and(
            eq(localFirmware.pbxId, input.pbxId),
            eq(localFirmware.modelId, input.modelId),
            eq(localFirmware.version, input.targetVersion),
          ),
        );
      let download: { releaseId: string } | null = null;
      if (!stored) {
        const [release] = await db
          .select({ id: catalogReleases.id })
          .from(catalogReleases)
          .where(
            and(
              arrayContains(catalogReleases.modelIds, [input.modelId]),
              eq(catalogReleases.version, input.targetVersion),
              eq(catalogReleases.withdrawn, false),
            ),
          );
        if (!release) {
          return {
            skip: reason('firmware-not-stored', { version: input.targetVersion, model: plan.model }),
          };
        }
        download = { releaseId: release.id };
      }
      return { model: plan.model, phones: plan.phonesNeedingUpdate, download };
    },

    async recordFleet(input: RecordFleetInput): Promise<void> {
      await updateFleetRollout(db, input.fleetRolloutId, input);
    },
  } satisfies Partial<LifecycleActivityFns>;
}
