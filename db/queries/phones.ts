/**
 * Phone accounts as the phone edge (provisioning HTTP, SIP) and block updates see them: who a phone is, what it
 * last reported, and what the provisioning side saw of its firmware download.
 */
import { and, type Column, eq, inArray, isNotNull, type SQL, sql } from 'drizzle-orm';
import type { Db } from '../client.ts';
import { compileStatement, int8, isoTimes, rowMapper } from '../prepared.ts';
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

/** `"table"."column" as "alias"` for every column the edge reads, rendered once with the statements below. */
function selectList(columns: Record<string, Column>): SQL {
  return sql.join(
    Object.entries(columns).map(([alias, column]) => sql`${column} as ${sql.identifier(alias)}`),
    sql`, `,
  );
}

const fromEdgePhones = sql`from ${phoneAccounts} inner join ${phoneModels} on ${phoneModels.id} = ${phoneAccounts.modelId}`;

const toEdgePhone = rowMapper<EdgePhone>(edgePhoneColumns);

const phonesByMac = compileStatement<'pbxIds' | 'macs'>(
  sql`select ${selectList(edgePhoneColumns)} ${fromEdgePhones}
      where (${phoneAccounts.pbxId}, ${phoneAccounts.mac}) in
        (select * from unnest(${sql.placeholder('pbxIds')}::text[], ${sql.placeholder('macs')}::text[]))`,
);

const phonesByExtension = compileStatement<'pbxIds' | 'extensions'>(
  sql`select ${selectList(edgePhoneColumns)} ${fromEdgePhones}
      where (${phoneAccounts.pbxId}, ${phoneAccounts.extension}) in
        (select * from unnest(${sql.placeholder('pbxIds')}::text[], ${sql.placeholder('extensions')}::text[]))`,
);

const phonesByIds = compileStatement<'pbxId' | 'ids'>(
  sql`select ${selectList(edgePhoneColumns)} ${fromEdgePhones}
      where ${phoneAccounts.pbxId} = ${sql.placeholder('pbxId')}
        and ${phoneAccounts.id} = any(${sql.placeholder('ids')}::int8[])`,
);

/** Phones by (PBX, MAC), many at once (MACs lower-case); looked up by the same pair. */
export async function findPhonesByMac(
  db: Db,
  keys: Array<{ pbxId: string; mac: string }>,
): Promise<EdgePhone[]> {
  if (keys.length === 0) return [];
  const rows = await phonesByMac.run(db, {
    pbxIds: keys.map((k) => k.pbxId),
    macs: keys.map((k) => k.mac.toLowerCase()),
  });
  return rows.map(toEdgePhone);
}

/** Phones by (PBX, extension), many at once. */
export async function findPhonesByExtension(
  db: Db,
  keys: Array<{ pbxId: string; extension: string }>,
): Promise<EdgePhone[]> {
  if (keys.length === 0) return [];
  const rows = await phonesByExtension.run(db, {
    pbxIds: keys.map((k) => k.pbxId),
    extensions: keys.map((k) => k.extension),
  });
  return rows.map(toEdgePhone);
}

export async function findPhoneByMac(db: Db, pbxId: string, mac: string): Promise<EdgePhone | undefined> {
  const [row] = await findPhonesByMac(db, [{ pbxId, mac }]);
  return row;
}

export async function findPhoneByExtension(
  db: Db,
  pbxId: string,
  extension: string,
): Promise<EdgePhone | undefined> {
  const [row] = await findPhonesByExtension(db, [{ pbxId, extension }]);
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
  return (await phonesByIds.run(db, { pbxId, ids })).map(toEdgePhone);
}

/** The column to SET (unqualified, as UPDATE wants it). */
const col = (c: Column) => sql.identifier(c.name);

/**
 * Sets the installed version from a trusted report (`v.version`, null = none) and, when it is the version a
 * rollout offered, clears the offer (R7/R11: firmware is offered until the phone runs it, not beyond). Column
 * references in SET read the row as it was before the update.
 */
const versionReport = sql`
  ${col(phoneAccounts.installedVersion)} = coalesce(v.version, ${phoneAccounts.installedVersion}),
  ${col(phoneAccounts.firmwareTargetVersion)} = case when ${phoneAccounts.firmwareTargetVersion} = v.version
    then null else ${phoneAccounts.firmwareTargetVersion} end,
  ${col(phoneAccounts.firmwareTargetExpiresAt)} = case when ${phoneAccounts.firmwareTargetVersion} = v.version
    then null else ${phoneAccounts.firmwareTargetExpiresAt} end`;

export interface RegistrationReport {
  contact: string;
  registeredUntil: Date;
  userAgent: string | null;
  /** Only when the UA names the account's vendor and model. */
  version: string | null;
  callId: string;
  at: Date;
}

const registrations = compileStatement<
  'ids' | 'contacts' | 'untils' | 'uas' | 'versions' | 'callIds' | 'ats'
>(
  sql`update ${phoneAccounts} set
        ${col(phoneAccounts.sipContact)} = v.contact,
        ${col(phoneAccounts.sipRegisteredUntil)} = v.until,
        ${col(phoneAccounts.userAgent)} = coalesce(v.ua, ${phoneAccounts.userAgent}),
        ${col(phoneAccounts.lastContactAt)} = v.at,
        -- RFC 3261 10.2: a UA keeps its Call-ID for all registrations of one boot cycle.
        ${col(phoneAccounts.lastBootAt)} = case when ${phoneAccounts.sipCallId} is distinct from v.call_id
          then v.at else ${phoneAccounts.lastBootAt} end,
        ${col(phoneAccounts.sipCallId)} = v.call_id,
        ${versionReport}
      from unnest(${sql.placeholder('ids')}::int8[], ${sql.placeholder('contacts')}::text[],
        ${sql.placeholder('untils')}::text[]::timestamptz[], ${sql.placeholder('uas')}::text[],
        ${sql.placeholder('versions')}::text[], ${sql.placeholder('callIds')}::text[],
        ${sql.placeholder('ats')}::text[]::timestamptz[]) as v(id, contact, until, ua, version, call_id, at)
      where ${phoneAccounts.id} = v.id`,
);

/** Records registrations (one statement for all; one per phone at most, see lib/batch.ts). */
export async function recordRegistrations(
  db: Db,
  reports: Array<RegistrationReport & { phoneId: number }>,
): Promise<void> {
  if (reports.length === 0) return;
  await registrations.run(db, {
    ids: reports.map((r) => r.phoneId),
    contacts: reports.map((r) => r.contact),
    untils: isoTimes(reports.map((r) => r.registeredUntil)),
    uas: reports.map((r) => r.userAgent),
    versions: reports.map((r) => r.version),
    callIds: reports.map((r) => r.callId),
    ats: isoTimes(reports.map((r) => r.at)),
  });
}

export async function recordRegistration(db: Db, phoneId: number, r: RegistrationReport): Promise<void> {
  await recordRegistrations(db, [{ ...r, phoneId }]);
}

export async function recordUnregistration(db: Db, phoneId: number, at: Date): Promise<void> {
  await db
    .update(phoneAccounts)
    .set({ sipContact: null, sipRegisteredUntil: null, lastContactAt: at })
    .where(eq(phoneAccounts.id, phoneId));
}

export type LocalFirmwareRow = typeof localFirmware.$inferSelect;

const localFirmwareColumns = {
  pbxId: localFirmware.pbxId,
  modelId: localFirmware.modelId,
  version: localFirmware.version,
  fileName: localFirmware.fileName,
  sha256: localFirmware.sha256,
  source: localFirmware.source,
  storedAt: localFirmware.storedAt,
  deleteAtNextRestart: localFirmware.deleteAtNextRestart,
};

/**
 * R7/R11: the approval condition (findApprovedFirmware): the local firmware at the version the account is
 * approved for, while the approval has not expired (its block was killed and never withdrew it).
 */
function approvedJoin(account: { pbxId: SQL; modelId: SQL; target: SQL; expiresAt: SQL }): SQL {
  return sql`left join ${localFirmware} on ${localFirmware.pbxId} = ${account.pbxId}
    and ${localFirmware.modelId} = ${account.modelId}
    and ${localFirmware.version} = ${account.target}
    and (${account.expiresAt} is null or ${account.expiresAt} > now())`;
}

const toLocalFirmware = rowMapper<LocalFirmwareRow>(localFirmwareColumns);

/** `{ phoneId, ...local firmware or nulls }` rows → approval per phone. */
function approvalsOf(rows: Array<Record<string, unknown>>): Map<number, LocalFirmwareRow | undefined> {
  const out = new Map<number, LocalFirmwareRow | undefined>();
  for (const { phoneId, ...lf } of rows) {
    out.set(int8(phoneId), lf.version === null ? undefined : toLocalFirmware(lf));
  }
  return out;
}

const provisioningFetches = compileStatement<'ids' | 'uas' | 'versions' | 'ats'>(
  sql`with v as (
        select * from unnest(${sql.placeholder('ids')}::int8[], ${sql.placeholder('uas')}::text[],
          ${sql.placeholder('versions')}::text[], ${sql.placeholder('ats')}::text[]::timestamptz[])
          as v(id, ua, version, at)
      ), u as (
        update ${phoneAccounts} set
          ${col(phoneAccounts.lastProvisionedAt)} = v.at,
          ${col(phoneAccounts.lastContactAt)} = v.at,
          ${col(phoneAccounts.userAgent)} = coalesce(v.ua, ${phoneAccounts.userAgent}),
          ${versionReport}
        from v where ${phoneAccounts.id} = v.id
        returning ${phoneAccounts.id} as id, ${phoneAccounts.pbxId} as pbx_id, ${phoneAccounts.modelId} as model_id,
          ${phoneAccounts.firmwareTargetVersion} as target, ${phoneAccounts.firmwareTargetExpiresAt} as expires_at
      )
      select u.id as "phoneId", ${selectList(localFirmwareColumns)} from u
      ${approvedJoin({ pbxId: sql`u.pbx_id`, modelId: sql`u.model_id`, target: sql`u.target`, expiresAt: sql`u.expires_at` })}`,
);

/**
 * Records provisioning fetches (R6: the version the request reports) and answers, per phone, the approval that
 * stands after the report (the findApprovedFirmware answer): reporting the approved version ends it.
 */
export async function recordProvisioningFetches(
  db: Db,
  reports: Array<{ phoneId: number; userAgent: string | null; version: string | null; at: Date }>,
): Promise<Map<number, LocalFirmwareRow | undefined>> {
  if (reports.length === 0) return new Map();
  const rows = await provisioningFetches.run(db, {
    ids: reports.map((r) => r.phoneId),
    uas: reports.map((r) => r.userAgent),
    versions: reports.map((r) => r.version),
    ats: isoTimes(reports.map((r) => r.at)),
  });
  return approvalsOf(rows);
}

export async function recordProvisioningFetch(
  db: Db,
  phoneId: number,
  r: { userAgent: string | null; version: string | null; at: Date },
): Promise<LocalFirmwareRow | undefined> {
  return (await recordProvisioningFetches(db, [{ ...r, phoneId }])).get(phoneId);
}

export type FirmwareFetchPhase = 'started' | 'completed' | 'aborted';

const firmwareFetches = compileStatement<'ids' | 'phases' | 'files' | 'bytes' | 'ats'>(
  sql`update ${phoneAccounts} set
        ${col(phoneAccounts.firmwareFetchFile)} = case when v.phase = 'started'
          then v.file else ${phoneAccounts.firmwareFetchFile} end,
        ${col(phoneAccounts.firmwareFetchStartedAt)} = case when v.phase = 'started'
          then v.at else ${phoneAccounts.firmwareFetchStartedAt} end,
        ${col(phoneAccounts.firmwareFetchCompletedAt)} = case when v.phase = 'completed'
          then v.at else ${phoneAccounts.firmwareFetchCompletedAt} end,
        ${col(phoneAccounts.firmwareFetchAbortedAt)} = case when v.phase = 'aborted'
          then v.at else ${phoneAccounts.firmwareFetchAbortedAt} end,
        ${col(phoneAccounts.firmwareFetchBytes)} = case when v.phase = 'started' then 0 else v.bytes end,
        ${col(phoneAccounts.lastContactAt)} = v.at
      from unnest(${sql.placeholder('ids')}::int8[], ${sql.placeholder('phases')}::text[],
        ${sql.placeholder('files')}::text[], ${sql.placeholder('bytes')}::int8[],
        ${sql.placeholder('ats')}::text[]::timestamptz[]) as v(id, phase, file, bytes, at)
      where ${phoneAccounts.id} = v.id`,
);

/** What the provisioning side saw of firmware downloads (started: file and time; completed / aborted: bytes). */
export async function recordFirmwareFetches(
  db: Db,
  fetches: Array<{ phoneId: number; phase: FirmwareFetchPhase; file: string; bytes: number; at: Date }>,
): Promise<void> {
  if (fetches.length === 0) return;
  await firmwareFetches.run(db, {
    ids: fetches.map((f) => f.phoneId),
    phases: fetches.map((f) => f.phase),
    files: fetches.map((f) => f.file),
    bytes: fetches.map((f) => f.bytes),
    ats: isoTimes(fetches.map((f) => f.at)),
  });
}

export async function recordFirmwareFetch(
  db: Db,
  phoneId: number,
  r: { phase: FirmwareFetchPhase; file: string; bytes: number; at: Date },
): Promise<void> {
  await recordFirmwareFetches(db, [{ ...r, phoneId }]);
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

const approvedFirmwares = compileStatement<'ids'>(
  sql`select ${phoneAccounts.id} as "phoneId", ${selectList(localFirmwareColumns)} from ${phoneAccounts}
      ${approvedJoin({
        pbxId: sql`${phoneAccounts.pbxId}`,
        modelId: sql`${phoneAccounts.modelId}`,
        target: sql`${phoneAccounts.firmwareTargetVersion}`,
        expiresAt: sql`${phoneAccounts.firmwareTargetExpiresAt}`,
      })}
      where ${phoneAccounts.id} = any(${sql.placeholder('ids')}::int8[])`,
);

/** findApprovedFirmware for many phones in one statement. */
export async function findApprovedFirmwares(
  db: Db,
  phoneIds: number[],
): Promise<Map<number, LocalFirmwareRow | undefined>> {
  if (phoneIds.length === 0) return new Map();
  return approvalsOf(await approvedFirmwares.run(db, { ids: phoneIds }));
}

/**
 * R7/R11, the one answer to "is this phone approved for a firmware right now, and which": the local firmware of
 * the phone's PBX and model at the version its account is approved for (`firmware_target_version`, set by a
 * rollout block and cleared when the block ends or the phone reports the version). Provisioning files name a
 * firmware, and the firmware path serves a file, only when this returns a row; any further condition of an
 * approval (an expiry) belongs in `approvedJoin`, which every statement answering it shares.
 */
export async function findApprovedFirmware(db: Db, phoneId: number): Promise<LocalFirmwareRow | undefined> {
  return (await findApprovedFirmwares(db, [phoneId])).get(phoneId);
}

/** R7: a missing settings row means Auto-Update on. */
export async function isAutoUpdateOn(db: Db, pbxId: string, modelId: string): Promise<boolean> {
  const [row] = await db
    .select({ autoUpdate: typeSettings.autoUpdate })
    .from(typeSettings)
    .where(and(eq(typeSettings.pbxId, pbxId), eq(typeSettings.modelId, modelId)));
  return row?.autoUpdate ?? true;
}
