/**
 * Debian packages the tests need beyond npm: Chromium for the web-page test (driven by playwright-core, no browser
 * download) and SIPp (package sip-tester), an independent SIP implementation the phone-edge tests register and
 * answer NOTIFYs with. On a new machine they are installed here when missing and we are root with apt-get; otherwise
 * the step says what to install. (docker-compose.yml is validated with tools/compose-config, built by
 * scripts/provision-tools.ts: Debian's docker-compose is the retired v1.)
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

const has = (cmd: string) =>
  spawnSync('sh', ['-c', `command -v ${cmd}`], { encoding: 'utf8' }).stdout.trim() || null;

export function chromiumPath(): string | null {
  const fromEnv = process.env.CHROMIUM_PATH;
  if (fromEnv && existsSync(fromEnv)) return fromEnv;
  return ['/usr/bin/chromium', '/usr/bin/chromium-browser'].find((p) => existsSync(p)) ?? null;
}

let aptUpdated = false;

function aptInstall(pkg: string): void {
  if (process.getuid?.() !== 0 || !has('apt-get')) {
    throw new Error(
      `the Debian package "${pkg}" is missing: install it (apt-get install ${pkg}) and run again`,
    );
  }
  process.stderr.write(`[system] installing Debian ${pkg} (first run only)...\n`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  if (!aptUpdated) {
    spawnSync('apt-get', ['update', '-q'], { stdio: 'inherit', env });
    aptUpdated = true;
  }
  const r = spawnSync('apt-get', ['install', '-y', '-q', '--no-install-recommends', pkg], {
    stdio: 'inherit',
    env,
  });
  if (r.status !== 0) throw new Error(`apt-get install ${pkg} failed`);
}

/** SIPp from Debian's sip-tester (SIPP_PATH overrides). */
export function sippPath(): string | null {
  const fromEnv = process.env.SIPP_PATH;
  if (fromEnv && existsSync(fromEnv)) return fromEnv;
  return has('sipp');
}

export function ensureSystemPackages(): { chromium: string; sipp: string } {
  if (!chromiumPath()) aptInstall('chromium');
  if (!sippPath()) aptInstall('sip-tester');
  const chromium = chromiumPath();
  const sipp = sippPath();
  if (!chromium || !sipp) throw new Error('chromium or sipp still missing after install');
  process.stderr.write(`[system] chromium: ${chromium}, sipp: ${sipp}
`);
  return { chromium, sipp };
}
