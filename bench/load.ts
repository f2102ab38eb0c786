/**
 * HTTP load for the API benchmarks, in a process of its own (so the API's CPU is the API's): `--connections`
 * closed-loop clients for `--seconds`, each sending its next request as soon as the previous answered. Prints one
 * JSON line: requests, errors (non-2xx), requests per second, latency p50/p95/p99/max in ms, and its own CPU.
 *
 *   node bench/load.ts --url http://127.0.0.1:3000/api/pbxes/x/overview --token T [--connections 100] [--seconds 10]
 */
import { parseArgs } from 'node:util';
import { Pool } from 'undici';

export interface LoadResult {
  requests: number;
  errors: number;
  perSecond: number;
  p50: number;
  p95: number;
  p99: number;
  max: number;
  cpuMs: number;
}

export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] as number;
}

if (import.meta.main) {
  const { values } = parseArgs({
    options: {
      url: { type: 'string' },
      token: { type: 'string' },
      connections: { type: 'string', default: '100' },
      seconds: { type: 'string', default: '10' },
    },
  });
  if (!values.url) throw new Error('--url is required');
  const url = new URL(values.url);
  const connections = Number(values.connections);
  const pool = new Pool(url.origin, { connections, pipelining: 1 });
  const headers = values.token ? { authorization: `Bearer ${values.token}` } : {};
  const path = `${url.pathname}${url.search}`;
  const latencies: number[] = [];
  let errors = 0;
  const cpu = process.cpuUsage();
  const started = performance.now();
  const until = started + Number(values.seconds) * 1000;
  await Promise.all(
    Array.from({ length: connections }, async () => {
      while (performance.now() < until) {
        const t = performance.now();
        try {
          const res = await pool.request({ method: 'GET', path, headers });
          await res.body.dump();
          if (res.statusCode >= 300) errors++;
        } catch {
          errors++;
        }
        latencies.push(performance.now() - t);
      }
    }),
  );
  const secs = (performance.now() - started) / 1000;
  const used = process.cpuUsage(cpu);
  await pool.close();
  latencies.sort((a, b) => a - b);
  const r = (x: number) => Math.round(x * 10) / 10;
  const result: LoadResult = {
    requests: latencies.length,
    errors,
    perSecond: Math.round(latencies.length / secs),
    p50: r(percentile(latencies, 50)),
    p95: r(percentile(latencies, 95)),
    p99: r(percentile(latencies, 99)),
    max: r(latencies.at(-1) ?? 0),
    cpuMs: Math.round((used.user + used.system) / 1000),
  };
  process.stdout.write(`${JSON.stringify(result)}\n`);
}
