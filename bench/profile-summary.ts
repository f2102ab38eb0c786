/**
 * Where a process's CPU went, from a V8 profile (`node --cpu-prof`): self time per package / source file and per
 * function, and inclusive time of the frames named on the command line. The benchmarks' reports quote it.
 *
 *   node bench/profile-summary.ts <file.cpuprofile | dir> [--top 25] [--frames name,name...]
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
}
interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  children?: number[];
}
interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

export interface ProfileSummary {
  file: string;
  totalMs: number;
  busyMs: number;
  /** Self time per package (node_modules), Node internal module, or file of this repository. */
  byOwner: Array<{ owner: string; ms: number; share: number }>;
  byFunction: Array<{ fn: string; ms: number; share: number }>;
  /** Inclusive time of frames whose name contains one of the given strings. */
  frames: Array<{ frame: string; ms: number; share: number }>;
}

/** What a frame belongs to: `postgres`, `drizzle-orm`, `node:net`, `phones/sip-endpoint.ts`, `(gc)`, ... */
export function ownerOf(frame: CallFrame): string {
  const { url, functionName } = frame;
  if (!url) {
    const special: Record<string, string> = {
      '(idle)': '(idle)',
      '(garbage collector)': '(gc)',
      '(program)': '(program)',
      '(root)': '(root)',
    };
    return special[functionName] ?? `native ${functionName || '(anonymous)'}`;
  }
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (pkg) return pkg[1] as string;
  if (url.startsWith('node:')) return url;
  const repo =
    /\/(activities|api|bench|db|domain|firmware-server|lib|phones|scripts|simulator|worker|workflows)\/.*$/.exec(
      url,
    );
  return repo ? repo[0].slice(1) : url;
}

export function summarizeProfile(file: string, frameNames: string[] = [], top = 25): ProfileSummary {
  const p = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  // Each sample counts as one sampling interval (the median gap): on a shared machine a gap also holds the time
  // the thread waited for a CPU, which would be charged to whatever frame it resumed in (a socket write that woke
  // Postgres, say). Counting samples charges CPU time only.
  const gaps = [...p.timeDeltas].filter((d) => d > 0).sort((a, b) => a - b);
  const interval = gaps[Math.floor(gaps.length / 2)] ?? 1000;
  const weight = (_i: number) => interval;
  const self = new Map<number, number>();
  let total = 0;
  p.samples.forEach((id, i) => {
    const d = weight(i);
    total += d;
    self.set(id, (self.get(id) ?? 0) + d);
  });
  const byOwner = new Map<string, number>();
  const byFunction = new Map<string, number>();
  for (const [id, us] of self) {
    const n = byId.get(id) as ProfileNode;
    const owner = ownerOf(n.callFrame);
    byOwner.set(owner, (byOwner.get(owner) ?? 0) + us);
    const fn = `${n.callFrame.functionName || '(anonymous)'} (${owner}:${n.callFrame.lineNumber + 1})`;
    byFunction.set(fn, (byFunction.get(fn) ?? 0) + us);
  }
  const idle = byOwner.get('(idle)') ?? 0;
  const busy = Math.max(1, total - idle);
  const inclusive = new Map<string, number>();
  if (frameNames.length > 0) {
    p.samples.forEach((leaf, i) => {
      const d = weight(i);
      const seen = new Set<string>();
      for (let id: number | undefined = leaf; id !== undefined; id = parent.get(id)) {
        const n = byId.get(id) as ProfileNode;
        const name = `${n.callFrame.functionName || '(anonymous)'} (${ownerOf(n.callFrame)})`;
        if (seen.has(name) || !frameNames.some((f) => name.includes(f))) continue;
        seen.add(name);
        inclusive.set(name, (inclusive.get(name) ?? 0) + d);
      }
    });
  }
  const rank = <K extends string>(m: Map<string, number>, key: K, n: number) =>
    [...m]
      .filter(([k]) => k !== '(idle)')
      .sort((a, b) => b[1] - a[1])
      .slice(0, n)
      .map(
        ([k, us]) =>
          ({ [key]: k, ms: Math.round(us / 1000), share: us / busy }) as Record<K, string> & {
            ms: number;
            share: number;
          },
      );
  return {
    file,
    totalMs: Math.round(total / 1000),
    busyMs: Math.round(busy / 1000),
    byOwner: rank(byOwner, 'owner', top),
    byFunction: rank(byFunction, 'fn', top),
    frames: rank(inclusive, 'frame', top),
  };
}

export function profileMarkdown(s: ProfileSummary, rows = 15): string {
  const pct = (x: number) => `${(x * 100).toFixed(1)} %`;
  const lines = [
    `Profile \`${s.file.split('/').at(-1)}\`: ${(s.busyMs / 1000).toFixed(1)} s busy of ${(s.totalMs / 1000).toFixed(1)} s.`,
    '',
    '| self time by owner | ms | share of busy |',
    '| --- | ---: | ---: |',
    ...s.byOwner.slice(0, rows).map((r) => `| \`${r.owner}\` | ${r.ms} | ${pct(r.share)} |`),
  ];
  if (s.frames.length > 0) {
    lines.push(
      '',
      '| inclusive time of | ms | share of busy |',
      '| --- | ---: | ---: |',
      ...s.frames.slice(0, rows).map((r) => `| \`${r.frame}\` | ${r.ms} | ${pct(r.share)} |`),
    );
  }
  return lines.join('\n');
}

if (import.meta.main) {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: { top: { type: 'string', default: '25' }, frames: { type: 'string', default: '' } },
  });
  const target = positionals[0];
  if (!target) throw new Error('usage: node bench/profile-summary.ts <file.cpuprofile | dir> [--frames a,b]');
  const files = statSync(target).isDirectory()
    ? readdirSync(target)
        .filter((f) => f.endsWith('.cpuprofile'))
        .map((f) => join(target, f))
    : [target];
  const frames = values.frames ? values.frames.split(',') : [];
  for (const f of files) {
    const s = summarizeProfile(f, frames, Number(values.top));
    process.stdout.write(`${profileMarkdown(s, Number(values.top))}\n\n`);
    process.stdout.write(
      `| self time by function | ms | share |\n| --- | ---: | ---: |\n${s.byFunction
        .map((r) => `| \`${r.fn}\` | ${r.ms} | ${(r.share * 100).toFixed(1)} % |`)
        .join('\n')}\n\n`,
    );
  }
}
