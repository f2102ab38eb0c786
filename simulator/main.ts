/**
 * Fleet simulator: N phones of chosen models in one process, speaking the vendors' SIP and provisioning ways
 * against the phone edge of a PBX.
 *
 *   npm run simulator -- --pbx demo --models yealink-t54w=100,snom-d785=20 --provisioning-password <secret>
 *   npm run simulator -- --pbx demo --existing --flash-ms 0 --fail offline=5%,download-aborts=2%
 *   npm run simulator -- --fleet fleet.json --flash-ms 0
 *
 * With --models it creates the phone accounts (DATABASE_URL); with --existing it simulates the PBX's accounts
 * (credentials from their stored SIP HA1); with --fleet it reads a fleet spec (simulator/types.ts FleetSpec).
 * Logs JSON lines: 'fleet booted', a 'fleet stats' line every --stats-every seconds, and on SIGINT/SIGTERM
 * 'fleet stopped' with the process's CPU time and peak RSS.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { databaseUrlForTools, loadConfig } from '../lib/config.ts';
import { createLogger } from '../lib/logger.ts';
import { stopWhenSupervisorGone } from '../lib/supervised.ts';
import { startFleet } from './fleet.ts';
import { FAILURES, type Failure, type FleetSpec } from './types.ts';

const USAGE = `usage: simulator (--pbx ID (--models MODEL=N,... | --existing) | --fleet FILE) [options]
  --provisioning-url URL        default PROVISIONING_PUBLIC_URL/p/<pbx>/
  --provisioning-password PW    the PBX's provisioning secret (or env SIM_PROVISIONING_PASSWORD)
  --sip HOST:PORT               default SIP_PUBLIC_HOST:SIP_PORT
  --version V                   version the new phones run (default: a plausible old one per model)
  --flash-ms MS                 flash time before reboot (default 60000)
  --fail F=P%,...               failure shares: ${FAILURES.join(', ')}
  --fail-mac MAC=F,...          failure of single phones
  --sockets N  --http-connections N  --boot-spread-ms MS  --max-booting N  --expires S  --seed N
  --no-boot-provisioning        register only after boot
  --write-fleet FILE            save the fleet spec (with SIP passwords) and go on
  --stats-every S               stats line interval (default 10, 0 = off)`;

function fail(message: string): never {
  process.stderr.write(`${message}\n${USAGE}\n`);
  process.exit(2);
}

function pairs(arg: string | undefined): Array<[string, string]> {
  if (!arg) return [];
  return arg.split(',').map((kv) => {
    const [k, v] = kv.split('=');
    if (!k || v === undefined) fail(`expected KEY=VALUE in ${JSON.stringify(arg)}`);
    return [k.trim(), v.trim()];
  });
}

function whole(name: string, v: string | undefined, min = 0): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < min) fail(`--${name} must be a whole number ≥ ${min}`);
  return n;
}

function isFailure(v: string): v is Failure {
  return (FAILURES as readonly string[]).includes(v);
}

const { values: a } = parseArgs({
  options: {
    pbx: { type: 'string' },
    models: { type: 'string' },
    existing: { type: 'boolean' },
    fleet: { type: 'string' },
    'provisioning-url': { type: 'string' },
    'provisioning-password': { type: 'string' },
    sip: { type: 'string' },
    version: { type: 'string' },
    'flash-ms': { type: 'string' },
    fail: { type: 'string' },
    'fail-mac': { type: 'string' },
    sockets: { type: 'string' },
    'http-connections': { type: 'string' },
    'boot-spread-ms': { type: 'string' },
    'max-booting': { type: 'string' },
    expires: { type: 'string' },
    seed: { type: 'string' },
    'no-boot-provisioning': { type: 'boolean' },
    'write-fleet': { type: 'string' },
    'stats-every': { type: 'string' },
    help: { type: 'boolean' },
  },
});
if (a.help) {
  process.stdout.write(`${USAGE}\n`);
  process.exit(0);
}

stopWhenSupervisorGone();
const config = loadConfig();
const logger = createLogger('simulator', config.logLevel);

const shares: Partial<Record<Failure, number>> = {};
for (const [k, v] of pairs(a.fail)) {
  if (!isFailure(k)) fail(`unknown failure ${k} (${FAILURES.join(', ')})`);
  const pct = /^(\d+(?:\.\d+)?)%$/.exec(v);
  const share = pct ? Number(pct[1]) / 100 : Number(v);
  if (!(share >= 0 && share <= 1)) fail(`failure share ${v} must be 0..1 or 0%..100%`);
  shares[k] = share;
}
const perMac = new Map<string, Failure>();
for (const [mac, f] of pairs(a['fail-mac'])) {
  if (!isFailure(f)) fail(`unknown failure ${f} (${FAILURES.join(', ')})`);
  perMac.set(mac.toLowerCase().replace(/[:-]/g, ''), f);
}

let spec: FleetSpec;
if (a.fleet) {
  spec = JSON.parse(readFileSync(a.fleet, 'utf8')) as FleetSpec;
} else if (a.pbx && (a.models || a.existing)) {
  const password = a['provisioning-password'] ?? process.env.SIM_PROVISIONING_PASSWORD;
  if (!password) fail('--provisioning-password (or SIM_PROVISIONING_PASSWORD) is needed');
  const [host, port] = (a.sip ?? `${config.sip.publicHost}:${config.sip.port}`).split(':');
  if (!host || !port) fail('--sip must be HOST:PORT');
  const models = a.models
    ? Object.fromEntries(pairs(a.models).map(([m, n]) => [m, whole(`models ${m}`, n, 0) as number]))
    : undefined;
  // Loaded only here: the database layer costs far more memory than the simulator itself.
  const { fleetFromDatabase } = await import('./fleet-from-db.ts');
  spec = await fleetFromDatabase(databaseUrlForTools(config), {
    pbxId: a.pbx,
    models,
    initialVersion: a.version,
    endpoints: {
      provisioningUrl:
        a['provisioning-url'] ?? `${config.provisioning.publicUrl.replace(/\/$/, '')}/p/${a.pbx}/`,
      provisioningPassword: password,
      sipHost: host,
      sipPort: whole('sip port', port, 1) as number,
    },
  });
  logger.info({ pbx: a.pbx, phones: spec.phones.length, created: Boolean(models) }, 'fleet loaded');
} else {
  fail('say which phones: --pbx with --models or --existing, or --fleet');
}
if (a['write-fleet']) writeFileSync(a['write-fleet'], JSON.stringify(spec));
spec.phones = spec.phones.map((p) => ({ ...p, failure: perMac.get(p.mac) ?? p.failure }));

const started = Date.now();
const fleet = await startFleet(spec, {
  flashMs: whole('flash-ms', a['flash-ms']) ?? 60_000,
  sockets: whole('sockets', a.sockets, 1),
  httpConnections: whole('http-connections', a['http-connections'], 1),
  bootSpreadMs: whole('boot-spread-ms', a['boot-spread-ms']),
  maxConcurrentBoots: whole('max-booting', a['max-booting'], 1),
  expires: whole('expires', a.expires, 1),
  seed: whole('seed', a.seed),
  provisionAtBoot: !a['no-boot-provisioning'],
  failures: shares,
  logger,
});
const usage = () => {
  const u = process.resourceUsage();
  return {
    cpuUserMs: Math.round(u.userCPUTime / 1000),
    cpuSystemMs: Math.round(u.systemCPUTime / 1000),
    peakRssMiB: Math.round(u.maxRSS / 1024),
    rssMiB: Math.round(process.memoryUsage.rss() / 1024 / 1024),
  };
};
logger.info({ phones: spec.phones.length, pbx: spec.pbxId }, 'fleet booting');
const statsEvery = whole('stats-every', a['stats-every']) ?? 10;
const ticker =
  statsEvery > 0
    ? setInterval(() => logger.info({ ...fleet.stats(), ...usage() }, 'fleet stats'), statsEvery * 1000)
    : undefined;
void fleet.booted.then(() =>
  logger.info({ ...fleet.stats(), bootMs: Date.now() - started, ...usage() }, 'fleet booted'),
);

let stopping = false;
async function stop() {
  if (stopping) return;
  stopping = true;
  clearInterval(ticker);
  const stats = fleet.stats();
  await fleet.close();
  logger.info({ ...stats, runMs: Date.now() - started, ...usage() }, 'fleet stopped');
  process.exit(0);
}
process.on('SIGINT', () => void stop());
process.on('SIGTERM', () => void stop());
