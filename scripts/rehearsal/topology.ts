/**
 * The production topology the rehearsal runs (scripts/rehearsal.ts), as commands: one source for the rehearsal and
 * for the README's "Scaling out" section (`npm run rehearsal -- --print` renders it; a test keeps the README equal).
 * Every process is separate and talks over loopback: PostgreSQL, the Temporal server on it (persistence and
 * visibility), two lifecycle/download workers, one phone edge per site with its own task queue and ports, two API
 * replicas and the reference firmware server. On separate hosts replace 127.0.0.1 by the hosts' addresses and the
 * shared directories by shared volumes.
 */
import { SEARCH_ATTRIBUTES } from '../../workflows/search-attributes.ts';

export const PORTS = {
  postgres: 55432,
  temporal: 17233,
  firmwareServer: 18090,
  api: [13000, 13001],
} as const;

export const SITES = [
  // publicSipPort: where the site's phones send SIP — a NAT in front of the edge (in the rehearsal, the SIP tap).
  {
    pbx: 'vienna',
    queue: 'firmware-phones-vienna',
    provisioningPort: 18181,
    sipPort: 15061,
    publicSipPort: 15161,
  },
  {
    pbx: 'berlin',
    queue: 'firmware-phones-berlin',
    provisioningPort: 18182,
    sipPort: 15062,
    publicSipPort: 15162,
  },
] as const;

/** The search attributes the workflows set: the one list in workflows/search-attributes.ts. */
export const SEARCH_ATTRIBUTE_NAMES = Object.keys(SEARCH_ATTRIBUTES);

export interface Command {
  /** Name of the process (services) or step (one-shot commands). */
  name: string;
  kind: 'service' | 'once';
  /** Variables set for this command only (beside the shared ones for app processes). */
  env: Record<string, string>;
  argv: string[];
  /** App processes get the shared environment (the `export` block). */
  app: boolean;
  comment?: string;
}

export interface Topology {
  /** Shared by the workers, edges and APIs: what a process on another host needs. */
  appEnv: Record<string, string>;
  commands: Command[];
}

/**
 * `data` is the shared directory ($DATA), `server` the directory of temporal-server / temporal-sql-tool and its
 * config templates ($TEMPORAL_SERVER), `cli` the temporal CLI.
 */
export function topology(dirs: { data: string; server: string; cli: string }): Topology {
  const { data, server, cli } = dirs;
  const pg = `127.0.0.1:${PORTS.postgres}`;
  const temporal = `127.0.0.1:${PORTS.temporal}`;
  const sqlEnv = {
    SQL_PLUGIN: 'postgres12',
    SQL_HOST: '127.0.0.1',
    SQL_PORT: String(PORTS.postgres),
    SQL_USER: 'postgres',
    SQL_PASSWORD: 'postgres',
  };
  const sql = (name: string, db: string, args: string[]): Command => ({
    name,
    kind: 'once',
    app: false,
    env: sqlEnv,
    argv: [`${server}/temporal-sql-tool`, '--db', db, ...args],
  });
  const appEnv: Record<string, string> = {
    DATABASE_URL: `postgres://postgres:postgres@${pg}/firmware`,
    TEMPORAL_ADDRESS: temporal,
    TEMPORAL_NAMESPACE: 'default',
    FIRMWARE_SERVER_URL: `http://127.0.0.1:${PORTS.firmwareServer}`,
    CATALOG_PUBLIC_KEY_FILE: `${data}/firmware-server/catalog-public.key`,
    FIRMWARE_STORE_DIR: `${data}/store`,
    IMAGE_FIRMWARE_DIR: `${data}/image-firmware`,
    LOG_DIR: `${data}/logs`,
    DATA_DIR: data,
  };
  const commands: Command[] = [
    {
      name: 'postgres',
      kind: 'service',
      app: false,
      env: {},
      comment: 'PostgreSQL (here the embedded one; any PostgreSQL 13 or newer will do)',
      argv: [
        'node',
        'db/embedded-server.ts',
        '--dir',
        `${data}/postgres`,
        '--port',
        String(PORTS.postgres),
        '--database',
        'firmware',
      ],
    },
    {
      ...sql('schema-temporal-db', 'temporal', ['create-database']),
      comment:
        "Temporal's schema: persistence and visibility on PostgreSQL (temporal-sql-tool, schemas embedded)",
    },
    sql('schema-temporal-setup', 'temporal', ['setup-schema', '-v', '0.0']),
    sql('schema-temporal-update', 'temporal', ['update-schema', '--schema-name', 'postgresql/v12/temporal']),
    sql('schema-visibility-db', 'temporal_visibility', ['create-database']),
    sql('schema-visibility-setup', 'temporal_visibility', ['setup-schema', '-v', '0.0']),
    sql('schema-visibility-update', 'temporal_visibility', [
      'update-schema',
      '--schema-name',
      'postgresql/v12/visibility',
    ]),
    {
      name: 'temporal',
      kind: 'service',
      app: false,
      comment:
        'The Temporal server with the config template of the temporalio/server image (config/docker.yaml)',
      env: {
        DB: 'postgres12',
        DB_PORT: String(PORTS.postgres),
        POSTGRES_PORT: String(PORTS.postgres),
        POSTGRES_SEEDS: '127.0.0.1',
        POSTGRES_USER: 'postgres',
        POSTGRES_PWD: 'postgres',
        BIND_ON_IP: '127.0.0.1',
        TEMPORAL_BROADCAST_ADDRESS: '127.0.0.1',
        FRONTEND_GRPC_PORT: String(PORTS.temporal),
        FRONTEND_HTTP_PORT: '17243',
        FRONTEND_MEMBERSHIP_PORT: '16933',
        HISTORY_GRPC_PORT: '17234',
        HISTORY_MEMBERSHIP_PORT: '16934',
        MATCHING_GRPC_PORT: '17235',
        MATCHING_MEMBERSHIP_PORT: '16935',
        WORKER_GRPC_PORT: '17239',
        WORKER_MEMBERSHIP_PORT: '16939',
        DYNAMIC_CONFIG_FILE_PATH: `${server}/config/dynamicconfig/docker.yaml`,
        LOG_LEVEL: 'warn',
      },
      argv: [
        `${server}/temporal-server`,
        '--root',
        server,
        '--config',
        'config',
        '--env',
        'docker',
        '--allow-no-auth',
        'start',
      ],
    },
    {
      name: 'namespace',
      kind: 'once',
      app: false,
      env: {},
      comment:
        'The namespace and the search attributes the workflows set (retried until the namespace is known)',
      argv: [cli, 'operator', 'namespace', 'create', '--address', temporal, '--namespace', 'default'],
    },
    ...SEARCH_ATTRIBUTE_NAMES.map(
      (name): Command => ({
        name: `search-attribute-${name}`,
        kind: 'once',
        app: false,
        env: {},
        argv: [
          cli,
          'operator',
          'search-attribute',
          'create',
          '--address',
          temporal,
          '--namespace',
          'default',
          '--name',
          name,
          '--type',
          'Keyword',
        ],
      }),
    ),
    {
      name: 'firmware-server',
      kind: 'service',
      app: false,
      comment: 'The reference firmware server, a little flaky on purpose (R3: downloads retry and resume)',
      env: {},
      argv: [
        'node',
        'firmware-server/main.ts',
        '--host',
        '127.0.0.1',
        '--port',
        String(PORTS.firmwareServer),
        '--data-dir',
        `${data}/firmware-server`,
        '--size-scale',
        '0.002',
        '--error-rate',
        '0.05',
        '--truncate-share',
        '0.05',
      ],
    },
    ...['worker-a', 'worker-b'].map(
      (name, i): Command => ({
        name,
        kind: 'service',
        app: true,
        comment: i === 0 ? 'Two lifecycle/download workers (scale them horizontally)' : undefined,
        env: { WORKER_ROLES: 'lifecycle,downloads' },
        argv: ['node', 'worker/main.ts'],
      }),
    ),
    ...SITES.map(
      (site, i): Command => ({
        name: `edge-${site.pbx}`,
        kind: 'service',
        app: true,
        comment:
          i === 0
            ? "One phone edge per site: its own task queue (the PBX's phonesTaskQueue) and the ports its phones reach"
            : undefined,
        env: {
          WORKER_ROLES: 'phones',
          TASK_QUEUE_PHONES: site.queue,
          PROVISIONING_PORT: String(site.provisioningPort),
          PROVISIONING_PUBLIC_URL: `http://127.0.0.1:${site.provisioningPort}`,
          SIP_HOST: '127.0.0.1',
          SIP_PORT: String(site.sipPort),
          SIP_PUBLIC_HOST: '127.0.0.1',
          SIP_PUBLIC_PORT: String(site.publicSipPort),
        },
        argv: ['node', 'worker/main.ts'],
      }),
    ),
    ...PORTS.api.map(
      (port, i): Command => ({
        name: `api-${i === 0 ? 'a' : 'b'}`,
        kind: 'service',
        app: true,
        comment: i === 0 ? 'Two API replicas (put any HTTP load balancer in front)' : undefined,
        env: { API_HOST: '127.0.0.1', API_PORT: String(port), API_PUBLIC_URL: `http://127.0.0.1:${port}` },
        argv: ['node', 'api/main.ts'],
      }),
    ),
    {
      name: 'token',
      kind: 'once',
      app: true,
      comment: 'An admin token for the API (printed once)',
      env: {},
      argv: ['node', 'api/tokens.ts', 'create', '--name', 'operator'],
    },
  ];
  return { appEnv, commands };
}

const quote = (v: string) => (/^[\w@%+=:,./-]*$/.test(v) ? v : `'${v.replaceAll("'", "'\\''")}'`);

/** The commands as an operator types them, with $DATA, $TEMPORAL_SERVER and $TEMPORAL_CLI for the directories. */
export function renderTopology(t: Topology, dirs: { data: string; server: string; cli: string }): string {
  const symbolic = (v: string) =>
    v
      .replaceAll(dirs.server, '$TEMPORAL_SERVER')
      .replaceAll(dirs.cli, '$TEMPORAL_CLI')
      .replaceAll(dirs.data, '$DATA');
  const word = (v: string) => {
    const s = symbolic(v);
    return s === v ? quote(v) : `"${s}"`;
  };
  const lines: string[] = [
    '# $DATA: a directory shared by every app process (firmware store, image firmware, per-PBX logs)',
    `# $TEMPORAL_SERVER: temporal-server and temporal-sql-tool (npm run tools -- --server), $TEMPORAL_CLI: temporal`,
    `export ${Object.entries(t.appEnv)
      .map(([k, v]) => `${k}=${word(v)}`)
      .join(' \\\n       ')}`,
  ];
  for (const c of t.commands) {
    if (c.comment) lines.push('', `# ${c.comment}`);
    const env = Object.entries(c.env).map(([k, v]) => `${k}=${word(v)}`);
    const cmd = [...env, ...c.argv.map(word)].join(' ');
    lines.push(c.kind === 'service' ? `${cmd} &` : cmd);
  }
  return lines.join('\n');
}
