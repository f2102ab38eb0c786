/**
 * Nothing is lost on a crash: a real worker process is killed with SIGKILL in the middle of a rollout; a new
 * worker process picks the rollout up and every phone ends on the target, each recorded once.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { and, count, eq, isNotNull } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { journal, phoneAccounts, rolloutResults, rollouts } from '../../db/schema.ts';
import { loadConfig, repoRoot } from '../../lib/config.ts';
import { freePort, waitForPort } from '../../lib/ports.ts';
import { createSimulatedFleet, fleetSpecOf } from '../../simulator/accounts.ts';
import { type Fleet, startFleet } from '../../simulator/fleet.ts';
import type { RolloutArgs } from '../../workflows/messages.ts';
import { createTestDatabase, type TestDatabase } from '../support/db.ts';
import { type EdgeFixture, seedFirmware, seedModels, seedPbx } from '../support/phone-fixtures.ts';
import { uniqueTaskQueue } from '../support/temporal.ts';
import { until } from '../support/until.ts';

const PHONES = 60;
const TARGET = '96.86.0.70';

describe('crash recovery on the dev server', () => {
  let t: TestDatabase;
  let dataDir: string;
  let fleet: Fleet | undefined;
  const workers: ChildProcess[] = [];
  let client: Client;

  beforeAll(async () => {
    t = await createTestDatabase();
    dataDir = mkdtempSync(join(tmpdir(), 'pfd-crash-'));
    client = new Client({ connection: await Connection.connect({ address: inject('temporalAddress') }) });
  });
  afterAll(async () => {
    for (const w of workers) w.kill('SIGKILL');
    await fleet?.close();
    await client?.connection.close();
    await t?.drop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('a worker killed mid-rollout loses nothing: another worker finishes every block (R12)', async () => {
    const queue = uniqueTaskQueue('crash');
    const [provisioningPort, sipPort] = [await freePort(), await freePort()];
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      DATA_DIR: dataDir,
      DATABASE_URL: t.url,
      TEMPORAL_ADDRESS: inject('temporalAddress'),
      TASK_QUEUE: queue,
      TASK_QUEUE_DOWNLOADS: `${queue}-downloads`,
      TASK_QUEUE_PHONES: `${queue}-phones`,
      PROVISIONING_PORT: String(provisioningPort),
      SIP_PORT: String(sipPort),
      SIP_HOST: '127.0.0.1',
      WORKFLOW_BUNDLE_PATH: inject('workflowBundlePath'),
      LOG_LEVEL: 'warn',
    };
    const startWorker = async () => {
      const w = spawn(process.execPath, [join(repoRoot, 'worker/main.ts')], {
        env,
        stdio: ['ignore', process.env.DEBUG_WORKER ? 'inherit' : 'ignore', 'inherit'],
      });
      workers.push(w);
      await waitForPort(provisioningPort, 30_000);
      return w;
    };

    const pbx = await seedPbx(t.db, 'crash');
    await seedModels(t.db);
    const config = loadConfig({ DATA_DIR: dataDir });
    await seedFirmware(t.db, { deps: { config } } as EdgeFixture, {
      pbxId: pbx.id,
      modelId: 'yealink-t54w',
      version: TARGET,
      fileName: `T54W-${TARGET}.rom`,
    });
    const accounts = await createSimulatedFleet(t.db, {
      pbxId: pbx.id,
      models: { 'yealink-t54w': PHONES },
      initialVersion: '96.86.0.45',
    });

    const first = await startWorker();
    fleet = await startFleet(
      fleetSpecOf(accounts, {
        provisioningUrl: `http://127.0.0.1:${provisioningPort}/p/${pbx.id}/`,
        provisioningPassword: pbx.provisioningPassword,
        sipHost: '127.0.0.1',
        sipPort,
      }),
      // Phones whose REGISTER fails while no edge runs retry as real ones do (sooner here than their 30 s).
      { flashMs: 1500, bootSpreadMs: 500, registerRetryMs: 3_000 },
    );
    await fleet.booted;
    await until('all phones registered with their version', async () => {
      const [row] = await t.db
        .select({ n: count() })
        .from(phoneAccounts)
        .where(and(isNotNull(phoneAccounts.sipContact), eq(phoneAccounts.installedVersion, '96.86.0.45')));
      return row?.n === PHONES;
    });

    const handle = await client.workflow.start('phoneRollout', {
      workflowId: 'pbx/crash/rollout/yealink-t54w',
      taskQueue: queue,
      args: [
        {
          pbxId: pbx.id,
          modelId: 'yealink-t54w',
          model: 'T54W',
          targetVersion: TARGET,
          why: 'manual',
          who: 'test',
          queues: { downloads: `${queue}-downloads`, phones: `${queue}-phones` },
        } satisfies RolloutArgs,
      ],
    });

    // Kill the worker once block 2 is in flight (the canary of 5 is done, issue 13): some phones already on the
    // target, most not yet.
    await until('block 2 to be under way', async () => {
      const [row] = await t.db
        .select({ n: count() })
        .from(phoneAccounts)
        .where(eq(phoneAccounts.installedVersion, TARGET));
      return (row?.n ?? 0) >= 15;
    });
    first.kill('SIGKILL');
    await new Promise((r) => first.once('exit', r));
    const [midway] = await t.db
      .select({ n: count() })
      .from(phoneAccounts)
      .where(eq(phoneAccounts.installedVersion, TARGET));
    expect(midway?.n).toBeLessThan(PHONES);

    await startWorker();
    const result = await handle.result();
    expect(result).toMatchObject({
      status: 'completed',
      total: PHONES,
      done: PHONES,
      failed: 0,
      updated: PHONES,
      blocks: 3, // the canary of 5, 50, 5
    });

    const phones = await t.db.select().from(phoneAccounts).where(eq(phoneAccounts.pbxId, pbx.id));
    expect(phones.every((p) => p.installedVersion === TARGET)).toBe(true);
    const [run] = await t.db.select().from(rollouts);
    expect(run).toMatchObject({
      status: 'completed',
      total: PHONES,
      updated: PHONES,
      failed: 0,
      blocksDone: 3,
    });
    const results = await t.db
      .select()
      .from(rolloutResults)
      .where(eq(rolloutResults.rolloutId, run?.id as string));
    expect(results).toHaveLength(PHONES);
    expect(new Set(results.map((r) => r.phoneAccountId)).size).toBe(PHONES);
    // Phones this rollout updated before the kill stay `updated` (not `already-current`), and a phone notified
    // again is only one whose download the dead edge cut off: no phone got a NOTIFY while it had its firmware.
    expect(results.filter((r) => r.outcome !== 'updated')).toEqual([]);
    const again = (
      await t.db.select().from(journal).where(eq(journal.action, 'phones.notified-again'))
    ).flatMap((j) => j.details.phones as string[]);
    // Every extra NOTIFY is journaled (a retried block after the kill, or a stale fetch within a block), at most
    // three NOTIFYs per phone in all.
    for (const p of fleet.phones) {
      const extra = again.filter((mac) => mac === p.spec.mac).length;
      expect({ mac: p.spec.mac, notifies: p.notifies }).toEqual({ mac: p.spec.mac, notifies: 1 + extra });
      expect(p.notifies).toBeLessThanOrEqual(3);
    }
  }, 180_000);
});
