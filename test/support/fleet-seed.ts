/**
 * A deployment of many PBXes as the database holds it after the workflows ran: PBXes in four time zones, T54W and
 * D785 accounts with the versions their phones reported, the catalog's T54W release, finished and running
 * rollouts. The fleet view only reads these tables, so its tests and benchmark write them in bulk (one statement
 * per table) instead of running a thousand lifecycles. Which PBX gets what is a function of its number, so the
 * tests know the answers without asking the code under test.
 */
import { randomUUID } from 'node:crypto';
import type { Db } from '../../db/client.ts';
import { catalogReleases, pbxes, phoneAccounts, rollouts } from '../../db/schema.ts';

export const FLEET_ZONES = ['Europe/Berlin', 'America/New_York', 'Asia/Tokyo', 'Australia/Sydney'] as const;
export const T54W_NEW = '96.86.0.70';
export const T54W_OLD = '96.86.0.45';
const DAY = 24 * 60 * 60 * 1000;

/** The rules the seed follows, per PBX number i. */
export const fleetPlan = {
  id: (i: number) => `site-${String(i).padStart(4, '0')}`,
  zone: (i: number) => FLEET_ZONES[i % FLEET_ZONES.length] as string,
  /** R8 off on every fifth PBX. */
  automatic: (i: number) => i % 5 !== 0,
  /** No update moment on every seventh. */
  hasMoment: (i: number) => i % 7 !== 0,
  /** One T54W phone still on the old version on every fourth. */
  t54wBehind: (i: number) => i % 4 === 0,
  /** A rollout that failed yesterday on every tenth; one that failed 10 days ago on every ninth. */
  failedThisWeek: (i: number) => i % 10 === 0,
  failedLongAgo: (i: number) => i % 9 === 0,
  /** A running rollout on every 25th. */
  running: (i: number) => i % 25 === 0,
};

/** Inserts `count` PBXes with `phonesPerPbx` T54W phones and one D785 each (the models must be known). */
export async function seedFleet(db: Db, count: number, phonesPerPbx = 3, now = Date.now()): Promise<void> {
  const p = fleetPlan;
  const ids = Array.from({ length: count }, (_, i) => i);
  const chunks = <T>(rows: T[], size = 2000) =>
    Array.from({ length: Math.ceil(rows.length / size) }, (_, k) => rows.slice(k * size, (k + 1) * size));
  await db
    .insert(catalogReleases)
    .values({
      id: `yealink-t54w-${T54W_NEW}`,
      vendor: 'yealink',
      modelIds: ['yealink-t54w'],
      version: T54W_NEW,
      fileName: `T54W-${T54W_NEW}.rom`,
      size: 1000,
      sha256: 'a'.repeat(64),
      releasedAt: new Date(now - 30 * DAY),
    })
    .onConflictDoNothing();
  for (const part of chunks(ids, 1000)) {
    await db.insert(pbxes).values(
      part.map((i) => ({
        id: p.id(i),
        name: `Site ${String(i).padStart(4, '0')} ${p.zone(i).split('/')[1]}`,
        timeZone: p.zone(i),
        weeklyCheckDay: i % 7,
        weeklyCheckMinute: (i * 37) % 1080,
        autoDownloadInstall: p.automatic(i),
        updateDay: p.hasMoment(i) ? (i * 3) % 7 : null,
        updateMinute: p.hasMoment(i) ? (i * 53) % 1440 : null,
        provisioningUser: 'prov',
        provisioningSecretHash: 'x',
        sipDomain: `${p.id(i)}.pbx.test`,
      })),
    );
  }
  if (phonesPerPbx > 255) throw new Error('at most 255 phones per PBX (one MAC block of 256 each)');
  const mac = (i: number, k: number) => (0x805ec0000000 + i * 256 + k).toString(16).padStart(12, '0');
  const accounts = ids.flatMap((i) => [
    ...Array.from({ length: phonesPerPbx }, (_, k) => ({
      pbxId: p.id(i),
      modelId: 'yealink-t54w',
      mac: mac(i, k),
      extension: String(100 + k),
      installedVersion: p.t54wBehind(i) && k === 0 ? T54W_OLD : T54W_NEW,
      lastContactAt: new Date(now - k * 60_000),
    })),
    {
      pbxId: p.id(i),
      modelId: 'snom-d785',
      mac: mac(i, 255),
      extension: '999',
      installedVersion: '10.1.184.15',
      lastContactAt: new Date(now),
    },
  ]);
  for (const part of chunks(accounts)) await db.insert(phoneAccounts).values(part);
  const rollout = (
    i: number,
    status: 'failed' | 'completed-with-failures' | 'running',
    endedAgo: number | null,
  ) => ({
    id: randomUUID(),
    workflowId: `pbx/${p.id(i)}/rollout/yealink-t54w`,
    pbxId: p.id(i),
    modelId: 'yealink-t54w',
    targetVersion: T54W_NEW,
    why: 'schedule',
    who: 'system',
    status,
    total: phonesPerPbx,
    updated: status === 'running' ? 1 : phonesPerPbx - 1,
    failed: status === 'running' ? 0 : 1,
    blocks: 1,
    blocksDone: status === 'running' ? 0 : 1,
    startedAt: new Date(now - (endedAgo ?? 0) - 600_000),
    finishedAt: endedAgo === null ? null : new Date(now - endedAgo),
  });
  const runs = ids.flatMap((i) => [
    ...(p.failedThisWeek(i) ? [rollout(i, 'completed-with-failures', DAY)] : []),
    ...(p.failedLongAgo(i) ? [rollout(i, 'failed', 10 * DAY)] : []),
    ...(p.running(i) ? [rollout(i, 'running', null)] : []),
  ]);
  for (const part of chunks(runs)) if (part.length > 0) await db.insert(rollouts).values(part);
}
