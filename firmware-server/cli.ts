/**
 * Operates on a reference firmware server's data dir (running or not; a running server serves the change at once:
 * the catalog serial grows and its ETag changes).
 *   node firmware-server/cli.ts publish --vendor yealink --models T54W,T57,T53 --version 96.86.0.80 [--size 48MB] [--notes "..."] [--file-name X]
 *   node firmware-server/cli.ts withdraw <releaseId>
 *   node firmware-server/cli.ts list [--json]
 * --data-dir <dir> (default FIRMWARE_SERVER_DATA_DIR, <DATA_DIR>/firmware-server).
 */
import { existsSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { loadConfig } from '../lib/config.ts';
import { createLogger } from '../lib/logger.ts';
import { publishRelease, readState, statePath, withdrawRelease } from './state.ts';

/** `48MB`, `1.5GB`, `700MiB`, `123456` → bytes. */
export function parseSize(text: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*(|B|KB|MB|GB|KiB|MiB|GiB)$/i.exec(text.trim());
  if (!m) throw new Error(`not a size: ${JSON.stringify(text)} (e.g. 48MB, 700MiB, 123456)`);
  const units: Record<string, number> = {
    '': 1,
    b: 1,
    kb: 1e3,
    mb: 1e6,
    gb: 1e9,
    kib: 1024,
    mib: 1024 ** 2,
    gib: 1024 ** 3,
  };
  const bytes = Math.round(Number(m[1]) * (units[(m[2] ?? '').toLowerCase()] ?? 1));
  if (!Number.isSafeInteger(bytes) || bytes <= 0) throw new Error(`size out of range: ${text}`);
  return bytes;
}

function usage(): never {
  process.stderr.write(
    'usage: cli.ts publish --vendor <v> --models <M1,M2> --version <x.y.z> [--size 48MB] [--notes ...] [--file-name ...]\n' +
      '       cli.ts withdraw <releaseId>\n' +
      '       cli.ts list [--json]\n' +
      '       (all take --data-dir <dir>)\n',
  );
  process.exit(2);
}

async function main(argv: string[]) {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      'data-dir': { type: 'string' },
      vendor: { type: 'string' },
      models: { type: 'string' },
      version: { type: 'string' },
      size: { type: 'string' },
      notes: { type: 'string' },
      'file-name': { type: 'string' },
      json: { type: 'boolean' },
    },
  });
  const config = loadConfig();
  const dataDir = values['data-dir'] ?? config.firmwareServer.dataDir;
  const [command, ...rest] = positionals;
  if (!command) usage();
  if (!existsSync(statePath(dataDir))) {
    throw new Error(`no firmware server state in ${dataDir} (start the server once, or pass --data-dir)`);
  }
  if (command === 'publish') {
    if (!values.vendor || !values.models || !values.version) usage();
    const release = await publishRelease(
      dataDir,
      {
        vendor: values.vendor,
        models: values.models
          .split(',')
          .map((m) => m.trim())
          .filter(Boolean),
        version: values.version,
        ...(values.size ? { size: parseSize(values.size) } : {}),
        ...(values.notes !== undefined ? { notes: values.notes } : {}),
        ...(values['file-name'] ? { fileName: values['file-name'] } : {}),
      },
      createLogger('firmware-cli', config.logLevel),
    );
    const state = readState(dataDir);
    process.stdout.write(`${JSON.stringify({ published: release, serial: state.serial })}\n`);
  } else if (command === 'withdraw') {
    const id = rest[0];
    if (!id) usage();
    const release = await withdrawRelease(dataDir, id);
    process.stdout.write(`${JSON.stringify({ withdrawn: release.id, serial: readState(dataDir).serial })}\n`);
  } else if (command === 'list') {
    const state = readState(dataDir);
    if (values.json) {
      process.stdout.write(`${JSON.stringify(state)}\n`);
      return;
    }
    process.stdout.write(
      `serial ${state.serial}, ${state.models.length} models, ${state.releases.length} releases\n`,
    );
    for (const r of state.releases) {
      process.stdout.write(
        `${r.withdrawnAt ? 'W' : ' '} ${r.id.padEnd(34)} ${r.version.padEnd(13)} ${String(r.size).padStart(11)}  ${r.fileName}  [${r.models.join(',')}]\n`,
      );
    }
  } else {
    usage();
  }
}

if (import.meta.main) {
  main(process.argv.slice(2)).catch((err) => {
    process.stderr.write(`error: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  });
}
