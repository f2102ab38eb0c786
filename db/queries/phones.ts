/**
 * Phone accounts as the phone edge (provisioning HTTP, SIP) and block updates see them: who a phone is, what it
 * last reported, and what the provisioning side saw of its firmware download.
 */
import { and, eq, gt, inArray, isNotNull, isNull, or, sql } from 'drizzle-orm';
import type { Db } from '../client.ts';
import { localFirmware, pbxes, phoneAccounts, phoneModels, typeSettings } from '../schema.ts';
import type { DbOrTx } from './local-firmware.ts';

export interface EdgePbx {
  id: string;
  name: string;
  sipDomain: string;
  provisioningUser: string;
  provisioningSecretHash: string;
}

const edgePbxColumns = {
  id: pbxes.id,
  name: pbxes.name,
  sipDomain: pbxes.sipDomain,
  provisioningUser: pbxes.provisioningUser,
  provisioningSecretHash: pbxes.provisioningSecretHash,
};

export async function findEdgePbx(db: Db, pbxId: string): Promise<EdgePbx | undefined> {
  const [row] = await db.select(edgePbxColumns).from(pbxes).where(eq(pbxes.id, pbxId));
  return row;
}

export async function findEdgePbxBySipDomain(db: Db, sipDomain: string): Promise<EdgePbx | undefined> {
  const [row] = await db
    .select(edgePbxColumns)
    .from(pbxes)
    .where(eq(sql`lower(${pbxes.sipDomain})`, sipDomain.toLowerCase()));
  return row;
}

export type PhoneModelRow = typeof phoneModels.$inferSelect;

export async function listPhoneModels(db: Db): Promise<PhoneModelRow[]> {
  return db.select().from(phoneModels);
}

/** A phone account with its model, as the edge and block updates need it. */
export interface EdgePhone {
  id: number;
  pbxId: string;
  modelId: string;
  mac: string;
  extension: string;
  displayName: string | null;
  installedVersion: string | null;
  userAgent: string | null;
  lastContactAt: Date | null;
  sipContact: string | null;
  sipRegisteredUntil: Date | null;
  sipHa1: string | null;
  /** lib/secrets.ts sealSecret of the SIP password (null for accounts made before it was kept). */
  sipPasswordSealed: string | null;
  sipCallId: string | null;
  lastBootAt: Date | null;
  lastProvisionedAt: Date | null;
  firmwareTargetVersion: string | null;
  firmwareTargetSetAt: Date | null;
  firmwareTargetRolloutId: string | null;
  firmwareTargetExpiresAt: Date | null;
  firmwareFetchFile: string | null;
  firmwareFetchStartedAt: Date | null;
  firmwareFetchCompletedAt: Date | null;
  firmwareFetchAbortedAt: Date | null;
  firmwareFetchBytes: number | null;
  vendor: string;
  model: string;
  provisioningKey: string;
}

const edgePhoneColumns = {
  id: phoneAccounts.id,
  pbxId: phoneAccounts.pbxId,
  modelId: phoneAccounts.modelId,
  mac: phoneAccounts.mac,
  extension: phoneAccounts.extension,
  displayName: phoneAccounts.displayName,
  installedVersion: phoneAccounts.installedVersion,
  userAgent: phoneAccounts.userAgent,
  lastContactAt: phoneAccounts.lastContactAt,
  sipContact: phoneAccounts.sipContact,
  sipRegisteredUntil: phoneAccounts.sipRegisteredUntil,
  sipHa1: phoneAccounts.sipHa1,
  sipPasswordSealed: phoneAccounts.sipPasswordSealed,
  sipCallId: phoneAccounts.sipCallId,
  lastBootAt: phoneAccounts.lastBootAt,
  lastProvisionedAt: phoneAccounts.lastProvisionedAt,
  firmwareTargetVersion: phoneAccounts.firmwareTargetVersion,
  firmwareTargetSetAt: phoneAccounts.firmwareTargetSetAt,
  firmwareTargetRolloutId: phoneAccounts.firmwareTargetRolloutId,
  firmwareTargetExpiresAt: phoneAccounts.firmwareTargetExpiresAt,
  firmwareFetchFile: phoneAccounts.firmwareFetchFile,
  firmwareFetchStartedAt: phoneAccounts.firmwareFetchStartedAt,
  firmwareFetchCompletedAt: phoneAccounts.firmwareFetchCompletedAt,
  firmwareFetchAbortedAt: phoneAccounts.firmwareFetchAbortedAt,
  firmwareFetchBytes: phoneAccounts.firmwareFetchBytes,
  vendor: phoneModels.vendor,
  model: phoneModels.model,
  provisioningKey: phoneModels.provisioningKey,
};

function selectEdgePhones(db: Db) {
  return db
    .select(edgePhoneColumns)
    .from(phoneAccounts)
    .innerJoin(phoneModels, eq(phoneModels.id, phoneAccounts.modelId));
}

export async function findPhoneByMac(db: Db, pbxId: string, mac: string): Promise<EdgePhone | undefined> {
  const [row] = await selectEdgePhones(db).where(
    and(eq(phoneAccounts.pbxId, pbxId), eq(phoneAccounts.mac, mac.toLowerCase())),
  );
  return row;
}

export async function findPhoneByExtension(
  db: Db,
  pbxId: string,
  extension: string,
): Promise<EdgePhone | undefined> {
  const [row] = await selectEdgePhones(db).where(
    and(eq(phoneAccounts.pbxId, pbxId), eq(phoneAccounts.extension, extension)),
  );
  return row;
}

/** The sealed SIP password of an account (lib/secrets.ts), for answering a phone's own digest challenge. */
export async function findSealedSipPassword(db: Db, phoneId: number): Promise<string | null> {
  const [row] = await db
    .select({ sealed: phoneAccounts.sipPasswordSealed })
    .from(phoneAccounts)
    .where(eq(phoneAccounts.id, phoneId));
  return row?.sealed ?? null;
}

export async function listPhonesByIds(db: Db, pbxId: string, ids: number[]): Promise<EdgePhone[]> {
  if (ids.length === 0) return [];
  return selectEdgePhones(db).where(and(eq(phoneAccounts.pbxId, pbxId), inArray(phoneAccounts.id, ids)));
}

/**
 * Sets the installed version from a trusted report and, when it is the version a rollout offered, clears the
 * offer (R7/R11: firmware is offered until the phone runs it, not beyond). Column references in SET read the
 * row as it was before the update.
 */
function versionReport(version: string | null) {
  return {
    installedVersion: sql`coalesce(${version}::text, ${phoneAccounts.installedVersion})`,
    firmwareTargetVersion: sql`case when ${phoneAccounts.firmwareTargetVersion} = ${version}::text then null else ${phoneAccounts.firmwareTargetVersion} end`,
    firmwareTargetExpiresAt: sql`case when ${phoneAccounts.firmwareTargetVersion} = ${version}::text then null else ${phoneAccounts.firmwareTargetExpiresAt} end`,
  };
}

export interface RegistrationReport {
  contact: string;
  registeredUntil: Date;
  userAgent: string | null;
  /** Only when the UA names the account's vendor and model. */
  version: string | null;
  callId: string;
  at: Date;
}

export async function recordRegistration(db: Db, phoneId: number, r: RegistrationReport): Promise<void> {
  await db
    .update(phoneAccounts)
    .set({
      sipContact: r.contact,
      sipRegisteredUntil: r.registeredUntil,
      userAgent: r.userAgent ?? sql`${phoneAccounts.userAgent}`,
      lastContactAt: r.at,
      // RFC 3261 10.2: a UA keeps its Call-ID for all registrations of one boot cycle.
      lastBootAt: sql`case when ${phoneAccounts.sipCallId} is distinct from ${r.callId}::text then ${r.at.toISOString()}::timestamptz else ${phoneAccounts.lastBootAt} end`,
      sipCallId: r.callId,
      ...versionReport(r.version),
    })
    .where(eq(phoneAccounts.id, phoneId));
}

export async function recordUnregistration(db: Db, phoneId: number, at: Date): Promise<void> {
  await db
    .update(phoneAccounts)
    .set({ sipContact: null, sipRegisteredUntil: null, lastContactAt: at })
    .where(eq(phoneAccounts.id, phoneId));
}

export async function recordProvisioningFetch(
  db: Db,
  phoneId: number,
  r: { userAgent: string | null; version: string | null; at: Date },
): Promise<void> {
  await db
    .update(phoneAccounts)
    .set({
      lastProvisionedAt: r.at,
      lastContactAt: r.at,
      userAgent: r.userAgent ?? sql`${phoneAccounts.userAgent}`,
      ...versionReport(r.version),
    })
    .where(eq(phoneAccounts.id, phoneId));
}

export type FirmwareFetchPhase = 'started' | 'completed' | 'aborted';

export async function recordFirmwareFetch(
  db: Db,
  phoneId: number,
  r: { phase: FirmwareFetchPhase; file: string; bytes: number; at: Date },
): Promise<void> {
  const set =
    r.phase === 'started'
      ? { firmwareFetchFile: r.file, firmwareFetchStartedAt: r.at, firmwareFetchBytes: 0 }
      : r.phase === 'completed'
        ? { firmwareFetchCompletedAt: r.at, firmwareFetchBytes: r.bytes }
        : { firmwareFetchAbortedAt: r.at, firmwareFetchBytes: r.bytes };
  await db
    .update(phoneAccounts)
    .set({ ...set, lastContactAt: r.at })
    .where(eq(phoneAccounts.id, phoneId));
}

/**
 * R7/R11: offer `version` to these phones of an approved rollout block, until `expiresAt` at the latest: the
 * approval ends with its block even when the process that set it is killed and never clears it.
 */
export async function setFirmwareTargets(
  db: Db,
  pbxId: string,
  phoneIds: number[],
  approval: { version: string; at: Date; rolloutId: string | null; expiresAt: Date },
): Promise<void> {
  if (phoneIds.length === 0) return;
  await db
    .update(phoneAccounts)
    .set({
      firmwareTargetVersion: approval.version,
      firmwareTargetSetAt: approval.at,
      firmwareTargetRolloutId: approval.rolloutId,
      firmwareTargetExpiresAt: approval.expiresAt,
    })
    .where(and(eq(phoneAccounts.pbxId, pbxId), inArray(phoneAccounts.id, phoneIds)));
}

const noApproval = {
  firmwareTargetVersion: null,
  firmwareTargetSetAt: null,
  firmwareTargetRolloutId: null,
  firmwareTargetExpiresAt: null,
};

/** Withdraws the offer of `version` (a finished or failed block); other offers stay. */
export async function clearFirmwareTargets(
  db: Db,
  pbxId: string,
  phoneIds: number[],
  version: string,
): Promise<void> {
  if (phoneIds.length === 0) return;
  await db
    .update(phoneAccounts)
    .set(noApproval)
    .where(
      and(
        eq(phoneAccounts.pbxId, pbxId),
        inArray(phoneAccounts.id, phoneIds),
        eq(phoneAccounts.firmwareTargetVersion, version),
      ),
    );
}

/** Every approval a rollout gave, withdrawn when it ends (whichever way). */
export async function clearRolloutApprovals(db: Db, pbxId: string, rolloutId: string): Promise<number> {
  const rows = await db
    .update(phoneAccounts)
    .set(noApproval)
    .where(and(eq(phoneAccounts.pbxId, pbxId), eq(phoneAccounts.firmwareTargetRolloutId, rolloutId)))
    .returning({ id: phoneAccounts.id });
  return rows.length;
}

/** R7: Auto-Update switched off for a type → no phone of it keeps an offer. */
export async function clearTypeApprovals(db: DbOrTx, pbxId: string, modelId: string): Promise<number> {
  const rows = await db
    .update(phoneAccounts)
    .set(noApproval)
    .where(
      and(
        eq(phoneAccounts.pbxId, pbxId),
        eq(phoneAccounts.modelId, modelId),
        isNotNull(phoneAccounts.firmwareTargetVersion),
      ),
    )
    .returning({ id: phoneAccounts.id });
  return rows.length;
}

export type LocalFirmwareRow = typeof localFirmware.$inferSelect;

export async function findLocalFirmware(
  db: Db,
  pbxId: string,
  modelId: string,
  version: string,
): Promise<LocalFirmwareRow | undefined> {
  const [row] = await db
    .select()
    .from(localFirmware)
    .where(
      and(
        eq(localFirmware.pbxId, pbxId),
        eq(localFirmware.modelId, modelId),
        eq(localFirmware.version, version),
      ),
    );
  return row;
}

/**
 * R7/R11, the one answer to "is this phone approved for a firmware right now, and which": the local firmware of
 * the phone's PBX and model at the version its account is approved for (`firmware_target_version`, set by a
 * rollout block and cleared when the block ends or the phone reports the version). Provisioning files name a
 * firmware, and the firmware path serves a file, only when this returns a row; any further condition of an
 * approval (an expiry) belongs here.
 */
export async function findApprovedFirmware(db: Db, phoneId: number): Promise<LocalFirmwareRow | undefined> {
  const [row] = await db
    .select({ lf: localFirmware })
    .from(phoneAccounts)
    .innerJoin(
      localFirmware,
      and(
        eq(localFirmware.pbxId, phoneAccounts.pbxId),
        eq(localFirmware.modelId, phoneAccounts.modelId),
        eq(localFirmware.version, phoneAccounts.firmwareTargetVersion),
      ),
    )
    .where(
      and(
        eq(phoneAccounts.id, phoneId),
        isNotNull(phoneAccounts.firmwareTargetVersion),
        // An approval counts only until it expires (its block was killed and never withdrew it).
        or(
          isNull(phoneAccounts.firmwareTargetExpiresAt),
          gt(phoneAccounts.firmwareTargetExpiresAt, sql`now()`),
        ),
      ),
    );
  return row?.lf;
}

/** R7: a missing settings row means Auto-Update on. */
export async function isAutoUpdateOn(db: Db, pbxId: string, modelId: string): Promise<boolean> {
  const [row] = await db
    .select({ autoUpdate: typeSettings.autoUpdate })
    .from(typeSettings)
    .where(and(eq(typeSettings.pbxId, pbxId), eq(typeSettings.modelId, modelId)));
  return row?.autoUpdate ?? true;
}
