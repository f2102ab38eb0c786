import { join } from 'node:path';

const SHA256 = /^[0-9a-f]{64}$/;

/**
 * Content-addressed firmware store shared by all PBXes (R16): one file per sha256 under
 * `<FIRMWARE_STORE_DIR>/blobs/<first two hex digits>/<sha256>`. Partial downloads live in `<store>/partial/`.
 */
export function blobPath(storeDir: string, sha256: string): string {
  if (!SHA256.test(sha256)) throw new Error(`not a sha256: ${JSON.stringify(sha256)}`);
  return join(storeDir, 'blobs', sha256.slice(0, 2), sha256);
}

export function partialDir(storeDir: string): string {
  return join(storeDir, 'partial');
}

/**
 * Where the bytes of a PBX's local firmware are: a blob of the store for downloaded firmware, or a file of
 * the PBX image folder for image-managed models (R2).
 */
export function localFirmwarePath(
  dirs: { firmwareStoreDir: string; imageFirmwareDir: string },
  row: { source: 'download' | 'image'; sha256: string | null; fileName: string },
): string {
  if (row.source === 'image') {
    if (row.fileName.includes('/') || row.fileName.includes('\\') || row.fileName.startsWith('.')) {
      throw new Error(`image firmware file name must be a plain name: ${JSON.stringify(row.fileName)}`);
    }
    return join(dirs.imageFirmwareDir, row.fileName);
  }
  if (!row.sha256) throw new Error('downloaded firmware without sha256');
  return blobPath(dirs.firmwareStoreDir, row.sha256);
}
