/**
 * R14: the three logs every PBX has, one folder per PBX under LOG_DIR:
 *   firmwares.log          checks and downloads with outcome, versions, bytes, duration
 *   firmware-journal.log   append-only journal of every state change (what, when, why, who)
 *   autoprov.log           phones fetching provisioning and firmware
 * Lines are JSON (pino). Several processes may append to the same file; each line is one write.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import pino, { type Logger } from 'pino';

export const PBX_LOG_NAMES = ['firmwares', 'firmware-journal', 'autoprov'] as const;
export type PbxLogName = (typeof PBX_LOG_NAMES)[number];

const PBX_ID = /^[a-z0-9][a-z0-9-]{0,62}$/;

export class PbxLogs {
  readonly #dir: string;
  readonly #open = new Map<string, { logger: Logger; stream: pino.DestinationStream & { end(): void } }>();
  readonly #maxOpen: number;

  constructor(logDir: string, maxOpen = 256) {
    this.#dir = logDir;
    this.#maxOpen = maxOpen;
  }

  pathOf(pbxId: string, name: PbxLogName): string {
    if (!PBX_ID.test(pbxId)) throw new Error(`invalid PBX id for a log path: ${JSON.stringify(pbxId)}`);
    return join(this.#dir, pbxId, `${name}.log`);
  }

  /** The logger writing `<LOG_DIR>/<pbxId>/<name>.log`. */
  get(pbxId: string, name: PbxLogName): Logger {
    const key = `${pbxId}/${name}`;
    const hit = this.#open.get(key);
    if (hit) {
      // Refresh the entry's position so the least recently used file is closed first.
      this.#open.delete(key);
      this.#open.set(key, hit);
      return hit.logger;
    }
    const path = this.pathOf(pbxId, name);
    mkdirSync(join(this.#dir, pbxId), { recursive: true });
    const stream = pino.destination({
      dest: path,
      append: true,
      sync: true,
      mkdir: true,
    }) as unknown as pino.DestinationStream & {
      end(): void;
    };
    const logger = pino(
      { base: { pbx: pbxId, log: name }, timestamp: pino.stdTimeFunctions.isoTime },
      stream,
    );
    this.#open.set(key, { logger, stream });
    if (this.#open.size > this.#maxOpen) {
      const [oldestKey, oldest] = this.#open.entries().next().value as [string, { stream: { end(): void } }];
      this.#open.delete(oldestKey);
      oldest.stream.end();
    }
    return logger;
  }

  firmwares(pbxId: string): Logger {
    return this.get(pbxId, 'firmwares');
  }

  journal(pbxId: string): Logger {
    return this.get(pbxId, 'firmware-journal');
  }

  autoprov(pbxId: string): Logger {
    return this.get(pbxId, 'autoprov');
  }

  close(): void {
    for (const { stream } of this.#open.values()) stream.end();
    this.#open.clear();
  }
}
