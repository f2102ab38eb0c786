import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { phoneAccounts } from '../../db/schema.ts';
import { repoRoot } from '../../lib/config.ts';
import { createSimulatedFleet } from '../../simulator/accounts.ts';
import { createTestDatabase, type TestDatabase } from '../support/db.ts';
import { type EdgeFixture, seedModels, seedPbx, startEdgeFixture } from '../support/phone-fixtures.ts';

describe('simulator command against a running phone edge', () => {
  let t: TestDatabase;
  let fx: EdgeFixture;

  beforeAll(async () => {
    t = await createTestDatabase();
    fx = await startEdgeFixture(t.db);
  });
  afterAll(async () => {
    await fx?.close();
    await t?.drop();
  });

  it("R6: simulates a PBX's existing accounts, registering with the line their provisioning files give, and reports on SIGTERM", async () => {
    const pbx = await seedPbx(t.db, 'epsilon');
    await seedModels(t.db);
    await createSimulatedFleet(t.db, { pbxId: pbx.id, models: { 'snom-d785': 3, 'gigaset-n670': 2 } });
    const child = spawn(
      process.execPath,
      [
        join(repoRoot, 'simulator/main.ts'),
        '--pbx',
        pbx.id,
        '--existing',
        '--version',
        '10.1.33.33',
        '--provisioning-url',
        fx.edge.provisioningUrlFor(pbx.id),
        '--sip',
        `127.0.0.1:${fx.edge.sipPort}`,
        '--flash-ms',
        '0',
        '--stats-every',
        '0',
      ],
      {
        stdio: ['ignore', 'pipe', 'pipe'],
        env: {
          ...process.env,
          DATABASE_URL: t.url,
          SIM_PROVISIONING_PASSWORD: pbx.provisioningPassword,
          LOG_LEVEL: 'info',
        },
      },
    );
    const seen: Array<Record<string, unknown>> = [];
    let stderr = '';
    child.stderr.on('data', (d) => {
      stderr += d;
    });
    const exited = new Promise<number | null>((r) => child.once('exit', r));
    const lineOf = (msg: string) =>
      new Promise<Record<string, unknown>>((resolve, reject) => {
        const rl = createInterface({ input: child.stdout });
        rl.on('line', (raw) => {
          const line = JSON.parse(raw) as Record<string, unknown>;
          seen.push(line);
          if (line.msg === msg) resolve(line);
        });
        void exited.then((code) => reject(new Error(`simulator exited (${code}): ${stderr}`)));
      });
    const booted = await lineOf('fleet booted');
    expect(booted).toMatchObject({ phones: 5, registered: 5, errors: 0 });
    const rows = await t.db.select().from(phoneAccounts).where(eq(phoneAccounts.pbxId, pbx.id));
    expect(rows.map((r) => r.userAgent?.split(/[ /]/)[0]).sort()).toEqual(
      // Phones provision first and then register: the last User-Agent is the SIP one.
      ['Gigaset', 'Gigaset', 'snomD785', 'snomD785', 'snomD785'].sort(),
    );
    expect(rows.every((r) => r.sipContact?.startsWith('sip:p') && r.lastProvisionedAt)).toBe(true);
    const stopped = new Promise<Record<string, unknown>>((resolve) => {
      const check = setInterval(() => {
        const line = seen.find((l) => l.msg === 'fleet stopped');
        if (line) {
          clearInterval(check);
          resolve(line);
        }
      }, 20);
    });
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(await stopped).toMatchObject({
      phones: 5,
      cpuUserMs: expect.any(Number),
      peakRssMiB: expect.any(Number),
    });
  });
});
