/**
 * Fixtures for firmware tests: a real reference firmware server on an ephemeral loopback port (small generated
 * files), PBX-side config and activity deps pointing at it, and PBX / phone account rows.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DefaultLogger } from '@temporalio/worker';
import pino from 'pino';
import type { ActivityDeps } from '../../activities/deps.ts';
import type { Db } from '../../db/client.ts';
import { pbxes, phoneAccounts } from '../../db/schema.ts';
import {
  type FirmwareServer,
  type FirmwareServerFaults,
  startFirmwareServer,
} from '../../firmware-server/server.ts';
import { type Config, loadConfig } from '../../lib/config.ts';
import { PbxLogs } from '../../lib/pbx-logs.ts';

/** Generated files are ~1/2000 of their real size in tests (T54W ≈ 24 kB, T58W ≈ 360 kB). */
export const TEST_SIZE_SCALE = 0.0005;

export const silentLogger = pino({ level: 'silent' });

/** For MockActivityEnvironment: expected failures are asserted by the tests, not printed. */
export const quietActivityLogger = new DefaultLogger('ERROR', () => {});

export interface TestFirmwareServer extends FirmwareServer {
  cleanup(): Promise<void>;
}

export async function startTestFirmwareServer(
  options: { faults?: FirmwareServerFaults; sizeScale?: number; dataDir?: string } = {},
): Promise<TestFirmwareServer> {
  const dataDir = options.dataDir ?? mkdtempSync(join(tmpdir(), 'pfd-fwserver-'));
  const server = await startFirmwareServer({
    dataDir,
    port: 0,
    host: '127.0.0.1',
    sizeScale: options.sizeScale ?? TEST_SIZE_SCALE,
    logger: silentLogger,
    ...(options.faults ? { faults: options.faults } : {}),
  });
  return {
    ...server,
    async cleanup() {
      await server.close();
      if (!options.dataDir) rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

export interface PbxSide {
  config: Config;
  deps: ActivityDeps;
  dir: string;
  cleanup(): void;
}

/** PBX-side config + deps with their own store, image folder and log dir, trusting `server`'s key. */
export function pbxSide(
  db: Db,
  server: { url: string; publicKey: string },
  env: Record<string, string> = {},
): PbxSide {
  const dir = mkdtempSync(join(tmpdir(), 'pfd-pbxside-'));
  const config = loadConfig({
    DATA_DIR: dir,
    FIRMWARE_SERVER_URL: server.url,
    CATALOG_PUBLIC_KEY: server.publicKey,
    FIRMWARE_STORE_DIR: join(dir, 'store'),
    IMAGE_FIRMWARE_DIR: join(dir, 'image'),
    LOG_DIR: join(dir, 'logs'),
    FIRMWARE_HTTP_TIMEOUT_MS: '5000',
    ...env,
  });
  const logs = new PbxLogs(config.logDir);
  return {
    config,
    dir,
    deps: { config, db, logs, logger: silentLogger },
    cleanup() {
      logs.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export async function insertPbx(db: Db, id: string): Promise<void> {
  await db.insert(pbxes).values({
    id,
    name: `PBX ${id}`,
    timeZone: 'Europe/Berlin',
    weeklyCheckDay: 2,
    weeklyCheckMinute: 600,
    provisioningUser: 'prov',
    provisioningSecretHash: 'x',
    sipDomain: `${id}.pbx.test`,
  });
}

/** Adds `count` phone accounts of a type (the model must be known: sync the catalog first). Returns their ids. */
export async function addAccounts(
  db: Db,
  pbxId: string,
  modelId: string,
  count = 1,
  options: { active?: boolean } = {},
): Promise<number[]> {
  const rows = await db
    .insert(phoneAccounts)
    .values(
      Array.from({ length: count }, () => ({
        pbxId,
        modelId,
        mac: randomBytes(6).toString('hex'),
        extension: String(100 + Math.floor(Math.random() * 1e7)),
        active: options.active ?? true,
      })),
    )
    .returning({ id: phoneAccounts.id });
  return rows.map((r) => r.id);
}

/** The JSON lines of one of a PBX's logs (R14). */
export function readPbxLog(
  config: Config,
  pbxId: string,
  name: 'firmwares' | 'firmware-journal',
): Array<Record<string, unknown>> {
  try {
    return readFileSync(join(config.logDir, pbxId, `${name}.log`), 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as Record<string, unknown>);
  } catch {
    return [];
  }
}
