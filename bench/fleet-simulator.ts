/**
 * The simulator side of `bench:rollout`: every PBX's simulated phones (simulator/fleet.ts, the vendors' documented
 * behaviour) in ONE process, from a JSON file holding an array of fleet specs. Prints `{"event":"booted",...}` once
 * every phone of every fleet has booted, and `{"event":"stopped",...}` with its CPU and peak RSS on SIGTERM.
 *
 *   node bench/fleet-simulator.ts <fleets.json> [--boot-spread-ms 30000] [--http-connections 8]
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { stopWhenSupervisorGone } from '../lib/supervised.ts';
import { startFleet } from '../simulator/fleet.ts';
import type { FleetSpec } from '../simulator/types.ts';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    'boot-spread-ms': { type: 'string', default: '30000' },
    'http-connections': { type: 'string', default: '8' },
  },
});
stopWhenSupervisorGone();
const specs = JSON.parse(readFileSync(positionals[0] as string, 'utf8')) as FleetSpec[];
const emit = (event: string, data: Record<string, unknown> = {}) =>
  process.stdout.write(`${JSON.stringify({ event, ...data })}\n`);
const usage = () => {
  const u = process.resourceUsage();
  return {
    cpuMs: Math.round((u.userCPUTime + u.systemCPUTime) / 1000),
    peakRssMiB: Math.round(u.maxRSS / 1024),
  };
};
const fleets = await Promise.all(
  specs.map((spec) =>
    startFleet(spec, {
      flashMs: 0,
      bootSpreadMs: Number(values['boot-spread-ms']),
      httpConnections: Number(values['http-connections']),
      maxConcurrentBoots: Math.max(16, Math.ceil(256 / specs.length)),
    }),
  ),
);
await Promise.all(fleets.map((f) => f.booted));
const registered = fleets.reduce((n, f) => n + f.stats().registered, 0);
emit('booted', { phones: fleets.reduce((n, f) => n + f.phones.length, 0), registered, ...usage() });
process.on('SIGTERM', async () => {
  const stats = fleets.map((f) => f.stats());
  await Promise.all(fleets.map((f) => f.close()));
  emit('stopped', {
    ...usage(),
    sip: stats.reduce(
      (s, x) => ({ sent: s.sent + x.sip.sent, retransmissions: s.retransmissions + x.sip.retransmissions }),
      { sent: 0, retransmissions: 0 },
    ),
    errors: stats.reduce((n, x) => n + x.errors, 0),
  });
  process.exit(0);
});
