/**
 * R2: image-managed models (Snom M900, legacy devices) get their firmware from the PBX image, not from the firmware
 * server. `IMAGE_FIRMWARE_DIR/manifest.json` lists them:
 *   { "models": [{ "vendor": "snom", "model": "M900", "version": "5.20.1", "fileName": "snomM900-5.20.1.bin",
 *                  "provisioningKey": "snomM900" }] }
 * syncImageFirmware registers them as image-managed phone models and gives every PBX with accounts of such a model
 * a local_firmware row (source 'image'). They are never downloaded and never deleted (R4/R5 do not apply).
 */
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { and, eq, ne, sql } from 'drizzle-orm';
import { z } from 'zod';
import { appendJournal } from '../db/queries/journal.ts';
import { localFirmware, phoneAccounts, phoneModels } from '../db/schema.ts';
import { FIRMWARE_FILE_NAME_PATTERN, modelNameSchema, provisioningKeySchema } from '../domain/catalog.ts';
import { modelIdOf, VENDORS } from '../domain/vendors.ts';
import { VERSION_PATTERN } from '../domain/versions.ts';
import type { ActivityDeps } from './deps.ts';

export const IMAGE_MANIFEST_FILE = 'manifest.json';

const imageModelSchema = z
  .object({
    vendor: z.enum(VENDORS),
    model: modelNameSchema,
    version: z.string().regex(VERSION_PATTERN),
    fileName: z.string().regex(FIRMWARE_FILE_NAME_PATTERN),
    /** Default: the model name. */
    provisioningKey: provisioningKeySchema.optional(),
    notes: z.string().optional(),
  })
  .strict();
export const imageManifestSchema = z.object({ models: z.array(imageModelSchema) }).strict();
export type ImageModel = z.infer<typeof imageModelSchema>;

/** The image's manifest; no manifest means no image-managed models. A broken one is a clear error. */
export async function readImageManifest(dir: string): Promise<ImageModel[]> {
  const path = join(dir, IMAGE_MANIFEST_FILE);
  if (!existsSync(path)) return [];
  let json: unknown;
  try {
    json = JSON.parse(await readFile(path, 'utf8'));
  } catch (err) {
    throw new Error(
      `image firmware manifest ${path} is not JSON: ${err instanceof Error ? err.message : err}`,
    );
  }
  const parsed = imageManifestSchema.safeParse(json);
  if (!parsed.success) {
    const i = parsed.error.issues[0];
    throw new Error(`image firmware manifest ${path} is invalid: ${i?.path.join('.')}: ${i?.message}`);
  }
  return parsed.data.models;
}

export interface ImageSyncResult {
  models: string[];
  /** local_firmware rows created (or moved to a new image version). */
  registered: Array<{ pbxId: string; modelId: string; version: string }>;
}

/** Registers the image's models and their local firmware, for one PBX or for every PBX. */
export async function syncImageFirmware(
  deps: ActivityDeps,
  options: { pbxId?: string } = {},
): Promise<ImageSyncResult> {
  const { db, config, logger } = deps;
  const models = await readImageManifest(config.imageFirmwareDir);
  const registered: ImageSyncResult['registered'] = [];
  for (const m of models) {
    const modelId = modelIdOf(m.vendor, m.model);
    if (!existsSync(join(config.imageFirmwareDir, m.fileName))) {
      logger.warn(
        { modelId, fileName: m.fileName, dir: config.imageFirmwareDir },
        'image firmware file is missing',
      );
    }
    await db
      .insert(phoneModels)
      .values({
        id: modelId,
        vendor: m.vendor,
        model: m.model,
        provisioningKey: m.provisioningKey ?? m.model,
        imageManaged: true,
        inCatalog: false,
      })
      .onConflictDoUpdate({
        target: phoneModels.id,
        set: { imageManaged: true, provisioningKey: m.provisioningKey ?? m.model, updatedAt: new Date() },
      });
    const pbxIds = await db
      .selectDistinct({ pbxId: phoneAccounts.pbxId })
      .from(phoneAccounts)
      .where(
        and(
          eq(phoneAccounts.modelId, modelId),
          options.pbxId ? eq(phoneAccounts.pbxId, options.pbxId) : undefined,
        ),
      );
    for (const { pbxId } of pbxIds) {
      const created = await db.transaction(async (tx) => {
        // The image changed version: the old image file is gone with it.
        await tx
          .delete(localFirmware)
          .where(
            and(
              eq(localFirmware.pbxId, pbxId),
              eq(localFirmware.modelId, modelId),
              eq(localFirmware.source, 'image'),
              ne(localFirmware.version, m.version),
            ),
          );
        const rows = await tx
          .insert(localFirmware)
          .values({ pbxId, modelId, version: m.version, fileName: m.fileName, sha256: null, source: 'image' })
          .onConflictDoUpdate({
            target: [localFirmware.pbxId, localFirmware.modelId, localFirmware.version],
            set: { fileName: m.fileName },
            setWhere: sql`${localFirmware.fileName} <> excluded.file_name`,
          })
          .returning({ inserted: sql<boolean>`xmax = 0` });
        return rows[0]?.inserted === true;
      });
      if (created) {
        registered.push({ pbxId, modelId, version: m.version });
        await appendJournal(db, deps.logs, {
          pbxId,
          action: 'firmware.image-registered',
          why: 'system',
          who: 'system',
          modelId,
          details: { version: m.version, fileName: m.fileName, source: 'image' },
        });
      }
    }
  }
  return { models: models.map((m) => modelIdOf(m.vendor, m.model)), registered };
}

/** The demo image: Snom M900 (firmware inside the PBX image) and one legacy Yealink desk phone. */
export const DEMO_IMAGE_MODELS: ImageModel[] = [
  {
    vendor: 'snom',
    model: 'M900',
    version: '5.20.1',
    fileName: 'snomM900-5.20.1.bin',
    provisioningKey: 'snomM900',
    notes: 'DECT multicell base; firmware ships with the PBX image (R2).',
  },
  {
    vendor: 'yealink',
    model: 'T46S',
    version: '66.86.0.15',
    fileName: 'T46S-66.86.0.15.rom',
    provisioningKey: '028',
    notes: 'Legacy model, provisioned from the image copy (R2).',
  },
];

/**
 * Writes a demo image folder (manifest + small deterministic firmware files), as a PBX image would carry it.
 * Existing files are left as they are.
 */
export async function writeDemoImageFirmware(
  dir: string,
  models: ImageModel[] = DEMO_IMAGE_MODELS,
): Promise<void> {
  await mkdir(dir, { recursive: true });
  for (const m of models) {
    const path = join(dir, m.fileName);
    if (existsSync(path)) continue;
    const header = Buffer.from(
      `PFD-IMAGE-FIRMWARE/1 vendor=${m.vendor} model=${m.model} version=${m.version}\n`,
    );
    const body = Buffer.alloc(64 * 1024);
    for (let i = 0; i < body.length; i += 32) {
      createHash('sha256').update(`${m.fileName}:${i}`).digest().copy(body, i);
    }
    await writeFile(`${path}.tmp`, Buffer.concat([header, body]));
    await rename(`${path}.tmp`, path);
  }
  const manifest = join(dir, IMAGE_MANIFEST_FILE);
  if (!existsSync(manifest)) await writeFile(manifest, `${JSON.stringify({ models }, null, 2)}\n`);
}
