/**
 * An in-memory PBX for workflow tests under time skipping: the activities a Worker gets, behaving like the real
 * ones (catalog vs local vs phones), recording each call with the workflow clock (the activity's scheduled time).
 * Real-I/O activities are proven in their own integration tests; here the timing rules are under test.
 */
import { Context } from '@temporalio/activity';
import type {
  BeforeBlockInput,
  BeforeBlockResult,
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
  PrepareFleetMemberResult,
  RecordBlockInput,
  RecordBlockResult,
  RecordFleetInput,
  RolloutDirection,
  StartRolloutInput,
} from '../../activities/contracts.ts';
import type { MaintenanceWindow } from '../../domain/maintenance-window.ts';
import { type Reason, reason } from '../../domain/reasons.ts';
import {
  countOutcomes,
  endOfCompletedRun,
  isFinal,
  isRetryable,
  type PhoneOutcome,
  type RolloutEnd,
  type RolloutStatus,
  reasonOfRun,
} from '../../domain/rollout.ts';
import { admitJoiners, type PlannedBlock, planBlocks } from '../../domain/rollout-plan.ts';
import {
  afterFailedAttempt,
  type PolicySettings,
  type RolloutPolicy,
  resolvePolicy,
} from '../../domain/rollout-policy.ts';
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
  /** Decided phones (a phone waiting for another attempt has none). */
  outcomes: Map<number, PhoneOutcome>;
  direction: RolloutDirection;
  policy: RolloutPolicy;
  /** The planned blocks when it started (canary first), as a preview shows them. */
  plan: PlannedBlock[];
  /** Per phone: attempts, its planned block, the block (run order) of its last attempt, joined late. */
  record: Map<
    number,
    {
      attempts: number;
      plannedBlock: number | null;
      block: number | null;
      joined: boolean;
      lastOutcome?: PhoneOutcome;
    }
  >;
  /** The open states it went through (running → halted → running ...), as noteRolloutState recorded them. */
  states: Array<{ status: RolloutStatus; reason: Reason | null; action: string }>;
  fleetRolloutId: string | null;
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
  /** Phones that fail (no-answer) this many attempts, then update. */
  failAttempts = new Map<number, number>();
  /** Phones without a SIP registration (outcome unreachable; never chosen for the canary while others are). */
  offlinePhones = new Set<number>();
  /** The type's hold (issue 13): modelId → version. */
  holds = new Map<string, string>();
  /** The PBX's rollout settings (issue 13). */
  rolloutPolicy: PolicySettings = {};
  window: MaintenanceWindow | null = null;
  /** Firmware approvals standing now: phone → the rollout that gave them (set while a block runs). */
  approvals = new Map<number, string>();
  /** Phones an attempt was made on, per attempt, in order. */
  attemptsLog: Array<{ phoneId: number; rolloutId: string; block: number }> = [];
  catalogFailure: Error | null = null;
  /** Rollouts by id (the run id), with their per-phone outcomes, as the database would hold them. */
  rollouts = new Map<string, FakeRollout>();
  /** Called before each block runs (e.g. to switch Auto-Update off mid-rollout); may throw to fail the block. */
  beforeBlock: ((input: BlockInput) => void | Promise<void>) | null = null;

  /** What the fleet workflow recorded, in order. */
  fleetRecords: RecordFleetInput[] = [];

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
    plan: PlannedBlock[],
    unknown: number[],
    status: RolloutStatus,
    why: Reason | null,
    policy: RolloutPolicy,
  ): FakeRollout {
    const outcomes = new Map<number, PhoneOutcome>(unknown.map((id) => [id, 'not-contacted']));
    const record: FakeRollout['record'] = new Map();
    for (const b of plan) {
      for (const id of b.phoneIds)
        record.set(id, { attempts: 0, plannedBlock: b.index, block: null, joined: false });
    }
    return {
      modelId: input.modelId,
      targetVersion: input.targetVersion,
      workflowId: input.workflowId,
      why: input.why,
      who: input.who,
      status,
      reason: why,
      planned: plan.flatMap((b) => b.phoneIds),
      outcomes,
      direction: input.direction ?? 'upgrade',
      policy,
      plan,
      record,
      states: [],
      fleetRolloutId: input.fleet?.fleetRolloutId ?? null,
    };
  }

  /** Phones of the type a rollout to `target` covers: to update (in account order), and never contacted. */
  private candidates(modelId: string, target: string, direction: RolloutDirection, only?: number[]) {
    const ofType = [...this.phones.entries()].filter(
      ([id, p]) => p.modelId === modelId && (!only || only.includes(id)),
    );
    const needing = ofType
      .filter(([, p]) => {
        if (p.version == null) return false;
        const c = compareVersions(p.version, target);
        return direction === 'downgrade' ? c > 0 : c < 0;
      })
      .map(([id]) => id);
    const unknown = ofType.filter(([, p]) => p.version == null).map(([id]) => id);
    return { needing, unknown };
  }

  /** The newest local version not beyond the type's hold. */
  private targetOf(modelId: string): string | null {
    const hold = this.holds.get(modelId);
    const versions = (this.local.get(modelId) ?? []).filter((v) => !hold || compareVersions(v, hold) <= 0);
    return newestVersion(versions) ?? null;
  }

  private endRollout(r: FakeRollout, stopped: FinishRolloutInput['stopped']): FinishRolloutResult {
    if (isFinal(r.status)) {
      return {
        status: r.status as RolloutEnd,
        reason: r.reason,
        counts: countOutcomes(r.record.size + this.notContacted(r), r.outcomes.values()),
      };
    }
    // A phone waiting for another attempt keeps its last failure; one whose block never ran is skipped.
    for (const [id, rec] of r.record)
      if (!r.outcomes.has(id)) r.outcomes.set(id, rec.lastOutcome ?? 'skipped');
    for (const [phoneId, rolloutId] of this.approvals)
      if (rolloutId === this.rolloutIdOf(r)) this.approvals.delete(phoneId);
    const counts = countOutcomes(r.outcomes.size, r.outcomes.values());
    r.status = stopped?.status ?? endOfCompletedRun(counts);
    r.reason = stopped?.reason ?? reasonOfRun(r.status as RolloutEnd, counts, r.targetVersion);
    return { status: r.status as RolloutEnd, reason: r.reason, counts };
  }

  private rolloutIdOf(r: FakeRollout): string | undefined {
    return [...this.rollouts.entries()].find(([, x]) => x === r)?.[0];
  }

  private notContacted(r: FakeRollout): number {
    return [...r.outcomes.values()].filter((o) => o === 'not-contacted').length;
  }

  /** The planner's view of phones: registered unless offline; idle (no download in progress here). */
  private planPhones(ids: number[]) {
    return ids.map((id) => ({ id, registered: !this.offlinePhones.has(id), idle: true }));
  }

  /** The same rule as the real bookkeeping: failed phones retried after their backoff, or parked. */
  private retryOrPark(r: FakeRollout, phoneIds: number[], policy: RolloutPolicy, at: number) {
    const tally = phoneIds.flatMap((id) => {
      const o = r.outcomes.get(id);
      return o ? [{ phoneId: id, outcome: o }] : [];
    });
    const failures: NonNullable<RecordBlockResult['failures']> = [];
    const retries: Array<{ phoneId: number; dueAt: number }> = [];
    const parked: number[] = [];
    for (const t of tally) {
      if (!isRetryable(t.outcome)) continue;
      const rec = r.record.get(t.phoneId);
      const attempt = rec?.attempts ?? 1;
      failures.push({
        phoneId: t.phoneId,
        mac: `mac${t.phoneId}`,
        outcome: t.outcome,
        reason: null,
        attempt,
      });
      const next = afterFailedAttempt(policy, attempt, at);
      if (rec) rec.lastOutcome = t.outcome;
      if ('park' in next) {
        r.outcomes.set(t.phoneId, 'parked');
        parked.push(t.phoneId);
      } else {
        r.outcomes.delete(t.phoneId);
        retries.push({ phoneId: t.phoneId, dueAt: next.retryAt });
      }
    }
    return { tally, failures, retries, parked };
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
          const target = input.targetVersion ?? this.targetOf(modelId);
          const c = target
            ? this.candidates(modelId, target, input.direction ?? 'upgrade', input.phoneIds)
            : { needing: [], unknown: this.candidates(modelId, '0', 'upgrade').unknown };
          const hold = this.holds.get(modelId) ?? null;
          const newest = newestVersion(this.local.get(modelId) ?? []);
          return {
            modelId,
            model: this.models.get(modelId) ?? modelId,
            autoUpdate: this.autoUpdate.get(modelId) ?? true,
            targetVersion: target,
            heldAt: hold,
            heldBack: hold !== null && newest !== undefined && compareVersions(newest, hold) > 0,
            phonesNeedingUpdate: c.needing.length,
            phonesUnknownVersion: c.unknown.length,
          };
        });
      },
      startRollout: async (input) => {
        this.record('startRollout', input);
        const direction = input.direction ?? 'upgrade';
        const policy = resolvePolicy(
          this.rolloutPolicy,
          input.canarySize !== undefined ? { canarySize: input.canarySize } : {},
        );
        const hold = this.holds.get(input.modelId);
        const refused = !(this.autoUpdate.get(input.modelId) ?? true)
          ? reason('auto-update-off', { model: input.modelId })
          : direction === 'upgrade' && hold && compareVersions(input.targetVersion, hold) > 0
            ? reason('type-held', { model: input.modelId, version: hold })
            : null;
        if (refused) {
          this.rollouts.set(input.rolloutId, this.newRollout(input, [], [], 'refused', refused, policy));
          return { ended: 'refused' as const, reason: refused };
        }
        const c = this.candidates(input.modelId, input.targetVersion, direction, input.phoneIds);
        const plan = planBlocks(this.planPhones(c.needing), policy.canarySize);
        this.rollouts.set(input.rolloutId, this.newRollout(input, plan, c.unknown, 'running', null, policy));
        return {
          phoneIds: plan.flatMap((b) => b.phoneIds),
          notContacted: c.unknown.length,
          total: c.needing.length + c.unknown.length,
          plan,
          policy,
          timeZone: this.settings.timeZone,
          window: this.window,
        };
      },
      recordBlock: async (input: RecordBlockInput): Promise<RecordBlockResult> => {
        this.record('recordBlock', input);
        const r = this.rollouts.get(input.rolloutId);
        let retry: Pick<RecordBlockResult, 'tally' | 'failures' | 'retries' | 'parked'> = {};
        if (r && input.policy && input.phoneIds && input.at !== undefined) {
          retry = this.retryOrPark(r, input.phoneIds, input.policy, input.at);
        }
        return {
          counts: countOutcomes(input.total, r?.outcomes.values() ?? []),
          autoUpdate: this.autoUpdate.get(input.modelId) ?? true,
          ...retry,
        };
      },
      beforeBlock: async (input: BeforeBlockInput): Promise<BeforeBlockResult> => {
        this.record('beforeBlock', input);
        const r = this.rollouts.get(input.rolloutId);
        let joined: BeforeBlockResult['joined'] = [];
        if (r && input.admitJoiners) {
          const fresh = this.candidates(input.modelId, input.targetVersion, input.direction).needing.filter(
            (id) => !r.record.has(id),
          );
          const { placed } = admitJoiners(
            { planned: input.lastPlanned ? [input.lastPlanned] : [], retries: [] },
            fresh,
            input.nextIndex,
          );
          joined = [...placed].map(([phoneId, plannedBlock]) => ({ phoneId, plannedBlock }));
          for (const j of joined) {
            r.outcomes.delete(j.phoneId); // a phone never contacted before starts afresh
            r.record.set(j.phoneId, { attempts: 0, plannedBlock: j.plannedBlock, block: null, joined: true });
          }
        }
        const total = r ? r.record.size + this.notContacted(r) : 0;
        return {
          joined,
          total,
          counts: countOutcomes(total, r?.outcomes.values() ?? []),
          autoUpdate: this.autoUpdate.get(input.modelId) ?? true,
          heldAt: this.holds.get(input.modelId) ?? null,
          timeZone: this.settings.timeZone,
          window: this.window,
        };
      },
      noteRolloutState: async (input) => {
        this.record('noteRolloutState', input);
        const r = this.rollouts.get(input.rolloutId);
        if (!r || isFinal(r.status)) return;
        r.status = input.status;
        r.reason = input.reason;
        r.states.push({ status: input.status, reason: input.reason, action: input.action });
        this.journal.push({
          pbxId: this.pbxId,
          action: input.action,
          why: input.why,
          who: input.who,
          modelId: input.modelId,
          details: { status: input.status, reason: input.reason?.text, ...input.details },
        });
      },
      unparkPhones: async (input) => {
        this.record('unparkPhones', input);
        const r = this.rollouts.get(input.rolloutId);
        if (!r) return [];
        const ids = [...r.outcomes.entries()]
          .filter(([id, o]) => o === 'parked' && (!input.phoneIds || input.phoneIds.includes(id)))
          .map(([id]) => id);
        for (const id of ids) {
          r.outcomes.delete(id);
          const rec = r.record.get(id);
          if (rec) rec.attempts = 0;
        }
        return ids;
      },
      prepareFleetMember: async (input): Promise<PrepareFleetMemberResult> => {
        this.record('prepareFleetMember', input);
        if (!this.settings.autoDownloadInstall) return { skip: reason('automatic-off') };
        const model = this.models.get(input.modelId);
        if (!model) return { skip: reason('no-phones-of-type', { model: input.modelId }) };
        if (!(this.autoUpdate.get(input.modelId) ?? true))
          return { skip: reason('auto-update-off', { model }) };
        const hold = this.holds.get(input.modelId);
        if (hold && compareVersions(input.targetVersion, hold) > 0) {
          return { skip: reason('type-held', { model, version: hold }) };
        }
        const c = this.candidates(input.modelId, input.targetVersion, 'upgrade');
        if (c.needing.length === 0) return { skip: reason('all-current', { version: input.targetVersion }) };
        const stored = (this.local.get(input.modelId) ?? []).includes(input.targetVersion);
        const release = this.catalog.find(
          (r) => r.modelIds.includes(input.modelId) && r.version === input.targetVersion,
        );
        if (!stored && !release) {
          return { skip: reason('firmware-not-stored', { version: input.targetVersion, model }) };
        }
        return {
          model,
          phones: c.needing.length,
          download: stored ? null : { releaseId: (release as FakeRelease).releaseId },
        };
      },
      recordFleet: async (input) => {
        this.record('recordFleet', input);
        this.fleetRecords.push(structuredClone(input));
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
        const r = this.rollouts.get(input.rolloutId);
        // The block approves its phones while it runs (R7/R11), as the real one does.
        for (const id of input.phoneIds) this.approvals.set(id, input.rolloutId);
        try {
          await this.whileHeartbeating(this.beforeBlock?.(input));
        } catch (err) {
          for (const id of input.phoneIds) this.approvals.delete(id);
          throw err;
        }
        const result = {
          results: input.phoneIds.map((id) => {
            const p = this.phones.get(id);
            const from = p?.version ?? null;
            const rec = r?.record.get(id);
            if (rec) {
              rec.attempts++;
              rec.block = input.block;
            }
            this.attemptsLog.push({ phoneId: id, rolloutId: input.rolloutId, block: input.block });
            const fails = this.failAttempts.get(id) ?? 0;
            const outcome: PhoneOutcome = this.offlinePhones.has(id)
              ? 'unreachable'
              : !p || this.silentPhones.has(id) || (rec?.attempts ?? 1) <= fails
                ? 'no-answer'
                : 'updated';
            if (p && outcome === 'updated') p.version = input.targetVersion;
            return {
              phoneId: id,
              mac: `mac${id}`,
              outcome,
              fromVersion: from,
              reportedVersion: outcome === 'updated' ? input.targetVersion : from,
            };
          }),
        };
        for (const id of input.phoneIds) this.approvals.delete(id);
        for (const p of result.results) r?.outcomes.set(p.phoneId, p.outcome);
        return result;
      },
    };
  }

  /**
   * Waits for a `beforeBlock` hook while heartbeating, as the real block does, so a cancelled rollout's
   * cancellation reaches the block (it is delivered with a heartbeat's answer).
   */
  private async whileHeartbeating(work: void | Promise<void> | undefined): Promise<void> {
    if (!work) return;
    let ctx: Context | undefined;
    try {
      ctx = Context.current();
    } catch {}
    if (!ctx) return work;
    const c = ctx;
    const beat = setInterval(() => c.heartbeat(), 100);
    try {
      await Promise.race([work, c.cancelled]);
    } finally {
      clearInterval(beat);
    }
  }

  allActivities() {
    return { ...this.lifecycleActivities(), ...this.downloadActivities(), ...this.phoneActivities() };
  }
}
