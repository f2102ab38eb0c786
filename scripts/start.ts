/**
 * README command 1: starts everything on embedded defaults and keeps it running until Ctrl-C.
 *   Postgres (embedded, data in .data/postgres) unless DATABASE_URL is set
 *   Temporal dev server with Web UI on :8233 (data in .data/temporal/dev.db) unless TEMPORAL_ADDRESS is set
 *   the reference firmware server (signed catalog + files, data in .data/firmware-server) on :8090
 *   the worker (lifecycle, downloads, phone edge: provisioning :8180, SIP udp :5060) and the API + web page on :3000
 *   the demo (DEMO=0 switches it off): PBX "demo" with phone accounts, and a simulated phone fleet
 * A child that exits on its own (crash, kill -9) is started again with a backoff (lib/supervisor.ts): the durable
 * state is in Temporal and Postgres. One that crashes 5 times within 60 s is crash-looping: everything stops and
 * the supervisor says which child it was. Ctrl-C stops the children in order (simulator, API, worker, firmware
 * server, Temporal, Postgres), each drained within its grace period (API 130 s, worker 300 s); a second Ctrl-C stops
 * them at once. A second start reuses all data.
 */
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { writeDemoImageFirmware } from '../activities/image-firmware.ts';
import { spawnEmbeddedPostgres } from '../db/embedded.ts';
import { migrateDatabase } from '../db/migrate.ts';
import { EMBEDDED_DATABASE, loadConfig, repoRoot } from '../lib/config.ts';
import { isPortOpen, waitForPort } from '../lib/ports.ts';
import { type ChildSpec, Supervisor } from '../lib/supervisor.ts';
import { SEARCH_ATTRIBUTES } from '../workflows/search-attributes.ts';
import { type DemoState, prepareDemo } from './demo.ts';
import { provisionTools } from './provision-tools.ts';

if (Number(process.versions.node.split('.')[0]) < 24) {
  console.error(
    `Node ${process.versions.node}: this project runs on Node 24 (npm install puts it in node_modules/.bin)`,
  );
  process.exit(1);
}

const demo = process.env.DEMO !== '0';
const say = (msg: string) => process.stdout.write(`\x1b[1m▶ ${msg}\x1b[0m\n`);
const config = loadConfig();
const env: NodeJS.ProcessEnv = { ...process.env, DATA_DIR: config.dataDir };
if (process.stdout.isTTY && !process.env.LOG_PRETTY) env.LOG_PRETTY = '1';
mkdirSync(config.dataDir, { recursive: true });

/** Before and after the supervised children: Postgres (stopped last) and a dev server started by the SDK. */
const stoppers: Array<{ name: string; stop: () => Promise<void> }> = [];
const supervisor = new Supervisor({
  say: (msg) => console.error(`\x1b[1m▶ ${msg}\x1b[0m`),
  onCrashLoop: () => void shutdown(1),
});
/** Grace periods of the children on SIGTERM (the README's "Graceful shutdown" says the same). */
const GRACE_MS = { api: 130_000, worker: 310_000, other: 10_000 };
let shuttingDown = false;
async function shutdown(code: number) {
  if (shuttingDown) return;
  shuttingDown = true;
  say('stopping (in-flight requests and activities drain; Ctrl-C again to stop at once)...');
  process.once('SIGINT', () => {
    say('stopping at once');
    supervisor.killAll();
  });
  await supervisor.stopAll((name) => say(`${name} stopped`));
  for (const s of stoppers.reverse()) {
    try {
      await s.stop();
      say(`${s.name} stopped`);
    } catch (err) {
      console.error(`${s.name} did not stop cleanly: ${err instanceof Error ? err.message : err}`);
    }
  }
  process.exit(code);
}
process.once('SIGINT', () => void shutdown(0));
process.on('SIGTERM', () => void shutdown(0));

function supervise(spec: ChildSpec) {
  return supervisor.add({ stopGraceMs: GRACE_MS.other, ...spec });
}

try {
  const started = Date.now();
  say('tools');
  const tools = await provisionTools();

  // Postgres
  if (!config.database.url) {
    say(`Postgres (embedded, data in ${config.database.embeddedDir}, port ${config.database.embeddedPort})`);
    const pg = await spawnEmbeddedPostgres({
      dir: config.database.embeddedDir,
      port: config.database.embeddedPort,
      database: EMBEDDED_DATABASE,
      detached: true,
    });
    stoppers.push({ name: 'postgres', stop: () => pg.stop() });
    env.DATABASE_URL = pg.url;
  } else {
    say('Postgres at DATABASE_URL');
    env.DATABASE_URL = config.database.url;
  }
  await migrateDatabase(env.DATABASE_URL as string);

  // Temporal
  const temporalGiven = Boolean(process.env.TEMPORAL_ADDRESS);
  if (!temporalGiven) {
    const [host, portText] = config.temporal.address.split(':');
    const port = Number(portText);
    const uiPort = port + 1000;
    const pidFile = join(config.dataDir, 'temporal', 'dev-server.pid');
    await stopLeftoverDevServer(pidFile);
    if (await isPortOpen(port, host)) {
      throw new Error(
        `port ${port} is taken: stop what runs there, or set TEMPORAL_ADDRESS to use that server`,
      );
    }
    const dbFile = join(config.dataDir, 'temporal', 'dev.db');
    mkdirSync(join(config.dataDir, 'temporal'), { recursive: true });
    say(`Temporal dev server on ${config.temporal.address}, UI on :${uiPort} (data in ${dbFile})`);
    const searchAttributeArgs = Object.entries(SEARCH_ATTRIBUTES).flatMap(([k, t]) => [
      '--search-attribute',
      `${k}=${t}`,
    ]);
    if (tools.temporalCli) {
      const temporal = supervise({
        name: 'temporal',
        command: tools.temporalCli,
        // The dev server cannot notice a supervisor that died; the next start stops it from this file.
        onStart: (p) => {
          writeFileSync(pidFile, String(p.child.pid));
          void p.exited.then(() => rmSync(pidFile, { force: true }));
        },
        args: [
          'server',
          'start-dev',
          '--ip',
          host ?? '127.0.0.1',
          '--port',
          String(port),
          '--ui-port',
          String(uiPort),
          '--db-filename',
          dbFile,
          '--namespace',
          config.temporal.namespace,
          '--log-level',
          'error',
          ...searchAttributeArgs,
        ],
      });
      await Promise.race([
        waitForPort(port, 30_000, host),
        temporal.exited.then(() => {
          throw new Error('the Temporal dev server exited during start');
        }),
      ]);
    } else {
      // No Go toolchain and no `temporal` on PATH: the SDK downloads the dev server (needs internet).
      const { defineSearchAttributeKey } = await import('@temporalio/common');
      const devEnv = await TestWorkflowEnvironment.createLocal({
        server: {
          ip: host ?? '127.0.0.1',
          port,
          ui: true,
          uiPort,
          dbFilename: dbFile,
          namespace: config.temporal.namespace,
          searchAttributes: Object.keys(SEARCH_ATTRIBUTES).map((k) => defineSearchAttributeKey(k, 'KEYWORD')),
        },
      });
      stoppers.push({ name: 'temporal', stop: () => devEnv.teardown() });
    }
  } else {
    say(`Temporal at ${config.temporal.address} (namespace ${config.temporal.namespace})`);
  }

  const firmwareServerPort = Number(new URL(config.firmwareServer.url).port || 80);
  if (!process.env.FIRMWARE_SERVER_URL) {
    say(
      `reference firmware server on ${config.firmwareServer.url} (data in ${config.firmwareServer.dataDir})`,
    );
    const fw = supervise({
      name: 'firmware-server',
      command: process.execPath,
      args: [join(repoRoot, 'firmware-server/main.ts')],
      env,
    });
    await Promise.race([
      waitForPort(firmwareServerPort, 120_000),
      fw.exited.then(() => {
        throw new Error('the firmware server exited during start');
      }),
    ]);
  } else {
    say(`firmware server at ${config.firmwareServer.url}`);
  }
  if (demo) await writeDemoImageFirmware(config.imageFirmwareDir);

  say('worker');
  supervise({
    name: 'worker',
    command: process.execPath,
    args: [join(repoRoot, 'worker/main.ts')],
    env,
    stopGraceMs: GRACE_MS.worker,
  });
  say('API');
  const api = supervise({
    name: 'api',
    command: process.execPath,
    args: [join(repoRoot, 'api/main.ts')],
    env,
    stopGraceMs: GRACE_MS.api,
  });
  await Promise.race([
    waitForPort(config.api.port, 60_000),
    api.exited.then(() => {
      throw new Error('the API exited during start');
    }),
  ]);

  let demoState: DemoState | undefined;
  if (demo) {
    demoState = await prepareDemo({
      apiUrl: config.api.publicUrl,
      databaseUrl: env.DATABASE_URL as string,
      dataDir: config.dataDir,
      say,
    });
    say('demo: simulated phone fleet (flash time 20 s)');
    supervise({
      name: 'phones',
      command: process.execPath,
      args: [
        join(repoRoot, 'simulator/main.ts'),
        '--pbx',
        demoState.pbxId,
        '--existing',
        '--flash-ms',
        process.env.DEMO_FLASH_MS ?? '20000',
        '--stats-every',
        '60',
      ],
      env: { ...env, SIM_PROVISIONING_PASSWORD: demoState.provisioningPassword },
    });
  }

  const secs = ((Date.now() - started) / 1000).toFixed(1);
  const uiUrl = temporalGiven
    ? config.temporal.uiUrl
    : `http://127.0.0.1:${Number(config.temporal.address.split(':')[1]) + 1000}`;
  process.stdout.write(`
\x1b[1mEverything is up (${secs} s). Ctrl-C stops it all; the next start reuses the data in ${config.dataDir}.\x1b[0m
  API + health      ${config.api.publicUrl}/health
  Temporal UI       ${uiUrl}
  Temporal          ${config.temporal.address} (namespace ${config.temporal.namespace})
  Postgres          ${(env.DATABASE_URL as string).replace(/:[^:@/]+@/, ':***@')}
  Firmware server   ${config.firmwareServer.url}/catalog.json
  Phone edge        ${config.provisioning.publicUrl}/p/<pbx>/ (HTTP), udp ${config.sip.publicHost}:${config.sip.port} (SIP)
`);
  if (demoState) {
    process.stdout.write(`
\x1b[1mDemo\x1b[0m: PBX "${demoState.pbxId}" with simulated phones. Open the Firmwares page and sign in with the admin token:
  ${config.api.publicUrl}/pbx/${demoState.pbxId}/firmwares
  token: ${demoState.token}
Try "Update now", then follow the rollout in the Temporal UI (${uiUrl}).
`);
  }
} catch (err) {
  console.error(`start failed: ${err instanceof Error ? err.message : String(err)}`);
  await shutdown(1);
}

/** A dev server left behind by a supervisor that was killed: stop it (only if it is ours, by its command line). */
async function stopLeftoverDevServer(pidFile: string): Promise<void> {
  let pid: number;
  try {
    pid = Number(readFileSync(pidFile, 'utf8'));
  } catch {
    return;
  }
  let cmdline = '';
  try {
    cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
  } catch {}
  if (cmdline.includes('start-dev') && cmdline.includes(pidFile.replace(/dev-server\.pid$/, 'dev.db'))) {
    say(`stopping the Temporal dev server a previous run left behind (pid ${pid})`);
    process.kill(pid, 'SIGTERM');
    for (let i = 0; i < 100 && existsSync(`/proc/${pid}`); i++) await new Promise((r) => setTimeout(r, 100));
  }
  rmSync(pidFile, { force: true });
}
