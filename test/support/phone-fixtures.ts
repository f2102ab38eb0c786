/**
 * Fixtures for phone-edge tests: a PBX with provisioning credentials, catalog models, local firmware with a real
 * file in a temporary store, and a running phone edge on loopback (ephemeral ports, short SIP timers).
 */
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { and, eq } from 'drizzle-orm';
import type { ActivityDeps } from '../../activities/deps.ts';
import type { Db } from '../../db/client.ts';
import { setFirmwareTargets } from '../../db/queries/phones.ts';
import { insertRollout } from '../../db/queries/rollouts.ts';
import { blobs, localFirmware, pbxes, phoneModels, rollouts } from '../../db/schema.ts';
import { modelIdOf, type Vendor } from '../../domain/vendors.ts';
import { loadConfig } from '../../lib/config.ts';
import { createLogger } from '../../lib/logger.ts';
import { PbxLogs } from '../../lib/pbx-logs.ts';
import { hashSecret } from '../../lib/secrets.ts';
import { blobPath } from '../../lib/store-paths.ts';
import { type PhoneEdge, type PhoneEdgeOptions, startPhoneEdge } from '../../phones/edge.ts';
import { simulatedFirmwareImage } from '../../simulator/firmware-image.ts';

export interface EdgeFixture {
  deps: ActivityDeps;
  edge: PhoneEdge;
  dataDir: string;
  autoprovLines(pbxId: string): Array<Record<string, unknown>>;
  close(): Promise<void>;
}

export async function startEdgeFixture(
  db: Db,
  sipTimers = { t1Ms: 20, t2Ms: 160 },
  options: Pick<PhoneEdgeOptions, 'httpTimeouts' | 'authThrottle'> = {},
): Promise<EdgeFixture> {
  const dataDir = mkdtempSync(join(tmpdir(), 'pfd-edge-'));
  const config = loadConfig({ DATA_DIR: dataDir, LOG_LEVEL: 'silent' });
  const logs = new PbxLogs(config.logDir);
  const deps: ActivityDeps = { config, db, logs, logger: createLogger('test-edge', 'silent') };
  const edge = await startPhoneEdge(deps, {
    provisioningPort: 0,
    sipPort: 0,
    host: '127.0.0.1',
    sipTimers,
    ...options,
  });
  return {
    deps,
    edge,
    dataDir,
    autoprovLines(pbxId) {
      try {
        return readFileSync(logs.pathOf(pbxId, 'autoprov'), 'utf8')
          .split('\n')
          .filter(Boolean)
          .map((l) => JSON.parse(l) as Record<string, unknown>);
      } catch {
        return [];
      }
    },
    async close() {
      await edge.close();
      logs.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

export async function seedPbx(db: Db, id: string, provisioningPassword = `secret-${id}`) {
  await db.insert(pbxes).values({
    id,
    name: `PBX ${id}`,
    timeZone: 'Europe/Berlin',
    weeklyCheckDay: 1,
    weeklyCheckMinute: 600,
    provisioningUser: `prov-${id}`,
    provisioningSecretHash: await hashSecret(provisioningPassword),
    sipDomain: `${id}.pbx.test`,
  });
  return { id, sipDomain: `${id}.pbx.test`, provisioningUser: `prov-${id}`, provisioningPassword };
}

/** The models these tests use, with their vendor provisioning keys (catalog data). */
export const TEST_MODELS: Array<{ vendor: Vendor; model: string; provisioningKey: string }> = [
  { vendor: 'yealink', model: 'T54W', provisioningKey: '096' },
  { vendor: 'yealink', model: 'T46U', provisioningKey: '108' },
  { vendor: 'snom', model: 'D785', provisioningKey: 'snomD785' },
  { vendor: 'grandstream', model: 'HT802', provisioningKey: 'HT802' },
  { vendor: 'gigaset', model: 'N670', provisioningKey: 'Nx70' },
];

export async function seedModels(db: Db) {
  await db
    .insert(phoneModels)
    .values(TEST_MODELS.map((m) => ({ id: modelIdOf(m.vendor, m.model), ...m })))
    .onConflictDoNothing();
}

/** Writes a simulated image into the shared store and records it as local firmware of the PBX. */
export async function seedFirmware(
  db: Db,
  fixture: EdgeFixture,
  f: { pbxId: string; modelId: string; version: string; fileName: string; size?: number },
) {
  const image = simulatedFirmwareImage(f.version, f.size ?? 128 * 1024);
  const sha256 = createHash('sha256').update(image).digest('hex');
  const path = blobPath(fixture.deps.config.firmwareStoreDir, sha256);
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, image);
  await db.insert(blobs).values({ sha256, size: image.length }).onConflictDoNothing();
  await db.insert(localFirmware).values({
    pbxId: f.pbxId,
    modelId: f.modelId,
    version: f.version,
    fileName: f.fileName,
    sha256,
    source: 'download',
  });
  return { sha256, size: image.length, image };
}

let testRollouts = 0;
/**
 * A running rollout row for block tests (blocks record their phones under one, as the rollout workflow's start
 * opens it). R12 allows one running rollout per type: an earlier test's running rollout of the type ends first.
 */
export async function openTestRollout(
  db: Db,
  r: { pbxId: string; modelId: string; targetVersion: string; total?: number },
): Promise<string> {
  const id = `test-rollout-${process.pid}-${++testRollouts}`;
  await db
    .update(rollouts)
    .set({ status: 'completed' })
    .where(and(eq(rollouts.pbxId, r.pbxId), eq(rollouts.modelId, r.modelId), eq(rollouts.status, 'running')));
  await insertRollout(db, {
    id,
    workflowId: `pbx/${r.pbxId}/rollout/${r.modelId}`,
    pbxId: r.pbxId,
    modelId: r.modelId,
    targetVersion: r.targetVersion,
    why: 'manual',
    who: 'alice',
    total: r.total ?? 50,
    blocks: 1,
    status: 'running',
  });
  return id;
}

/** The firmware approval a block gives, for tests of what provisioning offers (valid for ten minutes). */
export function approve(db: Db, pbxId: string, phoneIds: number[], version: string) {
  return setFirmwareTargets(db, pbxId, phoneIds, {
    version,
    at: new Date(),
    rolloutId: null,
    expiresAt: new Date(Date.now() + 600_000),
  });
}
