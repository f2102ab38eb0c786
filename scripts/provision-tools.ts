/**
 * Makes the Temporal servers available without downloading them at run time:
 *  - the dev server with its Web UI (`temporal` CLI), from PATH or built with `go install`;
 *  - the time-skipping test server, the Maven artifact io.temporal:temporal-test-server with its whole
 *    classpath behind a wrapper script, with a class-data-sharing archive so the JVM opens its port fast.
 * Everything is cached outside the checkout (TOOLS_CACHE_DIR, default ~/.cache/phone-firmware-distribution)
 * plus Go's and Maven's own caches. Idempotent: a second run only checks what is there.
 * Where neither Go nor Maven exists, the manifest records no path and callers fall back to the SDK's download.
 */
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  chmodSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { defaultToolsCacheDir, repoRoot } from '../lib/config.ts';
import { freePort, isPortOpen } from '../lib/ports.ts';

export const TEMPORAL_CLI_VERSION = 'v1.5.1';
export const TEST_SERVER_VERSION = '1.38.0';
/** The Temporal server itself (not the dev server) for the production rehearsal: same module, same tag. */
export const TEMPORAL_SERVER_VERSION = 'v1.29.1';

export interface TemporalServerTools {
  /** `temporal-server` (go.temporal.io/server/cmd/server). */
  server: string;
  /** `temporal-sql-tool` (go.temporal.io/server/cmd/tools/sql), with the SQL schemas embedded. */
  sqlTool: string;
  /** The config templates the temporalio/server image uses (config/docker.yaml, driven by env variables). */
  configDir: string;
  /** Seconds the build took when it was last done here (null: found in the cache). */
  buildSeconds: number | null;
}

export interface ToolsManifest {
  /** Path of a `temporal` binary able to run `server start-dev` with the UI, or null to use the SDK download. */
  temporalCli: string | null;
  temporalCliSource: 'path' | 'go-install' | 'none';
  /** Path of the wrapper script that starts the Java time-skipping test server, or null for the SDK download. */
  testServer: string | null;
  /** Milliseconds the test server took to open its port when it was last provisioned. */
  testServerStartMs: number | null;
  /** tools/compose-config (validates docker-compose.yml like `docker compose config`), or null without Go. */
  composeConfig: string | null;
}

function log(msg: string): void {
  process.stderr.write(`[tools] ${msg}\n`);
}

function which(cmd: string): string | null {
  const r = spawnSync('sh', ['-c', `command -v ${cmd}`], { encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim() || null : null;
}

/** Runs a long command, printing a progress line every 15 s so a first build never looks hung. */
async function runWithProgress(
  what: string,
  cmd: string,
  args: string[],
  env: NodeJS.ProcessEnv = process.env,
  cwd?: string,
) {
  const started = Date.now();
  log(`${what} (first run only; this can take a few minutes)...`);
  const child = spawn(cmd, args, { env, cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (d) => {
    output += d;
  });
  child.stderr.on('data', (d) => {
    output += d;
  });
  const timer = setInterval(
    () => log(`  ...still ${what.toLowerCase()}, ${Math.round((Date.now() - started) / 1000)} s`),
    15_000,
  );
  const code: number = await new Promise((res) => child.on('close', (c) => res(c ?? 1)));
  clearInterval(timer);
  const seconds = ((Date.now() - started) / 1000).toFixed(1);
  if (code !== 0) {
    throw new Error(`${what} failed after ${seconds} s (exit ${code}):\n${output.slice(-4000)}`);
  }
  log(`${what}: done in ${seconds} s`);
  return output;
}

function cliWorks(path: string): boolean {
  const r = spawnSync(path, ['server', 'start-dev', '--help'], { encoding: 'utf8' });
  return r.status === 0 && r.stdout.includes('--ui-port');
}

async function provisionTemporalCli(
  cacheDir: string,
): Promise<Pick<ToolsManifest, 'temporalCli' | 'temporalCliSource'>> {
  const onPath = which('temporal');
  if (onPath && cliWorks(onPath)) return { temporalCli: onPath, temporalCliSource: 'path' };
  const binDir = join(cacheDir, 'temporal-cli', TEMPORAL_CLI_VERSION);
  const bin = join(binDir, 'temporal');
  if (existsSync(bin) && cliWorks(bin)) return { temporalCli: bin, temporalCliSource: 'go-install' };
  if (!which('go')) {
    log('no `temporal` on PATH and no Go toolchain: the SDK will download the dev server when needed');
    return { temporalCli: null, temporalCliSource: 'none' };
  }
  mkdirSync(binDir, { recursive: true });
  await runWithProgress(
    `Building the Temporal CLI ${TEMPORAL_CLI_VERSION} with go install`,
    'go',
    ['install', `github.com/temporalio/cli/cmd/temporal@${TEMPORAL_CLI_VERSION}`],
    { ...process.env, GOBIN: binDir, GOFLAGS: `${process.env.GOFLAGS ?? ''} -trimpath`.trim() },
  );
  if (!cliWorks(bin)) throw new Error(`built ${bin} but it does not run "server start-dev"`);
  return { temporalCli: bin, temporalCliSource: 'go-install' };
}

function pom(): string {
  return `<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>local.tools</groupId><artifactId>temporal-test-server-classpath</artifactId><version>1</version>
  <packaging>pom</packaging>
  <dependencies>
    <dependency><groupId>io.temporal</groupId><artifactId>temporal-test-server</artifactId><version>${TEST_SERVER_VERSION}</version></dependency>
  </dependencies>
</project>
`;
}

/** Starts the wrapper once, waits for the port, stops it; returns ms to open the port. */
export async function measureTestServerStart(
  wrapper: string,
  extraEnv: NodeJS.ProcessEnv = {},
): Promise<number> {
  const port = await freePort();
  const started = Date.now();
  const child = spawn(wrapper, [String(port)], { stdio: 'ignore', env: { ...process.env, ...extraEnv } });
  let open = false;
  for (const deadline = Date.now() + 30_000; !open && Date.now() < deadline; ) {
    open = await isPortOpen(port);
    if (!open) await new Promise((r) => setTimeout(r, 25));
  }
  const ms = Date.now() - started;
  const exited = new Promise((res) => child.once('exit', res));
  child.kill('SIGTERM');
  await exited;
  if (!open) throw new Error(`test server ${wrapper} did not open port ${port} within 30 s`);
  return ms;
}

async function provisionTestServer(
  cacheDir: string,
  previous: ToolsManifest | null,
): Promise<Pick<ToolsManifest, 'testServer' | 'testServerStartMs'>> {
  const dir = join(cacheDir, 'temporal-test-server', TEST_SERVER_VERSION);
  const wrapper = join(dir, 'temporal-test-server');
  const cds = join(dir, 'classes.jsa');
  if (existsSync(wrapper) && existsSync(cds)) {
    return { testServer: wrapper, testServerStartMs: previous?.testServerStartMs ?? null };
  }
  const java = which('java');
  if (!java || !which('mvn')) {
    log('no Java + Maven: tests will let the SDK download the time-skipping test server');
    return { testServer: null, testServerStartMs: null };
  }
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'pom.xml'), pom());
  const cpFile = join(dir, 'classpath.txt');
  await runWithProgress(
    `Resolving io.temporal:temporal-test-server:${TEST_SERVER_VERSION} and its classpath from Maven Central`,
    'mvn',
    ['-B', '-q', '-f', join(dir, 'pom.xml'), 'dependency:build-classpath', `-Dmdep.outputFile=${cpFile}`],
  );
  const classpath = readFileSync(cpFile, 'utf8').trim();
  if (!classpath.includes('temporal-test-server'))
    throw new Error(`classpath in ${cpFile} misses the test server jar`);
  // Class-data sharing: the archive holds the parsed classes of a previous start, which cuts JVM start
  // on 2 cores from about 3 s to under 1 s; the SDK only waits about 5 s for the port.
  const script = (archiveFlag: string) => `#!/bin/sh
# Temporal time-skipping test server ${TEST_SERVER_VERSION} (generated by scripts/provision-tools.ts)
exec "${java}" ${archiveFlag} -XX:TieredStopAtLevel=1 -XX:+UseSerialGC -Xss512k \${TEST_SERVER_JAVA_OPTS:-} -cp "${classpath}" io.temporal.testserver.TestServer "$@"
`;
  rmSync(cds, { force: true });
  writeFileSync(wrapper, script(`-XX:ArchiveClassesAtExit="${cds}"`));
  chmodSync(wrapper, 0o755);
  log('Recording a class-data-sharing archive for the test server JVM...');
  const coldMs = await measureTestServerStart(wrapper);
  writeFileSync(wrapper, script(`-XX:SharedArchiveFile="${cds}" -Xshare:auto`));
  const warmMs = await measureTestServerStart(wrapper);
  log(`test server opens its port in ${warmMs} ms with the archive (${coldMs} ms without)`);
  return { testServer: wrapper, testServerStartMs: warmMs };
}

/**
 * Builds the Temporal server and its SQL schema tool with `go install` (first run only; several minutes) and copies
 * the module's config templates beside them. Not part of `npm run tools`: only the production rehearsal needs it.
 */
export async function provisionTemporalServer(
  cacheDir = process.env.TOOLS_CACHE_DIR ?? defaultToolsCacheDir(),
): Promise<TemporalServerTools> {
  const dir = join(cacheDir, 'temporal-server', TEMPORAL_SERVER_VERSION);
  const server = join(dir, 'temporal-server');
  const sqlTool = join(dir, 'temporal-sql-tool');
  const configDir = join(dir, 'config');
  const works = (bin: string) => spawnSync(bin, ['--version'], { encoding: 'utf8' }).status === 0;
  let buildSeconds: number | null = null;
  if (!(existsSync(server) && existsSync(sqlTool) && works(server) && works(sqlTool))) {
    if (!which('go')) throw new Error('the Temporal server is built with Go: install Go 1.24 or newer');
    const binDir = join(dir, 'bin');
    mkdirSync(binDir, { recursive: true });
    const started = Date.now();
    const module = 'go.temporal.io/server';
    await runWithProgress(
      `Building the Temporal server ${TEMPORAL_SERVER_VERSION} and temporal-sql-tool with go install`,
      'go',
      [
        'install',
        `${module}/cmd/server@${TEMPORAL_SERVER_VERSION}`,
        `${module}/cmd/tools/sql@${TEMPORAL_SERVER_VERSION}`,
      ],
      { ...process.env, GOBIN: binDir, GOFLAGS: `${process.env.GOFLAGS ?? ''} -trimpath`.trim() },
    );
    renameSync(join(binDir, 'server'), server);
    renameSync(join(binDir, 'sql'), sqlTool);
    rmSync(binDir, { recursive: true, force: true });
    buildSeconds = Math.round((Date.now() - started) / 1000);
  }
  if (!existsSync(join(configDir, 'docker.yaml'))) {
    const r = spawnSync(
      'go',
      ['mod', 'download', '-json', `go.temporal.io/server@${TEMPORAL_SERVER_VERSION}`],
      {
        encoding: 'utf8',
      },
    );
    const moduleDir = (JSON.parse(r.stdout || '{}') as { Dir?: string }).Dir;
    if (r.status !== 0 || !moduleDir)
      throw new Error(`go mod download go.temporal.io/server failed: ${r.stderr}`);
    mkdirSync(join(configDir, 'dynamicconfig'), { recursive: true });
    copyFileSync(join(moduleDir, 'config', 'docker.yaml'), join(configDir, 'docker.yaml'));
    copyFileSync(
      join(moduleDir, 'config', 'dynamicconfig', 'docker.yaml'),
      join(configDir, 'dynamicconfig', 'docker.yaml'),
    );
  }
  return { server, sqlTool, configDir, buildSeconds };
}

/**
 * `docker compose config` without a Docker engine: tools/compose-config (compose-go, the library docker compose
 * uses to load and validate compose files), built with Go once per source version.
 */
export async function provisionComposeConfig(
  cacheDir = process.env.TOOLS_CACHE_DIR ?? defaultToolsCacheDir(),
): Promise<string> {
  const src = join(repoRoot, 'tools', 'compose-config');
  const hash = createHash('sha256');
  for (const f of ['go.mod', 'go.sum', 'main.go']) hash.update(readFileSync(join(src, f)));
  const bin = join(cacheDir, 'compose-config', hash.digest('hex').slice(0, 12), 'compose-config');
  if (existsSync(bin)) return bin;
  if (!which('go'))
    throw new Error('validating docker-compose.yml needs Go (tools/compose-config): install Go 1.24+');
  mkdirSync(join(bin, '..'), { recursive: true });
  await runWithProgress(
    'Building tools/compose-config (compose-go)',
    'go',
    ['build', '-trimpath', '-o', bin, '.'],
    {
      ...process.env,
      GOFLAGS: '-mod=mod',
    },
    src,
  );
  return bin;
}

export function manifestPath(cacheDir = process.env.TOOLS_CACHE_DIR ?? defaultToolsCacheDir()): string {
  return join(cacheDir, 'tools.json');
}

export function readToolsManifest(cacheDir?: string): ToolsManifest | null {
  const p = manifestPath(cacheDir);
  if (!existsSync(p)) return null;
  try {
    return JSON.parse(readFileSync(p, 'utf8')) as ToolsManifest;
  } catch {
    return null;
  }
}

export async function provisionTools(
  cacheDir = process.env.TOOLS_CACHE_DIR ?? defaultToolsCacheDir(),
): Promise<ToolsManifest> {
  const started = Date.now();
  mkdirSync(cacheDir, { recursive: true });
  const previous = readToolsManifest(cacheDir);
  const [cli, testServer] = await Promise.all([
    provisionTemporalCli(cacheDir),
    provisionTestServer(cacheDir, previous),
  ]);
  const composeConfig = which('go') ? await provisionComposeConfig(cacheDir) : null;
  const manifest: ToolsManifest = { ...cli, ...testServer, composeConfig };
  writeFileSync(manifestPath(cacheDir), `${JSON.stringify(manifest, null, 2)}\n`);
  log(`tools ready in ${((Date.now() - started) / 1000).toFixed(1)} s (cache: ${cacheDir})`);
  return manifest;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  (process.argv.includes('--server') ? provisionTemporalServer() : provisionTools()).then(
    (m) => process.stdout.write(`${JSON.stringify(m, null, 2)}\n`),
    (err: unknown) => {
      log(err instanceof Error ? err.message : String(err));
      process.exit(1);
    },
  );
}
