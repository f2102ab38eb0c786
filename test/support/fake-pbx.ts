/**
 * An in-memory PBX for workflow tests under time skipping: the activities a Worker gets, behaving like the real
 * ones (catalog vs local vs phones), recording each call with the workflow clock (the activity's scheduled time).
 * Real-I/O activities are proven in their own integration tests; here the timing rules are under test.
 */
import { Context } from '@temporalio/activity';
import type {
  BlockInput,
  CheckInput,
  CheckReport,
  DownloadActivityFns,
  DownloadInput,
  FinishRolloutInput,
  FinishRolloutResult,
  JournalInput,
  LifecycleActivityFns,
  LifecycleStatusInput,
  PbxSettings,
  PhoneActivityFns,
  RecordBlockInput,
  StartRolloutInput,
} from '../../activities/contracts.ts';
import { type Reason, reason } from '../../domain/reasons.ts';
import {
  countOutcomes,
  endOfCompletedRun,
  type PhoneOutcome,
  type RolloutEnd,
  type RolloutStatus,
  reasonOfRun,
} from '../../domain/rollout.ts';
import { compareVersions, newestVersion } from '../../domain/versions.ts';

export interface FakeRelease {
  releaseId: string;
  modelIds: string[];
  version: string;
}

export interface FakeRollout {
  modelId: string;
  targetVersion: string;
  workflowId: string;
  why: string;
  who: string;
  status: RolloutStatus;
  reason: Reason | null;
  /** Phones below the target when it started, in block order. */
  planned: number[];
  outcomes: Map<number, PhoneOutcome>;
}

export interface Call {
  name: string;
  at: number;
  input: unknown;
}

export class FakePbx {
  settings: PbxSettings = {
    exists: true,
    timeZone: 'Europe/Berlin',
    autoDownloadInstall: true,
    updateMoment: null,
  };
  /** modelId → model name */
  models = new Map<string, string>();
  /** phone id → { modelId, version } */
  phones = new Map<number, { modelId: string; version: string | null }>();
  /** modelId → local versions */
  local = new Map<string, string[]>();
  catalog: FakeRelease[] = [];
  autoUpdate = new Map<string, boolean>();
  journal: JournalInput[] = [];
  /** What the workflow reported of itself (recordLifecycleStatus), with the workflow clock of each report. */
  statuses: Array<LifecycleStatusInput & { at: number }> = [];
  calls: Call[] = [];
  /** Phones that never come back (outcome no-answer). */
  silentPhones = new Set<number>();
  catalogFailure: Error | null = null;
  /** Rollouts by id (the run id), with their per-phone outcomes, as the database would hold them. */
  rollouts = new Map<string, FakeRollout>();
  /** Called before each block runs (e.g. to switch Auto-Update off mid-rollout); may throw to fail the block. */
  beforeBlock: ((input: BlockInput) => void | Promise<void>) | null = null;

  readonly pbxId: string;

  constructor(pbxId = 'acme') {
    this.pbxId = pbxId;
  }

  addPhones(modelId: string, model: string, count: number, version: string | null): number[] {
    this.models.set(modelId, model);
    const ids: number[] = [];
    for (let i = 0; i < count; i++) {
      const id = this.phones.size + 1;
      this.phones.set(id, { modelId, version });
      ids.push(id);
    }
    return ids;
  }

  private newRollout(
    input: StartRolloutInput,
    below: number[],
    unknown: number[],
    status: RolloutStatus,
    why: Reason | null,
  ): FakeRollout {
    const outcomes = new Map<number, PhoneOutcome>(unknown.map((id) => [id, 'not-contacted']));
    return {
      modelId: input.modelId,
      targetVersion: input.targetVersion,
      workflowId: input.workflowId,
      why: input.why,
      who: input.who,
      status,
      reason: why,
      planned: below,
      outcomes,
    };
  }

  private endRollout(r: FakeRollout, stopped: FinishRolloutInput['stopped']): FinishRolloutResult {
    if (r.status !== 'running') {
      return {
        status: r.status as RolloutEnd,
        reason: r.reason,
        counts: countOutcomes(r.planned.length + this.notContacted(r), r.outcomes.values()),
      };
    }
    for (const id of r.planned) if (!r.outcomes.has(id)) r.outcomes.set(id, 'skipped');
    const counts = countOutcomes(r.outcomes.size, r.outcomes.values());
    r.status = stopped?.status ?? endOfCompletedRun(counts);
    r.reason = stopped?.reason ?? reasonOfRun(r.status as RolloutEnd, counts, r.targetVersion);
    return { status: r.status as RolloutEnd, reason: r.reason, counts };
  }

  private notContacted(r: FakeRollout): number {
    return [...r.outcomes.values()].filter((o) => o === 'not-contacted').length;
  }

  callsOf(name: string): Call[] {
    return this.calls.filter((c) => c.name === name);
  }

  private record(name: string, input: unknown) {
    let at = Date.now();
    try {
      at = Context.current().info.currentAttemptScheduledTimestampMs;
    } catch {}
    this.calls.push({ name, at, input });
  }

  private typesOf(modelIds?: string[]): string[] {
    const used = [...new Set([...this.phones.values()].map((p) => p.modelId))].sort();
    return modelIds && modelIds.length > 0 ? used.filter((m) => modelIds.includes(m)) : used;
  }

  private newestAvailable(modelId: string): FakeRelease | undefined {
    const rel = this.catalog.filter((r) => r.modelIds.includes(modelId));
    const v = newestVersion(rel.map((r) => r.version));
    return rel.find((r) => r.version === v);
  }

  lifecycleActivities(): LifecycleActivityFns {
    return {
      loadPbxSettings: async (): Promise<PbxSettings> => {
        this.record('loadPbxSettings', null);
        return { ...this.settings };
      },
      checkFirmware: async (input: CheckInput): Promise<CheckReport> => {
        this.record('checkFirmware', input);
        if (this.catalogFailure) throw this.catalogFailure;
        return {
          pbxId: input.pbxId,
          checkedAt: new Date(Date.now()).toISOString(),
          catalogOk: true,
          types: this.typesOf(input.modelIds).map((modelId) => {
            const newestLocal = newestVersion(this.local.get(modelId) ?? []) ?? null;
            const avail = this.newestAvailable(modelId);
            return {
              modelId,
              vendor: 'yealink',
              model: this.models.get(modelId) ?? modelId,
              imageManaged: false,
              newestLocal,
              newestAvailable: avail ? { releaseId: avail.releaseId, version: avail.version } : null,
              needsDownload:
                avail != null && (newestLocal == null || compareVersions(avail.version, newestLocal) > 0),
            };
          }),
        };
      },
      restartCleanup: async (input) => {
        this.record('restartCleanup', input);
        const removed: Array<{ modelId: string; version: string }> = [];
        for (const [modelId, versions] of this.local) {
          if (!this.typesOf().includes(modelId)) {
            for (const version of versions) removed.push({ modelId, version });
            this.local.delete(modelId);
          }
        }
        return { removed, blobsDeleted: removed.length };
      },
      planRollouts: async (input) => {
        this.record('planRollouts', input);
        return this.typesOf(input.modelIds).map((modelId) => {
          const target = newestVersion(this.local.get(modelId) ?? []) ?? null;
          const phones = [...this.phones.values()].filter((p) => p.modelId === modelId);
          return {
            modelId,
            model: this.models.get(modelId) ?? modelId,
            autoUpdate: this.autoUpdate.get(modelId) ?? true,
            targetVersion: target,
            phonesNeedingUpdate: target
              ? phones.filter((p) => p.version != null && compareVersions(p.version, target) < 0).length
              : 0,
            phonesUnknownVersion: phones.filter((p) => p.version == null).length,
          };
        });
      },
      startRollout: async (input) => {
        this.record('startRollout', input);
        if (!(this.autoUpdate.get(input.modelId) ?? true)) {
          const refused = reason('auto-update-off', { model: input.modelId });
          this.rollouts.set(input.rolloutId, this.newRollout(input, [], [], 'refused', refused));
          return { ended: 'refused' as const, reason: refused };
        }
        const ofType = [...this.phones.entries()].filter(([, p]) => p.modelId === input.modelId);
        const below = ofType
          .filter(([, p]) => p.version != null && compareVersions(p.version, input.targetVersion) < 0)
          .map(([id]) => id);
        const unknown = ofType.filter(([, p]) => p.version == null).map(([id]) => id);
        this.rollouts.set(input.rolloutId, this.newRollout(input, below, unknown, 'running', null));
        return { phoneIds: below, notContacted: unknown.length, total: below.length + unknown.length };
      },
      recordBlock: async (input: RecordBlockInput) => {
        this.record('recordBlock', input);
        const r = this.rollouts.get(input.rolloutId);
        return {
          counts: countOutcomes(input.total, r?.outcomes.values() ?? []),
          autoUpdate: this.autoUpdate.get(input.modelId) ?? true,
        };
      },
      finishRollout: async (input) => {
        this.record('finishRollout', input);
        const r = this.rollouts.get(input.rolloutId);
        if (!r)
          return {
            status: input.stopped?.status ?? 'failed',
            reason: input.stopped?.reason ?? null,
            counts: countOutcomes(input.total, []),
          };
        return this.endRollout(r, input.stopped);
      },
      settleRollout: async (input) => {
        this.record('settleRollout', input);
        const r = this.rollouts.get(input.rolloutId);
        if (!r) return null;
        const status =
          input.closeStatus === 'terminated' || input.closeStatus === 'cancelled' ? 'cancelled' : 'failed';
        return this.endRollout(r, {
          status,
          reason: reason('workflow-closed', { closeStatus: input.closeStatus }),
        });
      },
      runningRollout: async (input) => {
        this.record('runningRollout', input);
        const [id, r] =
          [...this.rollouts.entries()].find(
            ([, r]) => r.modelId === input.modelId && r.status === 'running',
          ) ?? [];
        return id && r
          ? {
              rolloutId: id,
              workflowId: r.workflowId,
              targetVersion: r.targetVersion,
              why: r.why,
              who: r.who,
              status: r.status,
            }
          : null;
      },
      noteRolloutWaiting: async (input) => {
        this.record('noteRolloutWaiting', input);
        const r = this.rollouts.get(input.rolloutId);
        if (r && r.status === 'running') r.reason = input.reason;
      },
      recordJournal: async (input: JournalInput) => {
        this.record('recordJournal', input);
        this.journal.push(input);
      },
      // Kept apart from `calls`: the status reports are the workflow's own bookkeeping, not PBX work.
      recordLifecycleStatus: async (input: LifecycleStatusInput) => {
        this.statuses.push({ ...input, at: Context.current().info.currentAttemptScheduledTimestampMs });
      },
    };
  }

  downloadActivities(): DownloadActivityFns {
    return {
      downloadFirmware: async (input: DownloadInput) => {
        this.record('downloadFirmware', input);
        const rel = this.catalog.find((r) => r.releaseId === input.releaseId);
        if (!rel) throw new Error(`unknown release ${input.releaseId}`);
        this.local.set(input.modelId, [...(this.local.get(input.modelId) ?? []), rel.version]);
        return {
          pbxId: input.pbxId,
          modelId: input.modelId,
          version: rel.version,
          sha256: 'f'.repeat(64),
          bytes: 1000,
          reused: false,
          stored: true,
        };
      },
    };
  }

  phoneActivities(): PhoneActivityFns {
    return {
      updatePhoneBlock: async (input: BlockInput) => {
        this.record('updatePhoneBlock', input);
        await this.beforeBlock?.(input);
        const result = {
          results: input.phoneIds.map((id) => {
            const p = this.phones.get(id);
            const from = p?.version ?? null;
            if (!p || this.silentPhones.has(id)) {
              return {
                phoneId: id,
                mac: `mac${id}`,
                outcome: 'no-answer' as const,
                fromVersion: from,
                reportedVersion: from,
              };
            }
            p.version = input.targetVersion;
            return {
              phoneId: id,
              mac: `mac${id}`,
              outcome: 'updated' as const,
              fromVersion: from,
              reportedVersion: input.targetVersion,
            };
          }),
        };
        const r = this.rollouts.get(input.rolloutId);
        for (const p of result.results) r?.outcomes.set(p.phoneId, p.outcome);
        return result;
      },
    };
  }

  allActivities() {
    return { ...this.lifecycleActivities(), ...this.downloadActivities(), ...this.phoneActivities() };
  }
}
