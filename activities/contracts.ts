/**
 * The inputs and outputs of activities that workflows call, shared by both sides.
 * Workflow code imports these as types only (no I/O crosses into the workflow bundle).
 */
import type { JournalWhy } from '../db/queries/journal.ts';
import type { FleetPbxState } from '../domain/fleet-waves.ts';
import type { MaintenanceWindow } from '../domain/maintenance-window.ts';
import type { Reason } from '../domain/reasons.ts';
import type {
  OpenRolloutStatus,
  PhoneOutcome,
  RolloutCounts,
  RolloutEnd,
  RolloutStatus,
} from '../domain/rollout.ts';
import type { PlannedBlock } from '../domain/rollout-plan.ts';
import type { RolloutPolicy } from '../domain/rollout-policy.ts';
import type { LifecycleStatus } from '../workflows/messages.ts';

export type { PhoneOutcome };

export interface Actor {
  why: JournalWhy;
  /** Token name of the admin, or `system`. */
  who: string;
}

// ---- check (R9, R4, R6) -------------------------------------------------------------------------

export interface CheckInput extends Actor {
  pbxId: string;
  /** Only these types (R13 c); all types with ≥ 1 account when absent. */
  modelIds?: string[];
}

export interface CheckedType {
  modelId: string;
  vendor: string;
  model: string;
  imageManaged: boolean;
  /** Newest version stored on the PBX for this type, if any. */
  newestLocal: string | null;
  /** Newest release in the catalog for this type, if any. */
  newestAvailable: { releaseId: string; version: string } | null;
  /** R4/R10: a newer release exists than what the PBX holds (never for image-managed types, R2). */
  needsDownload: boolean;
}

export interface CheckReport {
  pbxId: string;
  checkedAt: string;
  /** False when the firmware server could not be reached or its catalog was rejected (R3: visible, retried). */
  catalogOk: boolean;
  catalogError?: string;
  types: CheckedType[];
}

// ---- download (R3, R4, R10, R16) ----------------------------------------------------------------

export interface DownloadInput extends Actor {
  pbxId: string;
  modelId: string;
  releaseId: string;
}

export interface DownloadResult {
  pbxId: string;
  modelId: string;
  version: string;
  sha256: string;
  bytes: number;
  /** True when the blob was already in the shared store (another PBX fetched it): no bytes moved. */
  reused: boolean;
  /** False when R4 forbids it (no account of that type any more); nothing was fetched. */
  stored: boolean;
  reason?: string;
}

// ---- restart (R5) -------------------------------------------------------------------------------

export interface RestartCleanupInput {
  pbxId: string;
  /** Who restarted the PBX (token name, or `system`). */
  who: string;
}

export interface RestartCleanupResult {
  removed: Array<{ modelId: string; version: string }>;
  blobsDeleted: number;
}

// ---- block update (R12) -------------------------------------------------------------------------

export interface BlockInput extends Actor {
  pbxId: string;
  modelId: string;
  targetVersion: string;
  /** ≤ 50 phone account ids (R12). */
  phoneIds: number[];
  /** The rollout this block belongs to: its per-phone record is the block's memory across retries. */
  rolloutId: string;
  /** 0-based index of the block in its rollout. */
  block: number;
  /** How long a phone gets to come back on the target version. */
  timeoutMs?: number;
  /** `downgrade`: the target is older than what the phones run (issue 13); default upgrade. */
  direction?: RolloutDirection;
}

/** An upgrade goes to phones below the target; a deliberate downgrade to phones above it. */
export type RolloutDirection = 'upgrade' | 'downgrade';

export interface PhoneResult {
  phoneId: number;
  mac: string;
  extension?: string;
  outcome: PhoneOutcome;
  fromVersion: string | null;
  reportedVersion: string | null;
  /** English text of `reason`. */
  detail?: string;
  reason?: Reason;
}

export interface BlockResult {
  results: PhoneResult[];
}

// ---- lifecycle bookkeeping (R7, R8, R11, R12) ----------------------------------------------------

export interface PbxSettings {
  exists: boolean;
  timeZone: string;
  /** R8 */
  autoDownloadInstall: boolean;
  /** R11; null = no automatic update moment configured. */
  updateMoment: { day: number; minute: number } | null;
}

export interface RolloutPlan {
  modelId: string;
  model: string;
  /** R7 */
  autoUpdate: boolean;
  /**
   * Newest firmware the PBX holds for this type (downloaded or image, R2), not beyond the type's hold; for a
   * downgrade the version asked for.
   */
  targetVersion: string | null;
  /** The version the type is held at (issue 13), if any. */
  heldAt?: string | null;
  /** The PBX holds newer firmware than the hold lets through. */
  heldBack?: boolean;
  /** Phones on a known version older than the target. */
  phonesNeedingUpdate: number;
  /** Phones that never reported a version (not contacted yet): counted and named by a rollout, not flashed. */
  phonesUnknownVersion: number;
}

export interface StartRolloutInput extends Actor {
  rolloutId: string;
  workflowId: string;
  pbxId: string;
  modelId: string;
  targetVersion: string;
  direction?: RolloutDirection;
  /** This rollout's own canary size (issue 13); else the PBX's, else the default. */
  canarySize?: number;
  /** Only these phones (an admin retrying parked phones); all phones of the type when absent. */
  phoneIds?: number[];
  fleet?: { fleetRolloutId: string; wave: number };
}

export type StartRolloutResult =
  /** It ended before any phone was touched: R7 refused it, or its firmware is not on the PBX (failed). */
  | { ended: Extract<RolloutEnd, 'refused' | 'failed'>; reason: Reason }
  | {
      ended?: undefined;
      /** Phones to update (below the target; above it for a downgrade), in block order. */
      phoneIds: number[];
      /** Phones the rollout covers but cannot offer firmware (never contacted): recorded at once. */
      notContacted: number;
      total: number;
      /** The canary and the blocks, as a preview shows them (absent from rollouts started before issue 13). */
      plan?: PlannedBlock[];
      policy?: RolloutPolicy;
      timeZone?: string;
      window?: MaintenanceWindow | null;
    };

export interface RecordBlockInput {
  rolloutId: string;
  pbxId: string;
  modelId: string;
  /** 0-based index of the block just done. */
  block: number;
  total: number;
  /** Blocks the rollout has now (planned, joined and retry blocks), when the workflow knows it. */
  blocks?: number;
  /** Issue 13: the block's phones, and the policy that says which failed ones are retried or parked, at `at`. */
  phoneIds?: number[];
  policy?: RolloutPolicy;
  at?: number;
}

export interface RecordBlockResult {
  counts: RolloutCounts;
  /** R7: false when the admin switched Auto-Update off meanwhile. */
  autoUpdate: boolean;
  /** What each phone of the block did in this attempt (before any retry was scheduled). */
  tally?: Array<{ phoneId: number; outcome: PhoneOutcome }>;
  /** Phones of the block that failed, with why (the halt's journal names them). */
  failures?: Array<{
    phoneId: number;
    mac: string;
    outcome: PhoneOutcome;
    reason: Reason | null;
    attempt: number;
  }>;
  /** Failed phones that get another attempt, and when. */
  retries?: Array<{ phoneId: number; dueAt: number }>;
  /** Failed phones that had all their attempts: parked. */
  parked?: number[];
}

/** Before each block: late joiners admitted, and what may have changed since the last block. */
export interface BeforeBlockInput extends Actor {
  rolloutId: string;
  pbxId: string;
  modelId: string;
  targetVersion: string;
  direction: RolloutDirection;
  /** False for a rollout of chosen phones only (parked ones retried): nobody joins it. */
  admitJoiners: boolean;
  /** The last planned block not started yet, which joiners fill first; and the index a new block would get. */
  lastPlanned: PlannedBlock | null;
  nextIndex: number;
}

export interface BeforeBlockResult {
  /** Late joiners and the planned block each went to. */
  joined: Array<{ phoneId: number; plannedBlock: number }>;
  /** The phones the rollout covers now (joiners it did not know before added), and their counts. */
  total: number;
  counts: RolloutCounts;
  /** R7 */
  autoUpdate: boolean;
  /** The type's hold, if any: a rollout beyond it stops. */
  heldAt: string | null;
  timeZone: string;
  window: MaintenanceWindow | null;
}

/** A rollout paused, halted, resumed or waiting for its window: the row, the journal. */
export interface RolloutStateInput extends Actor {
  rolloutId: string;
  pbxId: string;
  modelId: string;
  status: OpenRolloutStatus;
  reason: Reason | null;
  /** Journal action (`rollout.halted`, `rollout.paused`, ...). */
  action: string;
  details?: Record<string, unknown>;
}

export interface FinishRolloutInput extends Actor {
  rolloutId: string;
  pbxId: string;
  modelId: string;
  targetVersion: string;
  total: number;
  /** How the run stopped; absent when every block ran (the outcome is derived from the phones). */
  stopped?: { status: Extract<RolloutEnd, 'cancelled' | 'failed'>; reason: Reason };
}

export interface FinishRolloutResult {
  status: RolloutEnd;
  reason: Reason | null;
  counts: RolloutCounts;
}

/** The parent saw a rollout child close without recording its end (terminated, timed out, failed). */
export interface SettleRolloutInput {
  rolloutId: string;
  pbxId: string;
  closeStatus: 'terminated' | 'cancelled' | 'timed-out' | 'failed';
}

export interface RunningRolloutInfo {
  rolloutId: string;
  workflowId: string;
  targetVersion: string;
  why: string;
  who: string;
  status: RolloutStatus;
}

/** What the lifecycle workflow reports of itself (workflows/messages.ts LifecycleStatus), for the API's status route. */
export interface LifecycleStatusInput {
  pbxId: string;
  status: LifecycleStatus;
  /** Start of the reporting run (epoch ms) and the report's number in it: a newer report replaces an older one. */
  runStartedAt: number;
  seq: number;
}

/** One PBX of a fleet rollout's wave, before its rollout starts (R7, R8, hold, firmware stored). */
export interface PrepareFleetMemberInput {
  pbxId: string;
  modelId: string;
  targetVersion: string;
}

export type PrepareFleetMemberResult =
  | { skip: Reason }
  | { skip?: undefined; model: string; phones: number; download: { releaseId: string } | null };

export interface RecordFleetInput {
  fleetRolloutId: string;
  status: RolloutStatus;
  reason: Reason | null;
  currentWave: number;
  pbxStates: FleetPbxState[];
}

export interface JournalInput extends Actor {
  pbxId: string;
  action: string;
  modelId?: string | null;
  details?: Record<string, unknown>;
}

/** The activities workflows call, by task queue. The factories in activities/index.ts must satisfy these. */
export interface LifecycleActivityFns {
  loadPbxSettings(pbxId: string): Promise<PbxSettings>;
  checkFirmware(input: CheckInput): Promise<CheckReport>;
  restartCleanup(input: { pbxId: string; who: string }): Promise<RestartCleanupResult>;
  planRollouts(input: {
    pbxId: string;
    modelIds?: string[];
    /** A chosen target (a downgrade, a fleet rollout); the newest local firmware under the hold otherwise. */
    targetVersion?: string;
    direction?: RolloutDirection;
    phoneIds?: number[];
  }): Promise<RolloutPlan[]>;
  startRollout(input: StartRolloutInput): Promise<StartRolloutResult>;
  recordBlock(input: RecordBlockInput): Promise<RecordBlockResult>;
  finishRollout(input: FinishRolloutInput): Promise<FinishRolloutResult>;
  settleRollout(input: SettleRolloutInput): Promise<FinishRolloutResult | null>;
  runningRollout(input: { pbxId: string; modelId: string }): Promise<RunningRolloutInfo | null>;
  noteRolloutWaiting(input: { rolloutId: string; reason: Reason | null }): Promise<void>;
  beforeBlock(input: BeforeBlockInput): Promise<BeforeBlockResult>;
  noteRolloutState(input: RolloutStateInput): Promise<void>;
  unparkPhones(input: { rolloutId: string; phoneIds?: number[]; who: string }): Promise<number[]>;
  prepareFleetMember(input: PrepareFleetMemberInput): Promise<PrepareFleetMemberResult>;
  recordFleet(input: RecordFleetInput): Promise<void>;
  recordJournal(input: JournalInput): Promise<void>;
  recordLifecycleStatus(input: LifecycleStatusInput): Promise<void>;
}

export interface DownloadActivityFns {
  downloadFirmware(input: DownloadInput): Promise<DownloadResult>;
}

export interface PhoneActivityFns {
  updatePhoneBlock(input: BlockInput): Promise<BlockResult>;
}
