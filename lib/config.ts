import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';

/** Repository root, resolved from this file so every entry point agrees on it. */
export const repoRoot = resolve(fileURLToPath(new URL('..', import.meta.url)));

const bool = z
  .enum(['1', '0', 'true', 'false', 'yes', 'no', 'on', 'off'])
  .transform((v) => ['1', 'true', 'yes', 'on'].includes(v));
const port = z.coerce.number().int().min(0).max(65535);
const positive = z.coerce.number().int().positive();

/**
 * The SECRETS_KEY `npm start` and the tests use when none is set. Anything stored with it is readable by whoever
 * reads this file: set SECRETS_KEY (a long random string) wherever real phones are provisioned.
 */
export const DEV_SECRETS_KEY = 'dev-only-secrets-key: set SECRETS_KEY in production';

const envSchema = z.object({
  DATA_DIR: z.string().default(join(repoRoot, '.data')),
  TOOLS_CACHE_DIR: z.string().optional(),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),

  DATABASE_URL: z.string().url().optional(),
  EMBEDDED_POSTGRES_PORT: port.default(54329),

  TEMPORAL_ADDRESS: z.string().default('127.0.0.1:7233'),
  TEMPORAL_NAMESPACE: z.string().default('default'),
  TEMPORAL_API_KEY: z.string().optional(),
  TEMPORAL_TLS: bool.default(false),
  TEMPORAL_TLS_CERT_PATH: z.string().optional(),
  TEMPORAL_TLS_KEY_PATH: z.string().optional(),
  TEMPORAL_TLS_CA_PATH: z.string().optional(),
  TEMPORAL_TLS_SERVER_NAME: z.string().optional(),
  TEMPORAL_UI_URL: z.string().url().default('http://127.0.0.1:8233'),

  TASK_QUEUE: z.string().default('firmware-lifecycle'),
  TASK_QUEUE_DOWNLOADS: z.string().default('firmware-downloads'),
  TASK_QUEUE_PHONES: z.string().default('firmware-phones'),
  WORKER_ROLES: z.string().default('lifecycle,downloads,phones'),
  WORKER_MAX_CONCURRENT_ACTIVITIES: positive.default(100),
  WORKER_MAX_CONCURRENT_WORKFLOW_TASKS: positive.default(40),
  WORKER_MAX_CONCURRENT_DOWNLOADS: positive.default(4),
  WORKER_MAX_CONCURRENT_BLOCKS: positive.default(20),
  /** Lifecycle workflows a worker keeps in memory between tasks (README "Scaling out": ~0.5 MiB each). */
  WORKER_MAX_CACHED_WORKFLOWS: positive.default(2000),
  /** On SIGTERM a worker stops polling and lets running activities (downloads, blocks) finish this long. */
  WORKER_SHUTDOWN_GRACE_MS: positive.default(300_000),

  API_HOST: z.string().default('0.0.0.0'),
  API_PORT: port.default(3000),
  API_PUBLIC_URL: z.string().url().optional(),
  /** How long the API waits for a PBX workflow to answer a button or event (Update) before giving up with 504. */
  API_WORKFLOW_ANSWER_TIMEOUT_MS: positive.default(120_000),
  /** Largest request body the admin API accepts (bulk account creation is the biggest). */
  API_MAX_BODY_BYTES: positive.default(1024 * 1024),
  /** A client must send its request headers within this time, and the whole request within the next (issue 11). */
  API_HEADERS_TIMEOUT_MS: positive.default(10_000),
  API_REQUEST_TIMEOUT_MS: positive.default(30_000),
  /** How long Check now & co. wait for the workflow's answer before answering 202 with what is known (issue 11). */
  API_ANSWER_WAIT_MS: positive.default(4_000),
  /** On SIGTERM the API stops accepting and lets in-flight requests finish this long (> the answer timeout). */
  API_SHUTDOWN_GRACE_MS: positive.default(130_000),
  /** Issue 14: the overview is one shared answer per PBX for at most this long (0 = every request reads). */
  API_ANSWER_CACHE_MS: z.coerce.number().int().min(0).max(60_000).default(1_000),
  PROVISIONING_PORT: port.default(8180),
  PROVISIONING_PUBLIC_URL: z.string().url().optional(),
  SIP_HOST: z.string().default('0.0.0.0'),
  SIP_PORT: port.default(5060),
  SIP_PUBLIC_HOST: z.string().default('127.0.0.1'),
  /** The SIP port phones are told in their files, when they reach the edge through a port mapping (default SIP_PORT). */
  SIP_PUBLIC_PORT: port.optional(),

  FIRMWARE_SERVER_URL: z.string().url().default('http://127.0.0.1:8090'),
  /** Reference firmware server (firmware-server/): where it keeps its state, keys and hash cache. */
  FIRMWARE_SERVER_DATA_DIR: z.string().optional(),
  FIRMWARE_SERVER_HOST: z.string().default('127.0.0.1'),
  /** Scales the generated firmware sizes of a newly seeded reference server (1 = realistic, tens of MB). */
  FIRMWARE_SIZE_SCALE: z.coerce.number().positive().max(10).default(1),
  /** Reference firmware server fault injection, for rehearsing a flaky server: share of requests answered 500. */
  FIRMWARE_SERVER_ERROR_RATE: z.coerce.number().min(0).max(1).default(0),
  /** … and share of file bodies cut off at a random byte. */
  FIRMWARE_SERVER_TRUNCATE_SHARE: z.coerce.number().min(0).max(1).default(0),
  /** PBX side: headers / between-chunks timeout for catalog and firmware requests. */
  FIRMWARE_HTTP_TIMEOUT_MS: positive.default(30_000),
  CATALOG_PUBLIC_KEY: z.string().optional(),
  CATALOG_PUBLIC_KEY_FILE: z.string().optional(),
  FIRMWARE_STORE_DIR: z.string().optional(),
  IMAGE_FIRMWARE_DIR: z.string().optional(),
  LOG_DIR: z.string().optional(),
  /** Key that encrypts SIP passwords at rest (lib/secrets.ts sealSecret); the default is for development only. */
  SECRETS_KEY: z.string().min(16, 'at least 16 characters').default(DEV_SECRETS_KEY),
});

export type Env = z.infer<typeof envSchema>;

export interface Config {
  dataDir: string;
  toolsCacheDir: string;
  logLevel: Env['LOG_LEVEL'];
  database: { url: string | undefined; embeddedPort: number; embeddedDir: string };
  temporal: {
    address: string;
    namespace: string;
    apiKey: string | undefined;
    tls:
      | false
      | {
          certPath?: string | undefined;
          keyPath?: string | undefined;
          caPath?: string | undefined;
          serverName?: string | undefined;
        };
    uiUrl: string;
  };
  taskQueues: { lifecycle: string; downloads: string; phones: string };
  worker: {
    roles: Set<'lifecycle' | 'downloads' | 'phones'>;
    maxConcurrentActivities: number;
    maxConcurrentWorkflowTasks: number;
    maxConcurrentDownloads: number;
    maxConcurrentBlocks: number;
    maxCachedWorkflows: number;
    shutdownGraceMs: number;
  };
  api: {
    host: string;
    port: number;
    publicUrl: string;
    workflowAnswerTimeoutMs: number;
    maxBodyBytes: number;
    headersTimeoutMs: number;
    requestTimeoutMs: number;
    answerWaitMs: number;
    shutdownGraceMs: number;
    answerCacheMs: number;
  };
  provisioning: { port: number; publicUrl: string };
  sip: { host: string; port: number; publicHost: string; publicPort: number };
  firmwareServer: {
    url: string;
    publicKey: string | undefined;
    publicKeyFile: string | undefined;
    /** Reference server only. */
    dataDir: string;
    host: string;
    sizeScale: number;
    /** Reference server only: injected faults (shares 0..1). */
    errorRate: number;
    truncateShare: number;
    /** PBX side: undici headers/body timeout. */
    httpTimeoutMs: number;
  };
  firmwareStoreDir: string;
  imageFirmwareDir: string;
  logDir: string;
  /** SECRETS_KEY: encrypts SIP passwords at rest. */
  secretsKey: string;
}

/** Reads the configuration from the environment; a bad value fails loudly, naming the variable. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const parsed = envSchema.safeParse(env);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
    throw new Error(`invalid configuration: ${problems}`);
  }
  const e = parsed.data;
  const roles = new Set(
    e.WORKER_ROLES.split(',')
      .map((r) => r.trim())
      .filter(Boolean),
  );
  for (const r of roles) {
    if (!['lifecycle', 'downloads', 'phones'].includes(r)) {
      throw new Error(
        `invalid configuration: WORKER_ROLES: unknown role "${r}" (lifecycle, downloads, phones)`,
      );
    }
  }
  const tlsWanted =
    e.TEMPORAL_TLS ||
    Boolean(e.TEMPORAL_TLS_CERT_PATH) ||
    Boolean(e.TEMPORAL_API_KEY) ||
    Boolean(e.TEMPORAL_TLS_CA_PATH);
  return {
    dataDir: e.DATA_DIR,
    toolsCacheDir: e.TOOLS_CACHE_DIR ?? defaultToolsCacheDir(env),
    logLevel: e.LOG_LEVEL,
    database: {
      url: e.DATABASE_URL,
      embeddedPort: e.EMBEDDED_POSTGRES_PORT,
      embeddedDir: join(e.DATA_DIR, 'postgres'),
    },
    temporal: {
      address: e.TEMPORAL_ADDRESS,
      namespace: e.TEMPORAL_NAMESPACE,
      apiKey: e.TEMPORAL_API_KEY,
      tls: tlsWanted
        ? {
            certPath: e.TEMPORAL_TLS_CERT_PATH,
            keyPath: e.TEMPORAL_TLS_KEY_PATH,
            caPath: e.TEMPORAL_TLS_CA_PATH,
            serverName: e.TEMPORAL_TLS_SERVER_NAME,
          }
        : false,
      uiUrl: e.TEMPORAL_UI_URL,
    },
    taskQueues: { lifecycle: e.TASK_QUEUE, downloads: e.TASK_QUEUE_DOWNLOADS, phones: e.TASK_QUEUE_PHONES },
    worker: {
      roles: roles as Set<'lifecycle' | 'downloads' | 'phones'>,
      maxConcurrentActivities: e.WORKER_MAX_CONCURRENT_ACTIVITIES,
      maxConcurrentWorkflowTasks: e.WORKER_MAX_CONCURRENT_WORKFLOW_TASKS,
      maxConcurrentDownloads: e.WORKER_MAX_CONCURRENT_DOWNLOADS,
      maxConcurrentBlocks: e.WORKER_MAX_CONCURRENT_BLOCKS,
      maxCachedWorkflows: e.WORKER_MAX_CACHED_WORKFLOWS,
      shutdownGraceMs: e.WORKER_SHUTDOWN_GRACE_MS,
    },
    api: {
      host: e.API_HOST,
      port: e.API_PORT,
      publicUrl: e.API_PUBLIC_URL ?? `http://127.0.0.1:${e.API_PORT}`,
      workflowAnswerTimeoutMs: e.API_WORKFLOW_ANSWER_TIMEOUT_MS,
      maxBodyBytes: e.API_MAX_BODY_BYTES,
      headersTimeoutMs: e.API_HEADERS_TIMEOUT_MS,
      requestTimeoutMs: e.API_REQUEST_TIMEOUT_MS,
      answerWaitMs: e.API_ANSWER_WAIT_MS,
      shutdownGraceMs: e.API_SHUTDOWN_GRACE_MS,
      answerCacheMs: e.API_ANSWER_CACHE_MS,
    },
    provisioning: {
      port: e.PROVISIONING_PORT,
      publicUrl: e.PROVISIONING_PUBLIC_URL ?? `http://127.0.0.1:${e.PROVISIONING_PORT}`,
    },
    sip: {
      host: e.SIP_HOST,
      port: e.SIP_PORT,
      publicHost: e.SIP_PUBLIC_HOST,
      publicPort: e.SIP_PUBLIC_PORT ?? e.SIP_PORT,
    },
    firmwareServer: {
      url: e.FIRMWARE_SERVER_URL,
      publicKey: e.CATALOG_PUBLIC_KEY,
      publicKeyFile: e.CATALOG_PUBLIC_KEY_FILE,
      dataDir: e.FIRMWARE_SERVER_DATA_DIR ?? join(e.DATA_DIR, 'firmware-server'),
      host: e.FIRMWARE_SERVER_HOST,
      sizeScale: e.FIRMWARE_SIZE_SCALE,
      errorRate: e.FIRMWARE_SERVER_ERROR_RATE,
      truncateShare: e.FIRMWARE_SERVER_TRUNCATE_SHARE,
      httpTimeoutMs: e.FIRMWARE_HTTP_TIMEOUT_MS,
    },
    firmwareStoreDir: e.FIRMWARE_STORE_DIR ?? join(e.DATA_DIR, 'store'),
    imageFirmwareDir: e.IMAGE_FIRMWARE_DIR ?? join(e.DATA_DIR, 'image-firmware'),
    logDir: e.LOG_DIR ?? join(e.DATA_DIR, 'logs'),
    secretsKey: e.SECRETS_KEY,
  };
}

/** Built tools live outside the checkout so fresh clones and CI reuse them. */
export function defaultToolsCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  const base = env.XDG_CACHE_HOME || join(homedir(), '.cache');
  return join(base, 'phone-firmware-distribution');
}

/** The embedded Postgres `npm start` runs (credentials of db/embedded.ts, database `firmware`). */
export const EMBEDDED_DATABASE = 'firmware';

/**
 * For command-line tools run beside `npm start` (tokens, simulator): DATABASE_URL, or else the embedded Postgres of
 * this checkout. Services themselves insist on DATABASE_URL.
 */
export function databaseUrlForTools(config: Config): string {
  return (
    config.database.url ??
    `postgres://postgres:postgres@127.0.0.1:${config.database.embeddedPort}/${EMBEDDED_DATABASE}`
  );
}
