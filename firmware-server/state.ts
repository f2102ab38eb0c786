/**
 * The reference firmware server's state: one JSON file in its data dir (it is a reference server, no database),
 * plus its ed25519 key pair. The CLI (publish / withdraw) and the running server share the data dir: every change
 * is written atomically under a lock file and bumps the catalog serial; the server notices the new file.
 * The sha256 of every generated file is computed once, when its release enters the state, and kept there.
 */
import { createHash, createPublicKey, type KeyObject } from 'node:crypto';
import {
  chmodSync,
  existsSync,
  mkdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { open } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import {
  type Catalog,
  type CatalogModel,
  type CatalogRelease,
  catalogModelSchema,
  catalogReleaseSchema,
  catalogSchema,
  FIRMWARE_FILE_NAME_PATTERN,
} from '../domain/catalog.ts';
import { isVendor, modelIdOf, type Vendor } from '../domain/vendors.ts';
import { compareVersions, VERSION_PATTERN } from '../domain/versions.ts';
import {
  catalogKeyId,
  generateCatalogKeyPair,
  privateKeyFromPem,
  rawPublicKeyBase64,
  SIGNING_PRIVATE_KEY_FILE,
  SIGNING_PUBLIC_KEY_FILE,
} from '../lib/catalog-signing.ts';
import type { Logger } from '../lib/logger.ts';
import { type FirmwareFileIdentity, hashFirmware } from './content.ts';
import { releaseIdOf, SEED_MODELS, SEED_RELEASES, scaledSize } from './seed.ts';

export const STATE_FILE = 'state.json';
const LOCK_FILE = 'state.lock';

const storedReleaseSchema = catalogReleaseSchema.extend({ withdrawnAt: z.iso.datetime().optional() });
const serverStateSchema = z.object({
  format: z.literal(1),
  serial: z.number().int().nonnegative(),
  updatedAt: z.iso.datetime(),
  sizeScale: z.number().positive(),
  models: z.array(catalogModelSchema),
  releases: z.array(storedReleaseSchema),
});

export type StoredRelease = z.infer<typeof storedReleaseSchema>;
export type ServerState = z.infer<typeof serverStateSchema>;

export interface SigningKeys {
  privateKey: KeyObject;
  /** base64 raw 32 bytes. */
  publicKey: string;
  keyId: string;
}

export function statePath(dataDir: string): string {
  return join(dataDir, STATE_FILE);
}

export function readState(dataDir: string): ServerState {
  const path = statePath(dataDir);
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new Error(`cannot read firmware server state ${path}: ${err instanceof Error ? err.message : err}`);
  }
  const parsed = serverStateSchema.safeParse(json);
  if (!parsed.success) {
    throw new Error(
      `firmware server state ${path} is invalid: ${parsed.error.issues[0]?.message ?? 'schema'}`,
    );
  }
  return parsed.data;
}

function writeState(dataDir: string, state: ServerState): void {
  // The catalog derived from the state must be valid before anyone can see it.
  catalogSchema.parse(catalogOf(state));
  const path = statePath(dataDir);
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, `${JSON.stringify(state, null, 2)}\n`);
  renameSync(tmp, path);
}

/** The catalog document the server signs: every model, every release not withdrawn. */
export function catalogOf(state: ServerState): Catalog {
  return {
    serial: state.serial,
    generatedAt: state.updatedAt,
    models: state.models,
    releases: state.releases
      .filter((r) => !r.withdrawnAt)
      .map(({ withdrawnAt: _w, ...r }): CatalogRelease => r),
  };
}

export function identityOf(
  r: Pick<CatalogRelease, 'vendor' | 'models' | 'version' | 'fileName' | 'size'>,
): FirmwareFileIdentity {
  return { vendor: r.vendor, models: r.models, version: r.version, fileName: r.fileName, size: r.size };
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Serialises read-modify-write of the state between the server and CLI invocations (same host). */
async function withStateLock<T>(dataDir: string, fn: () => Promise<T> | T): Promise<T> {
  const lock = join(dataDir, LOCK_FILE);
  const deadline = Date.now() + 60_000;
  for (;;) {
    try {
      const fh = await open(lock, 'wx');
      await fh.writeFile(String(process.pid));
      await fh.close();
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const holder = Number(readFileSync(lock, { encoding: 'utf8', flag: 'r' }) || 0);
      if (holder && !pidAlive(holder)) {
        rmSync(lock, { force: true });
        continue;
      }
      if (Date.now() > deadline)
        throw new Error(`firmware server state is locked by pid ${holder} (${lock})`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  try {
    return await fn();
  } finally {
    rmSync(lock, { force: true });
  }
}

/** Applies a change to the state under the lock and publishes it: serial + 1, new generation time. */
export async function updateState(dataDir: string, change: (s: ServerState) => void): Promise<ServerState> {
  return withStateLock(dataDir, () => {
    const state = readState(dataDir);
    change(state);
    state.serial += 1;
    state.updatedAt = new Date().toISOString();
    writeState(dataDir, state);
    return state;
  });
}

/** The key pair, generated on first start (private key 0600); the public key is also written for operators. */
export function ensureSigningKeys(dataDir: string): SigningKeys {
  mkdirSync(dataDir, { recursive: true });
  const privPath = join(dataDir, SIGNING_PRIVATE_KEY_FILE);
  const pubPath = join(dataDir, SIGNING_PUBLIC_KEY_FILE);
  if (!existsSync(privPath)) {
    const pair = generateCatalogKeyPair();
    writeFileSync(`${privPath}.tmp`, pair.privateKeyPem, { mode: 0o600 });
    renameSync(`${privPath}.tmp`, privPath);
  }
  chmodSync(privPath, 0o600);
  const privateKey = privateKeyFromPem(readFileSync(privPath, 'utf8'));
  const publicKeyObject = createPublicKey(privateKey);
  const publicKey = rawPublicKeyBase64(publicKeyObject);
  if (!existsSync(pubPath) || readFileSync(pubPath, 'utf8').trim() !== publicKey) {
    writeFileSync(pubPath, `${publicKey}\n`);
  }
  return { privateKey, publicKey, keyId: catalogKeyId(publicKeyObject) };
}

async function hashWithProgress(
  r: CatalogRelease | Omit<CatalogRelease, 'sha256'>,
  logger?: Logger,
): Promise<string> {
  const started = Date.now();
  const sha = await hashFirmware(identityOf(r), (bytes) =>
    logger?.info(
      { file: r.fileName, bytes, size: r.size, percent: Math.floor((bytes / r.size) * 100) },
      'hashing firmware',
    ),
  );
  logger?.debug({ file: r.fileName, size: r.size, ms: Date.now() - started }, 'hashed firmware');
  return sha;
}

/** First start: the seeded models and releases, sizes scaled, hashes computed once. */
export async function ensureState(
  dataDir: string,
  options: { sizeScale: number; logger?: Logger },
): Promise<ServerState> {
  mkdirSync(dataDir, { recursive: true });
  if (existsSync(statePath(dataDir))) {
    const state = readState(dataDir);
    if (state.sizeScale !== options.sizeScale) {
      options.logger?.warn(
        { stored: state.sizeScale, requested: options.sizeScale, dataDir },
        'FIRMWARE_SIZE_SCALE differs from the one this data dir was seeded with; keeping the stored releases',
      );
    }
    return state;
  }
  return withStateLock(dataDir, async () => {
    if (existsSync(statePath(dataDir))) return readState(dataDir);
    const models: CatalogModel[] = SEED_MODELS.map((m) => ({
      id: modelIdOf(m.vendor, m.model),
      vendor: m.vendor,
      model: m.model,
      provisioningKey: m.provisioningKey,
    }));
    const total = SEED_RELEASES.reduce((n, r) => n + scaledSize(r.nominalSize, options.sizeScale), 0);
    options.logger?.info(
      { releases: SEED_RELEASES.length, bytes: total, sizeScale: options.sizeScale },
      'seeding the firmware catalog (hashing every generated file once)',
    );
    const releases: StoredRelease[] = [];
    for (const s of SEED_RELEASES) {
      const base = {
        id: releaseIdOf(s.vendor, s.models[0] as string, s.version),
        vendor: s.vendor,
        models: s.models.map((m) => modelIdOf(s.vendor, m)),
        version: s.version,
        fileName: s.fileName,
        size: scaledSize(s.nominalSize, options.sizeScale),
        releasedAt: s.releasedAt,
        notes: s.notes,
      };
      releases.push({ ...base, sha256: await hashWithProgress(base, options.logger) });
    }
    const state: ServerState = {
      format: 1,
      serial: 1,
      updatedAt: new Date().toISOString(),
      sizeScale: options.sizeScale,
      models,
      releases,
    };
    writeState(dataDir, state);
    return state;
  });
}

export interface PublishInput {
  vendor: string;
  /** Model names (`T54W`) or model ids (`yealink-t54w`) already in the catalog. */
  models: string[];
  version: string;
  /** Bytes; default: the size of the newest release of the first model. */
  size?: number;
  fileName?: string;
  notes?: string;
  releasedAt?: string;
}

/** The vendor's file name for a new version, derived from the newest file of the family when there is one. */
function derivedFileName(
  template: StoredRelease | undefined,
  vendor: Vendor,
  model: string,
  version: string,
): string {
  if (template?.fileName.includes(template.version)) {
    // Gigaset names carry a build id: give the new version its own (deterministic) one.
    const build = createHash('sha1').update(version).digest('hex').slice(0, 7);
    return template.fileName
      .replace(template.version, version)
      .replace(/build\.[0-9a-f]{7}/, `build.${build}`);
  }
  return `${vendor === 'snom' ? `snom${model}` : model}-${version}.bin`;
}

export async function publishRelease(
  dataDir: string,
  input: PublishInput,
  logger?: Logger,
): Promise<StoredRelease> {
  if (!isVendor(input.vendor))
    throw new Error(`unknown vendor ${JSON.stringify(input.vendor)} (yealink, snom, grandstream, gigaset)`);
  const vendor = input.vendor;
  if (!VERSION_PATTERN.test(input.version))
    throw new Error(`not a firmware version: ${JSON.stringify(input.version)}`);
  if (input.models.length === 0) throw new Error('a release covers at least one model (--models)');
  const before = readState(dataDir);
  const modelIds = input.models.map((m) => {
    const id = m.startsWith(`${vendor}-`) ? m : modelIdOf(vendor, m);
    if (!before.models.some((x) => x.id === id)) {
      const known = before.models.filter((x) => x.vendor === vendor).map((x) => x.model);
      throw new Error(`unknown ${vendor} model ${JSON.stringify(m)}; known: ${known.join(', ')}`);
    }
    return id;
  });
  const firstModel = before.models.find((m) => m.id === modelIds[0]) as CatalogModel;
  const template = before.releases
    .filter((r) => r.models.includes(firstModel.id))
    .sort((a, b) => compareVersions(b.version, a.version))[0];
  const fileName = input.fileName ?? derivedFileName(template, vendor, firstModel.model, input.version);
  if (!FIRMWARE_FILE_NAME_PATTERN.test(fileName))
    throw new Error(`file name is not URL-safe: ${JSON.stringify(fileName)}`);
  const size = input.size ?? template?.size;
  if (size === undefined || !Number.isSafeInteger(size) || size <= 0)
    throw new Error('give the file size (--size)');
  const release: Omit<StoredRelease, 'sha256'> = {
    id: releaseIdOf(vendor, firstModel.model, input.version),
    vendor,
    models: modelIds,
    version: input.version,
    fileName,
    size,
    releasedAt: input.releasedAt ?? new Date().toISOString(),
    notes: input.notes ?? '',
  };
  const conflict = (s: ServerState) => {
    const same = s.releases.find((r) => r.id === release.id || r.fileName === release.fileName);
    if (same)
      throw new Error(
        `release ${same.id} (${same.fileName}) already exists${same.withdrawnAt ? ' (withdrawn)' : ''}`,
      );
  };
  conflict(before);
  // Hash outside the lock: a 700 MB image takes a while, the server keeps serving meanwhile.
  const sha256 = await hashWithProgress({ ...release, sha256: '' }, logger);
  const full = catalogReleaseSchema.parse({ ...release, sha256 });
  await updateState(dataDir, (s) => {
    conflict(s);
    s.releases.push(full);
  });
  return full;
}

export async function withdrawRelease(dataDir: string, releaseId: string): Promise<StoredRelease> {
  let withdrawn: StoredRelease | undefined;
  await updateState(dataDir, (s) => {
    const r = s.releases.find((x) => x.id === releaseId);
    if (!r) throw new Error(`no release ${JSON.stringify(releaseId)}`);
    if (r.withdrawnAt) throw new Error(`release ${releaseId} is already withdrawn`);
    r.withdrawnAt = new Date().toISOString();
    withdrawn = r;
  });
  return withdrawn as StoredRelease;
}

/** Change detection for a running server: the state file's identity. */
export function stateStamp(dataDir: string): string {
  const st = statSync(statePath(dataDir));
  return `${st.mtimeMs}:${st.size}:${st.ino}`;
}
