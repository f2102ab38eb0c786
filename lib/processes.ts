import { type ChildProcess, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';

export interface ManagedProcess {
  name: string;
  child: ChildProcess;
  /** Resolves with the exit code once the process has ended. */
  exited: Promise<number | null>;
  stop(signal?: NodeJS.Signals, graceMs?: number): Promise<void>;
}

const COLORS = [36, 33, 35, 32, 34, 91, 96, 93];
let nextColor = 0;

/**
 * Starts a child in its own process group (so a terminal Ctrl-C reaches only the supervisor, which then stops
 * children in order) and prefixes each output line with the child's name.
 */
export function startProcess(
  name: string,
  command: string,
  args: string[],
  options: { env?: NodeJS.ProcessEnv; cwd?: string; quiet?: boolean; onLine?: (line: string) => void } = {},
): ManagedProcess {
  const child = spawn(command, args, {
    // The stdin pipe stays open while the supervisor lives (lib/supervised.ts).
    env: { ...(options.env ?? process.env), PFD_SUPERVISED: '1' },
    cwd: options.cwd,
    stdio: ['pipe', 'pipe', 'pipe'],
    detached: true,
  });
  const color = COLORS[nextColor++ % COLORS.length];
  const tty = process.stdout.isTTY;
  const prefix = tty ? `\x1b[${color}m${name.padEnd(16)}\x1b[0m│ ` : `${name.padEnd(16)}| `;
  for (const stream of [child.stdout, child.stderr]) {
    if (!stream) continue;
    createInterface({ input: stream }).on('line', (line) => {
      options.onLine?.(line);
      if (!options.quiet) process.stdout.write(`${prefix}${line}\n`);
    });
  }
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return {
    name,
    child,
    exited,
    async stop(signal = 'SIGTERM', graceMs = 10_000) {
      if (child.exitCode !== null || child.signalCode !== null) return;
      try {
        process.kill(-(child.pid as number), signal);
      } catch {
        return;
      }
      const timer = setTimeout(() => {
        try {
          process.kill(-(child.pid as number), 'SIGKILL');
        } catch {}
      }, graceMs);
      await exited;
      clearTimeout(timer);
    },
  };
}
