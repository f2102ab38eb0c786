/**
 * Runs once per `vitest run`: makes the Temporal servers available (built tools, cached), starts a real
 * PostgreSQL and the Temporal dev server, and bundles the workflows once. Test files reach them through inject().
 */
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { bundleWorkflowCode } from '@temporalio/worker';
import type { TestProject } from 'vitest/node';
import { spawnEmbeddedPostgres } from '../db/embedded.ts';
import { freePort } from '../lib/ports.ts';
import { provisionTools } from '../scripts/provision-tools.ts';
import { workflowsPath } from '../worker/bundle.ts';
import { SEARCH_ATTRIBUTE_KEYS } from '../workflows/search-attributes.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    postgresAdminUrl: string;
    workflowBundlePath: string;
    temporalAddress: string;
    testServerPath: string | null;
    temporalCliPath: string | null;
  }
}

let shared: Promise<{ provide: (p: TestProject) => void; teardown: () => Promise<void> }> | undefined;

async function startShared() {
  const started = Date.now();
  const tools = await provisionTools();
  const workDir = mkdtempSync(join(tmpdir(), 'pfd-test-'));
  chmodSync(workDir, 0o755); // Postgres runs as its own user when we are root

  let postgresAdminUrl = process.env.TEST_DATABASE_URL;
  let stopPostgres = async () => {};
  if (!postgresAdminUrl) {
    const pg = await spawnEmbeddedPostgres({ dir: join(workDir, 'postgres'), port: await freePort() });
    postgresAdminUrl = pg.adminUrl;
    stopPostgres = () => pg.stop();
  }

  const bundle = await bundleWorkflowCode({ workflowsPath, logger: quietBundlerLogger });
  const workflowBundlePath = join(workDir, 'workflow-bundle.js');
  writeFileSync(workflowBundlePath, bundle.code);

  const devServer = await TestWorkflowEnvironment.createLocal({
    server: {
      executable: tools.temporalCli
        ? { type: 'existing-path', path: tools.temporalCli }
        : { type: 'cached-download' },
      ip: '127.0.0.1',
      searchAttributes: SEARCH_ATTRIBUTE_KEYS,
      extraArgs: ['--log-level', 'error'],
    },
  });
  process.stderr.write(
    `[test setup] Postgres, Temporal dev server and workflow bundle ready in ${Date.now() - started} ms\n`,
  );

  return {
    provide(project: TestProject) {
      project.provide('postgresAdminUrl', postgresAdminUrl);
      project.provide('workflowBundlePath', workflowBundlePath);
      project.provide('temporalAddress', devServer.address);
      project.provide('testServerPath', tools.testServer);
      project.provide('temporalCliPath', tools.temporalCli);
    },
    async teardown() {
      await devServer.teardown();
      await stopPostgres();
      rmSync(workDir, { recursive: true, force: true });
    },
  };
}

const quietBundlerLogger = {
  trace() {},
  debug() {},
  info() {},
  warn(message: string, meta?: Record<string, unknown>) {
    process.stderr.write(`[bundler] ${message} ${meta ? JSON.stringify(meta) : ''}\n`);
  },
  error(message: string, meta?: Record<string, unknown>) {
    process.stderr.write(`[bundler] ${message} ${meta ? JSON.stringify(meta) : ''}\n`);
  },
  log() {},
};

let users = 0;
export default async function setup(project: TestProject) {
  shared ??= startShared();
  const s = await shared;
  s.provide(project);
  users++;
  return async () => {
    users--;
    if (users === 0) await s.teardown();
  };
}
