/**
 * Python tools the tests need, in a virtual environment of their own under TOOLS_CACHE_DIR (cached like the
 * Temporal servers): schemathesis (PyPI), which tests the admin API from its own OpenAPI document (issue 11).
 * On a new machine the environment is made here; without `python3 -m venv` it installs Debian's python3-venv when
 * root with apt-get, and otherwise says exactly what is missing.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { defaultToolsCacheDir } from '../lib/config.ts';

export const SCHEMATHESIS_VERSION = '4.32.5';

export function schemathesisVenv(cacheDir = process.env.TOOLS_CACHE_DIR ?? defaultToolsCacheDir()): string {
  return join(cacheDir, 'schemathesis', SCHEMATHESIS_VERSION);
}

/** The `schemathesis` executable when it is installed (the test reads this), else null. */
export function schemathesisPath(cacheDir?: string): string | null {
  const bin = join(schemathesisVenv(cacheDir), 'bin', 'schemathesis');
  if (!existsSync(bin)) return null;
  const r = spawnSync(bin, ['--version'], { encoding: 'utf8' });
  return r.status === 0 && r.stdout.includes(SCHEMATHESIS_VERSION) ? bin : null;
}

function python(): string {
  for (const cmd of ['python3', 'python']) {
    const r = spawnSync(cmd, ['-c', 'import sys; print(sys.version_info[:2] >= (3, 10))'], {
      encoding: 'utf8',
    });
    if (r.status === 0 && r.stdout.trim() === 'True') return cmd;
  }
  throw new Error(
    'schemathesis needs Python ≥ 3.10 with venv and pip: install python3 and python3-venv (Debian) and run again',
  );
}

function makeVenv(py: string, dir: string): void {
  rmSync(dir, { recursive: true, force: true });
  let r = spawnSync(py, ['-m', 'venv', dir], { stdio: 'inherit' });
  if (
    r.status !== 0 &&
    process.getuid?.() === 0 &&
    spawnSync('sh', ['-c', 'command -v apt-get']).status === 0
  ) {
    process.stderr.write('[python] installing Debian python3-venv (first run only)...\n');
    const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
    spawnSync('apt-get', ['update', '-q'], { stdio: 'inherit', env });
    spawnSync('apt-get', ['install', '-y', '-q', '--no-install-recommends', 'python3-venv', 'python3-pip'], {
      stdio: 'inherit',
      env,
    });
    rmSync(dir, { recursive: true, force: true });
    r = spawnSync(py, ['-m', 'venv', dir], { stdio: 'inherit' });
  }
  if (r.status !== 0) {
    throw new Error(
      `"${py} -m venv" failed: install python3-venv (apt-get install python3-venv) and run again`,
    );
  }
}

/** Makes sure schemathesis is installed; returns its executable. */
export function ensureSchemathesis(): string {
  const ready = schemathesisPath();
  if (ready) return ready;
  const dir = schemathesisVenv();
  process.stderr.write(
    `[python] installing schemathesis ${SCHEMATHESIS_VERSION} into ${dir} (first run only)...\n`,
  );
  makeVenv(python(), dir);
  const pip = spawnSync(
    join(dir, 'bin', 'python'),
    [
      '-m',
      'pip',
      'install',
      '--quiet',
      '--disable-pip-version-check',
      `schemathesis==${SCHEMATHESIS_VERSION}`,
    ],
    { stdio: 'inherit' },
  );
  const bin = schemathesisPath();
  if (pip.status !== 0 || !bin) {
    throw new Error(
      `pip could not install schemathesis==${SCHEMATHESIS_VERSION} into ${dir} (is PyPI reachable?)`,
    );
  }
  return bin;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  process.stdout.write(`${ensureSchemathesis()}\n`);
}
