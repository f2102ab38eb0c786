/**
 * Keeps `npm start`'s children running: a child that exits on its own is started again after a backoff (1 s, 2 s,
 * 4 s … up to 30 s), since the durable state lives in Temporal and PostgreSQL. A child that crashes `maxCrashes`
 * times within `windowMs` is crash-looping: the supervisor says so and `onCrashLoop` stops everything. Stopping
 * (Ctrl-C) stops the children in reverse start order and cancels pending restarts.
 */
import { type ManagedProcess, startProcess } from './processes.ts';

export interface ChildSpec {
  name: string;
  command: string;
  args: string[];
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** How long the child may drain on SIGTERM before SIGKILL. */
  stopGraceMs?: number;
  /** Called with every new process (first start and each restart). */
  onStart?: (p: ManagedProcess) => void;
}

export interface SupervisorOptions {
  initialBackoffMs?: number;
  maxBackoffMs?: number;
  maxCrashes?: number;
  windowMs?: number;
  say?: (msg: string) => void;
  onCrashLoop?: (name: string, message: string) => void;
}

interface Entry {
  spec: ChildSpec;
  current: ManagedProcess;
  crashes: number[];
  restartTimer?: NodeJS.Timeout;
}

export class Supervisor {
  readonly #entries: Entry[] = [];
  readonly #o: Required<Omit<SupervisorOptions, 'onCrashLoop'>> & Pick<SupervisorOptions, 'onCrashLoop'>;
  #stopping = false;

  constructor(options: SupervisorOptions = {}) {
    this.#o = {
      initialBackoffMs: options.initialBackoffMs ?? 1000,
      maxBackoffMs: options.maxBackoffMs ?? 30_000,
      maxCrashes: options.maxCrashes ?? 5,
      windowMs: options.windowMs ?? 60_000,
      say: options.say ?? ((m) => process.stderr.write(`${m}\n`)),
      onCrashLoop: options.onCrashLoop,
    };
  }

  /** Starts the child and keeps it running; returns its first process. */
  add(spec: ChildSpec): ManagedProcess {
    const entry: Entry = { spec, current: this.#spawn(spec), crashes: [] };
    this.#entries.push(entry);
    this.#watch(entry);
    return entry.current;
  }

  /** The child's current process (it changes with every restart). */
  current(name: string): ManagedProcess | undefined {
    return this.#entries.find((e) => e.spec.name === name)?.current;
  }

  /** Stops every child, last started first; pending restarts are cancelled. */
  async stopAll(onStopped?: (name: string) => void): Promise<void> {
    this.#stopping = true;
    for (const e of [...this.#entries].reverse()) {
      clearTimeout(e.restartTimer);
      await e.current.stop('SIGTERM', e.spec.stopGraceMs ?? 10_000);
      onStopped?.(e.spec.name);
    }
  }

  /** Second Ctrl-C: SIGKILL to every child's process group, no draining. */
  killAll(): void {
    this.#stopping = true;
    for (const e of this.#entries) {
      clearTimeout(e.restartTimer);
      const pid = e.current.child.pid;
      if (pid && e.current.child.exitCode === null && e.current.child.signalCode === null) {
        try {
          process.kill(-pid, 'SIGKILL');
        } catch {}
      }
    }
  }

  #spawn(spec: ChildSpec): ManagedProcess {
    const p = startProcess(spec.name, spec.command, spec.args, { env: spec.env, cwd: spec.cwd });
    spec.onStart?.(p);
    return p;
  }

  #watch(entry: Entry): void {
    const p = entry.current;
    void p.exited.then((code) => {
      if (this.#stopping || entry.current !== p) return;
      const now = Date.now();
      entry.crashes = [...entry.crashes.filter((t) => now - t < this.#o.windowMs), now];
      const how = code === null ? `signal ${p.child.signalCode}` : `code ${code}`;
      const { name } = entry.spec;
      if (entry.crashes.length >= this.#o.maxCrashes) {
        const message = `${name} exited ${entry.crashes.length} times within ${Math.round(this.#o.windowMs / 1000)} s (last: ${how}): it is crash-looping, so everything stops; its output above says why`;
        this.#o.say(message);
        this.#o.onCrashLoop?.(name, message);
        return;
      }
      const delay = Math.min(
        this.#o.maxBackoffMs,
        this.#o.initialBackoffMs * 2 ** (entry.crashes.length - 1),
      );
      this.#o.say(
        `${name} exited unexpectedly (${how}); restarting it in ${(delay / 1000).toFixed(1)} s (crash ${entry.crashes.length} of ${this.#o.maxCrashes} allowed within ${Math.round(this.#o.windowMs / 1000)} s)`,
      );
      entry.restartTimer = setTimeout(() => {
        if (this.#stopping) return;
        entry.current = this.#spawn(entry.spec);
        this.#watch(entry);
      }, delay);
    });
  }
}
