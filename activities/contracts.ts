/**
 * The inputs and outputs of activities that workflows call, shared by both sides.
 * Workflow code imports these as types only (no I/O crosses into the workflow bundle).
 */
import type { JournalWhy } from '../db/queries/journal.ts';

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

export type PhoneOutcome =
  | 'updated'
  | 'already-current'
  | 'failed-download'
  | 'no-answer'
  | 'wrong-version'
  | 'unreachable';

export interface BlockInput {
  pbxId: string;
  modelId: string;
  targetVersion: string;
  /** ≤ 50 phone account ids (R12). */
  phoneIds: number[];
  /** How long a phone gets to come back on the target version. */
  timeoutMs?: number;
  /** For the journal (default: system/system). */
  why?: JournalWhy;
  who?: string;
  /** The rollout this block belongs to, for logs. */
  rolloutId?: string;
}

export interface PhoneResult {
  phoneId: number;
  mac: string;
  outcome: PhoneOutcome;
  fromVersion: string | null;
  reportedVersion: string | null;
  detail?: string;
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
  /** Newest firmware the PBX holds for this type (downloaded or image, R2). */
  targetVersion: string | null;
  /** Phones on a known version older than the target. */
  phonesNeedingUpdate: number;
  /** Phones that never reported a version (not contacted yet): left alone. */
  phonesUnknownVersion: number;
}

export interface StartRolloutInput extends Actor {
  rolloutId: string;
  workflowId: string;
  pbxId: string;
  modelId: string;
  targetVersion: string;
}

export type StartRolloutResult =
  | { refused: string; phoneIds?: undefined }
  | { refused?: undefined; phoneIds: number[] };

export interface RecordBlockInput {
  rolloutId: string;
  pbxId: string;
  modelId: string;
  block: number;
  results: PhoneResult[];
}

export interface FinishRolloutInput extends Actor {
  rolloutId: string;
  pbxId: string;
  modelId: string;
  targetVersion: string;
  status: 'completed' | 'failed' | 'cancelled';
  reason?: string;
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
  planRollouts(input: { pbxId: string; modelIds?: string[] }): Promise<RolloutPlan[]>;
  startRollout(input: StartRolloutInput): Promise<StartRolloutResult>;
  recordBlock(input: RecordBlockInput): Promise<{ autoUpdate: boolean }>;
  finishRollout(input: FinishRolloutInput): Promise<void>;
  recordJournal(input: JournalInput): Promise<void>;
}

export interface DownloadActivityFns {
  downloadFirmware(input: DownloadInput): Promise<DownloadResult>;
}

export interface PhoneActivityFns {
  updatePhoneBlock(input: BlockInput): Promise<BlockResult>;
}
