/**
 * The whole domain in Postgres. One deployment serves many PBXes (R16): everything a PBX owns carries its id.
 * Catalog data (models, releases) is deployment-wide; it comes from the firmware server (R1, R3).
 */
import { sql } from 'drizzle-orm';
import {
  bigint,
  bigserial,
  boolean,
  check,
  index,
  integer,
  jsonb,
  pgTable,
  primaryKey,
  smallint,
  text,
  timestamp,
  unique,
  uniqueIndex,
} from 'drizzle-orm/pg-core';
import type { Reason } from '../domain/reasons.ts';
import { PHONE_OUTCOMES, ROLLOUT_STATUSES } from '../domain/rollout.ts';
import type { PlannedBlock } from '../domain/rollout-plan.ts';
import type { RolloutPolicy } from '../domain/rollout-policy.ts';

const ts = (name: string) => timestamp(name, { withTimezone: true, mode: 'date' });

export const pbxes = pgTable(
  'pbxes',
  {
    id: text('id').primaryKey(),
    name: text('name').notNull(),
    timeZone: text('time_zone').notNull(),
    /** PBX software version; an upgrade to a new one fires R13 (a). */
    softwareVersion: text('software_version'),
    /** R9: the weekly check moment, drawn at random once at registration; never updated. 0 = Monday. */
    weeklyCheckDay: smallint('weekly_check_day').notNull(),
    weeklyCheckMinute: smallint('weekly_check_minute').notNull(),
    /** R8: automatic download and installation. */
    autoDownloadInstall: boolean('auto_download_install').notNull().default(true),
    /** R11: the admin's weekly update moment; null = no automatic update. 0 = Monday. */
    updateDay: smallint('update_day'),
    updateMinute: smallint('update_minute'),
    /** Credentials phones use for provisioning (HTTP basic); the secret is stored as a scrypt hash. */
    provisioningUser: text('provisioning_user').notNull(),
    provisioningSecretHash: text('provisioning_secret_hash').notNull(),
    /** The SIP domain phones of this PBX register to. */
    sipDomain: text('sip_domain').notNull().unique(),
    /**
     * Task queue of the phone edge that reaches this PBX's phones (a site of its own); null = TASK_QUEUE_PHONES.
     * Read when the lifecycle workflow starts.
     */
    phonesTaskQueue: text('phones_task_queue'),
    createdAt: ts('created_at').notNull().defaultNow(),
    lastRestartAt: ts('last_restart_at'),
  },
  (t) => [
    check('weekly_check_day_range', sql`${t.weeklyCheckDay} between 0 and 6`),
    check('weekly_check_minute_range', sql`${t.weeklyCheckMinute} between 0 and 1439`),
    check('update_day_range', sql`${t.updateDay} is null or ${t.updateDay} between 0 and 6`),
    check('update_minute_range', sql`${t.updateMinute} is null or ${t.updateMinute} between 0 and 1439`),
  ],
);

/** Phone types. Catalog models come from the firmware server's catalog; image-managed ones (R2) from the PBX image. */
export const phoneModels = pgTable('phone_models', {
  id: text('id').primaryKey(),
  vendor: text('vendor').notNull(),
  model: text('model').notNull(),
  /** Vendor-specific provisioning key (Yealink common-file code, Snom model token, ...). */
  provisioningKey: text('provisioning_key').notNull(),
  /** R2: firmware ships with the PBX image; never downloaded, never deleted. */
  imageManaged: boolean('image_managed').notNull().default(false),
  /** Models withdrawn from the catalog stay known so existing accounts keep working. */
  inCatalog: boolean('in_catalog').notNull().default(true),
  updatedAt: ts('updated_at').notNull().defaultNow(),
});

export const phoneAccounts = pgTable(
  'phone_accounts',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    pbxId: text('pbx_id')
      .notNull()
      .references(() => pbxes.id, { onDelete: 'cascade' }),
    modelId: text('model_id')
      .notNull()
      .references(() => phoneModels.id),
    /** 12 lower-case hex digits. */
    mac: text('mac').notNull(),
    extension: text('extension').notNull(),
    displayName: text('display_name'),
    /** R4: an account counts whether or not it is active. */
    active: boolean('active').notNull().default(true),
    /** R6 "in use": learned from the phone's User-Agent. */
    installedVersion: text('installed_version'),
    userAgent: text('user_agent'),
    lastContactAt: ts('last_contact_at'),
    /**
     * The registered SIP contact for NOTIFY: the Contact URI's user part with the host:port the REGISTER
     * actually came from (rport, RFC 3581), e.g. `sip:p17@127.0.0.1:40001`.
     */
    sipContact: text('sip_contact'),
    sipRegisteredUntil: ts('sip_registered_until'),
    /** SIP digest credential as HA1 = MD5(extension:sipDomain:password) (lib/secrets.ts sipHa1), what REGISTER is checked against. */
    sipHa1: text('sip_ha1'),
    /**
     * The SIP password itself, sealed with SECRETS_KEY (lib/secrets.ts sealSecret): provisioning files must carry
     * it (the phone registers with it) and a phone's NOTIFY challenge may name a realm of its own. Never logged,
     * never returned by the API after the account's creation.
     */
    sipPasswordSealed: text('sip_password_sealed'),
    /** Call-ID of the current registration; a REGISTER with a new Call-ID means the phone rebooted (RFC 3261 10.2). */
    sipCallId: text('sip_call_id'),
    lastBootAt: ts('last_boot_at'),
    /** Last time the phone fetched one of its provisioning files. */
    lastProvisionedAt: ts('last_provisioned_at'),
    /**
     * R7/R11: the version an approved rollout block currently offers this phone. Provisioning files carry a
     * firmware URL only while it is set and not expired; cleared when the phone reports it, when its block or its
     * rollout ends, or when Auto-Update of the type is switched off. The expiry ends it even when the process that
     * set it was killed.
     */
    firmwareTargetVersion: text('firmware_target_version'),
    firmwareTargetSetAt: ts('firmware_target_set_at'),
    firmwareTargetRolloutId: text('firmware_target_rollout_id'),
    firmwareTargetExpiresAt: ts('firmware_target_expires_at'),
    /** What the provisioning side saw of the phone's last firmware download (block outcomes, R12). */
    firmwareFetchFile: text('firmware_fetch_file'),
    firmwareFetchStartedAt: ts('firmware_fetch_started_at'),
    firmwareFetchCompletedAt: ts('firmware_fetch_completed_at'),
    firmwareFetchAbortedAt: ts('firmware_fetch_aborted_at'),
    firmwareFetchBytes: bigint('firmware_fetch_bytes', { mode: 'number' }),
    createdAt: ts('created_at').notNull().defaultNow(),
  },
  (t) => [
    // A phone belongs to one PBX in a deployment (issue 11): its MAC is unique across all PBXes.
    unique('phone_accounts_mac').on(t.mac),
    unique('phone_accounts_pbx_extension').on(t.pbxId, t.extension),
    index('phone_accounts_pbx_model').on(t.pbxId, t.modelId),
  ],
);

/**
 * R6 "in use": phones per PBX, type and reported version ('' = not reported yet), kept current by statement
 * triggers on phone_accounts (migration 0006_phone_version_counts_trigger, hand-written: drizzle-kit does not
 * generate triggers), so the overview reads a handful of rows instead of counting every phone of the PBX.
 */
export const phoneVersionCounts = pgTable(
  'phone_version_counts',
  {
    pbxId: text('pbx_id')
      .notNull()
      .references(() => pbxes.id, { onDelete: 'cascade' }),
    modelId: text('model_id').notNull(),
    /** The installed version; '' for phones that have not reported one. */
    version: text('version').notNull(),
    phones: integer('phones').notNull(),
  },
  (t) => [primaryKey({ columns: [t.pbxId, t.modelId, t.version] })],
);

/**
 * What the PBX's lifecycle workflow last reported of itself (phase, next moments, running rollouts, last check):
 * the workflow records it through a bookkeeping activity whenever it changes, and the API's status route reads it
 * here, so pages polling a PBX never query Temporal. Newer runs and later reports win (run start, sequence).
 */
export const pbxLifecycleStatus = pgTable('pbx_lifecycle_status', {
  pbxId: text('pbx_id')
    .primaryKey()
    .references(() => pbxes.id, { onDelete: 'cascade' }),
  status: jsonb('status').$type<Record<string, unknown>>().notNull(),
  runStartedAt: ts('run_started_at').notNull(),
  seq: integer('seq').notNull(),
  recordedAt: ts('recorded_at').notNull().defaultNow(),
});

/** Releases as last seen in the signed catalog of the firmware server (deployment-wide). */
export const catalogReleases = pgTable(
  'catalog_releases',
  {
    id: text('id').primaryKey(),
    vendor: text('vendor').notNull(),
    /** One image can cover a family of models. */
    modelIds: text('model_ids').array().notNull(),
    version: text('version').notNull(),
    fileName: text('file_name').notNull(),
    size: bigint('size', { mode: 'number' }).notNull(),
    sha256: text('sha256').notNull(),
    releasedAt: ts('released_at').notNull(),
    notes: text('notes').notNull().default(''),
    withdrawn: boolean('withdrawn').notNull().default(false),
    firstSeenAt: ts('first_seen_at').notNull().defaultNow(),
  },
  (t) => [index('catalog_releases_vendor').on(t.vendor)],
);

/** Singleton row: what the last catalog sync saw (conditional GET, replay protection). */
export const catalogState = pgTable('catalog_state', {
  id: integer('id').primaryKey().default(1),
  etag: text('etag'),
  serial: bigint('serial', { mode: 'number' }).notNull().default(0),
  syncedAt: ts('synced_at'),
  lastError: text('last_error'),
  lastErrorAt: ts('last_error_at'),
});

/** Content-addressed firmware store shared by all PBXes: one blob per sha256 (R16). */
export const blobs = pgTable('blobs', {
  sha256: text('sha256').primaryKey(),
  size: bigint('size', { mode: 'number' }).notNull(),
  storedAt: ts('stored_at').notNull().defaultNow(),
});

/** Firmware a PBX holds locally: a reference to a blob, or (R2) to its image copy. */
export const localFirmware = pgTable(
  'local_firmware',
  {
    pbxId: text('pbx_id')
      .notNull()
      .references(() => pbxes.id, { onDelete: 'cascade' }),
    modelId: text('model_id')
      .notNull()
      .references(() => phoneModels.id),
    version: text('version').notNull(),
    fileName: text('file_name').notNull(),
    sha256: text('sha256').references(() => blobs.sha256),
    source: text('source', { enum: ['download', 'image'] }).notNull(),
    storedAt: ts('stored_at').notNull().defaultNow(),
    /** R5: set when the type's last account went; the file goes at the next restart. */
    deleteAtNextRestart: boolean('delete_at_next_restart').notNull().default(false),
  },
  (t) => [primaryKey({ columns: [t.pbxId, t.modelId, t.version] })],
);

/** Per-PBX, per-type settings (R7). A missing row means Auto-Update on. */
export const typeSettings = pgTable(
  'type_settings',
  {
    pbxId: text('pbx_id')
      .notNull()
      .references(() => pbxes.id, { onDelete: 'cascade' }),
    modelId: text('model_id')
      .notNull()
      .references(() => phoneModels.id),
    autoUpdate: boolean('auto_update').notNull().default(true),
    updatedAt: ts('updated_at').notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.pbxId, t.modelId] })],
);

/**
 * One rollout of one type to one version on one PBX: one run of a Temporal child workflow (id = run id).
 * R12: at most one rollout per PBX and type runs at any moment (the workflow id names the type, and the partial
 * unique index below holds the same in the database).
 */
export const rollouts = pgTable(
  'rollouts',
  {
    id: text('id').primaryKey(),
    /** `pbx/<id>/rollout/<modelId>`: one open execution per type; the next rollout of the type reuses it. */
    workflowId: text('workflow_id').notNull(),
    pbxId: text('pbx_id')
      .notNull()
      .references(() => pbxes.id, { onDelete: 'cascade' }),
    modelId: text('model_id')
      .notNull()
      .references(() => phoneModels.id),
    targetVersion: text('target_version').notNull(),
    why: text('why').notNull(),
    who: text('who').notNull(),
    status: text('status', { enum: ROLLOUT_STATUSES }).notNull(),
    /** `downgrade`: a deliberate downgrade to an older stored version (issue 13); phones above the target go. */
    direction: text('direction', { enum: ['upgrade', 'downgrade'] })
      .notNull()
      .default('upgrade'),
    /** The canary, thresholds and attempts this rollout runs with (domain/rollout-policy.ts). */
    policy: jsonb('policy').$type<RolloutPolicy>(),
    /** Set when the rollout is one PBX of a fleet rollout's wave. */
    fleetRolloutId: text('fleet_rollout_id'),
    wave: integer('wave'),
    /** Why it ended as it did (refused, cancelled, failed, with failures), or why it is paused or halted. */
    reason: jsonb('reason').$type<Reason>(),
    /** Counts derived from rollout_results (domain/rollout.ts countOutcomes); kept current as blocks settle. */
    total: integer('total').notNull().default(0),
    updated: integer('updated').notNull().default(0),
    alreadyCurrent: integer('already_current').notNull().default(0),
    failed: integer('failed').notNull().default(0),
    parked: integer('parked').notNull().default(0),
    notContacted: integer('not_contacted').notNull().default(0),
    skipped: integer('skipped').notNull().default(0),
    blocks: integer('blocks').notNull().default(0),
    blocksDone: integer('blocks_done').notNull().default(0),
    startedAt: ts('started_at').notNull().defaultNow(),
    finishedAt: ts('finished_at'),
  },
  (t) => [
    index('rollouts_pbx_model').on(t.pbxId, t.modelId),
    uniqueIndex('rollouts_one_open_per_type')
      .on(t.pbxId, t.modelId)
      .where(sql`${t.status} in ('running', 'paused', 'halted')`),
    index('rollouts_fleet').on(t.fleetRolloutId),
  ],
);

export const rolloutResults = pgTable(
  'rollout_results',
  {
    rolloutId: text('rollout_id')
      .notNull()
      .references(() => rollouts.id, { onDelete: 'cascade' }),
    phoneAccountId: bigint('phone_account_id', { mode: 'number' }).notNull(),
    mac: text('mac').notNull(),
    extension: text('extension'),
    /** The block (0-based, in the order blocks ran) of its latest attempt; null while it was in none. */
    block: integer('block'),
    /** Its block in the plan (0-based): where the preview showed it; a late joiner gets the block it joined. */
    plannedBlock: integer('planned_block'),
    /** Attempts made (a failed phone is tried again after a backoff, then parked). */
    attempts: integer('attempts').notNull().default(0),
    /** The outcome of its last failed attempt, while it waits for the next one or once it is parked. */
    lastOutcome: text('last_outcome', { enum: PHONE_OUTCOMES }),
    /** When its next attempt is due (null: none pending). */
    retryAt: ts('retry_at'),
    /** It reported an older version while the rollout ran and joined the remaining blocks. */
    joined: boolean('joined').notNull().default(false),
    /** Null while its block is still deciding; written the moment the phone's outcome is known. */
    outcome: text('outcome', { enum: PHONE_OUTCOMES }),
    /**
     * The durable record of the NOTIFY, so a retried block never notifies a phone twice: `sending` is written
     * before the datagram goes out (a worker killed right then leaves it: the retry waits for the phone instead
     * of notifying it again), `answered` once the phone answered.
     */
    notify: text('notify', { enum: ['sending', 'answered'] }),
    /** NOTIFYs sent to the phone in its block (a phone the edge failed gets another, at most three). */
    notifies: integer('notifies').notNull().default(0),
    fromVersion: text('from_version'),
    reportedVersion: text('reported_version'),
    /** English text of the reason (logs, journal); `reason` holds its code and parameters for the page. */
    detail: text('detail'),
    reason: jsonb('reason').$type<Reason>(),
    /** When the phone's block first started (the block judges firmware activity from then on). */
    blockStartedAt: ts('block_started_at'),
    at: ts('at').notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.rolloutId, t.phoneAccountId] })],
);

/**
 * How carefully rollouts go on a PBX (issue 13); a missing row or a null column means the default
 * (domain/rollout-policy.ts). The maintenance window is local time in the PBX's zone; both ends or neither.
 */
export const pbxRolloutSettings = pgTable(
  'pbx_rollout_settings',
  {
    pbxId: text('pbx_id')
      .primaryKey()
      .references(() => pbxes.id, { onDelete: 'cascade' }),
    canarySize: smallint('canary_size'),
    haltFailedPercent: smallint('halt_failed_percent'),
    haltFailedBlocksInRow: smallint('halt_failed_blocks_in_row'),
    maxAttempts: smallint('max_attempts'),
    windowStartMinute: smallint('window_start_minute'),
    windowEndMinute: smallint('window_end_minute'),
    updatedAt: ts('updated_at').notNull().defaultNow(),
    updatedBy: text('updated_by'),
  },
  (t) => [
    check('canary_size_range', sql`${t.canarySize} is null or ${t.canarySize} between 1 and 50`),
    check('window_both_or_neither', sql`(${t.windowStartMinute} is null) = (${t.windowEndMinute} is null)`),
  ],
);

/** A type held at a version (issue 13): no phone of it is updated beyond it; who held it, and why. */
export const typeHolds = pgTable(
  'type_holds',
  {
    pbxId: text('pbx_id')
      .notNull()
      .references(() => pbxes.id, { onDelete: 'cascade' }),
    modelId: text('model_id')
      .notNull()
      .references(() => phoneModels.id),
    version: text('version').notNull(),
    why: text('why').notNull(),
    who: text('who').notNull(),
    at: ts('at').notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.pbxId, t.modelId] })],
);

/**
 * A dry-run preview of a type's next rollout: which phone goes in which block, the canary, and when each block is
 * expected to start. The rollout that follows it is compared with it.
 */
export const rolloutPreviews = pgTable(
  'rollout_previews',
  {
    id: text('id').primaryKey(),
    pbxId: text('pbx_id')
      .notNull()
      .references(() => pbxes.id, { onDelete: 'cascade' }),
    modelId: text('model_id')
      .notNull()
      .references(() => phoneModels.id),
    targetVersion: text('target_version').notNull(),
    direction: text('direction', { enum: ['upgrade', 'downgrade'] }).notNull(),
    canarySize: integer('canary_size').notNull(),
    blocks: jsonb('blocks').$type<PlannedBlock[]>().notNull(),
    /** The phones as they stood then (a phone whose account goes later is still named). */
    phones: jsonb('phones').$type<PreviewPhone[]>().notNull(),
    /** Expected start of each block (ISO), the latest estimate without halts or retries. */
    starts: jsonb('starts').$type<string[]>().notNull(),
    who: text('who').notNull(),
    createdAt: ts('created_at').notNull().defaultNow(),
  },
  (t) => [index('rollout_previews_type').on(t.pbxId, t.modelId, t.createdAt)],
);

export interface PreviewPhone {
  id: number;
  mac: string;
  extension: string;
  installedVersion: string | null;
  registered: boolean;
}

/** One model to one version across many PBXes, in waves (issue 13); the fleet workflow's record. */
export const fleetRollouts = pgTable('fleet_rollouts', {
  id: text('id').primaryKey(),
  workflowId: text('workflow_id').notNull(),
  modelId: text('model_id')
    .notNull()
    .references(() => phoneModels.id),
  targetVersion: text('target_version').notNull(),
  who: text('who').notNull(),
  status: text('status', { enum: ROLLOUT_STATUSES }).notNull(),
  reason: jsonb('reason').$type<Reason>(),
  /** The PBX ids of each wave, in order. */
  waves: jsonb('waves').$type<string[][]>().notNull(),
  /** The wave running or last run (0-based). */
  currentWave: integer('current_wave').notNull().default(0),
  canarySize: integer('canary_size'),
  /** How each PBX came out: skipped (with its reason) or its rollout. */
  pbxStates: jsonb('pbx_states').$type<Record<string, unknown>>().notNull().default({}),
  startedAt: ts('started_at').notNull().defaultNow(),
  finishedAt: ts('finished_at'),
});

/** R14: append-only journal of every state change (also written to firmware-journal.log). */
export const journal = pgTable(
  'journal',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    pbxId: text('pbx_id')
      .notNull()
      .references(() => pbxes.id, { onDelete: 'cascade' }),
    at: ts('at').notNull().defaultNow(),
    action: text('action').notNull(),
    why: text('why', { enum: ['schedule', 'manual', 'trigger', 'system'] }).notNull(),
    who: text('who').notNull(),
    modelId: text('model_id'),
    details: jsonb('details').$type<Record<string, unknown>>().notNull().default({}),
  },
  (t) => [index('journal_pbx_at').on(t.pbxId, t.at)],
);

/** Admin API tokens, stored hashed. pbxId null = deployment-wide. */
export const apiTokens = pgTable('api_tokens', {
  id: bigserial('id', { mode: 'number' }).primaryKey(),
  name: text('name').notNull(),
  tokenHash: text('token_hash').notNull().unique(),
  pbxId: text('pbx_id').references(() => pbxes.id, { onDelete: 'cascade' }),
  createdAt: ts('created_at').notNull().defaultNow(),
  lastUsedAt: ts('last_used_at'),
  revokedAt: ts('revoked_at'),
});
