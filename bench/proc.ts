/**
 * What the benchmarks read about processes and the machine (Linux /proc): CPU time of a process and of its
 * descendants (Postgres forks one backend per connection), peak RSS, and the load average with what else ran.
 */
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { availableParallelism, loadavg } from 'node:os';

const TICK_MS = (() => {
  try {
    return 1000 / Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim());
  } catch {
    return 10;
  }
})();

interface Stat {
  pid: number;
  ppid: number;
  /** user + system, ms, of the process itself (threads included). */
  cpuMs: number;
  /** user + system of its children that exited and were waited for. */
  reapedMs: number;
}

function readStat(pid: number): Stat | null {
  try {
    const raw = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name is in parentheses and may hold spaces: fields count from after the last ')'.
    const f = raw.slice(raw.lastIndexOf(')') + 2).split(' ');
    return {
      pid,
      ppid: Number(f[1]),
      cpuMs: (Number(f[11]) + Number(f[12])) * TICK_MS,
      reapedMs: (Number(f[13]) + Number(f[14])) * TICK_MS,
    };
  } catch {
    return null;
  }
}

function allStats(): Stat[] {
  const out: Stat[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const s = readStat(Number(name));
    if (s) out.push(s);
  }
  return out;
}

/** CPU ms of `pid` alone, or with every descendant (`tree`: live ones, and the exited ones their parents waited for). */
export function cpuMsOf(pid: number, tree = false): number {
  if (!tree) return readStat(pid)?.cpuMs ?? 0;
  const stats = allStats();
  const children = new Map<number, Stat[]>();
  for (const s of stats) children.set(s.ppid, [...(children.get(s.ppid) ?? []), s]);
  let total = 0;
  const stack = stats.filter((s) => s.pid === pid);
  while (stack.length > 0) {
    const s = stack.pop() as Stat;
    total += s.cpuMs + s.reapedMs;
    stack.push(...(children.get(s.pid) ?? []));
  }
  return total;
}

/** Peak RSS (VmHWM) of a process, MiB. */
export function peakRssMiBOf(pid: number): number {
  try {
    const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Math.round(Number(m[1]) / 1024) : 0;
  } catch {
    return 0;
  }
}

/** `load average 3.1 2.9 2.5 on 2 CPUs`. */
export function loadLine(): string {
  return `load average ${loadavg()
    .map((l) => l.toFixed(2))
    .join(' ')} on ${availableParallelism()} CPUs`;
}

/** The busiest other processes right now (what else was running), by CPU share since they started. */
export function otherProcesses(exclude: Set<number>, top = 6): string[] {
  try {
    const out = execFileSync('ps', ['-eo', 'pid,pcpu,etimes,args', '--sort=-pcpu', '--no-headers'], {
      encoding: 'utf8',
    });
    return out
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => l && !exclude.has(Number(l.split(/\s+/)[0])) && !/ ps -eo /.test(` ${l}`))
      .slice(0, top)
      .map((l) => {
        const [pid, pcpu, , ...args] = l.split(/\s+/);
        return `${pid} ${pcpu}% ${args.join(' ').slice(0, 110)}`;
      });
  } catch {
    return [];
  }
}
