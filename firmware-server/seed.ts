/**
 * What a freshly started reference firmware server offers: every model of R1 and one or two releases per
 * firmware family, with vendor-style version strings and file names and realistic sizes (see the sizes the
 * vendors publish: Yealink T5x ~45 MB, T58W ~720 MB, Snom D7xx 34–50 MB, Gigaset Nx70 ~45 MB, ...).
 *
 * File names follow the vendors' names, normalised to be URL-safe for phones: Yealink's
 * `T54W(T57W,T53W,T53,T53C,T54,T57)-96.86.0.70.rom` becomes `T54W-96.86.0.70.rom` (the covered models are in the
 * release's `models`), and Grandstream's fixed `ht802fw.bin` gets its version (`ht802fw-1.0.63.3.bin`) so every
 * release has a name of its own on the server.
 */
import { modelIdOf, type Vendor } from '../domain/vendors.ts';

export interface SeedModel {
  vendor: Vendor;
  model: string;
  provisioningKey: string;
}

export interface SeedRelease {
  vendor: Vendor;
  /** Model names (not ids) this image covers. */
  models: string[];
  version: string;
  fileName: string;
  /** Realistic size in bytes before FIRMWARE_SIZE_SCALE. */
  nominalSize: number;
  releasedAt: string;
  notes: string;
}

const MB = 1_000_000;

export const SEED_MODELS: SeedModel[] = [
  // Yealink: the provisioning key is the family's common-file code (y0000000000XX.cfg).
  { vendor: 'yealink', model: 'T31', provisioningKey: '123' },
  { vendor: 'yealink', model: 'T46U', provisioningKey: '108' },
  { vendor: 'yealink', model: 'T53', provisioningKey: '095' },
  { vendor: 'yealink', model: 'T54W', provisioningKey: '096' },
  { vendor: 'yealink', model: 'T57', provisioningKey: '097' },
  { vendor: 'yealink', model: 'T58W', provisioningKey: '150' },
  { vendor: 'yealink', model: 'VP59', provisioningKey: '091' },
  { vendor: 'yealink', model: 'CP920', provisioningKey: '078' },
  { vendor: 'yealink', model: 'CP925', provisioningKey: '148' },
  { vendor: 'yealink', model: 'CP960', provisioningKey: '073' },
  { vendor: 'yealink', model: 'CP965', provisioningKey: '143' },
  // Snom: the model token the phone uses in snom<Model>.htm and its User-Agent.
  ...[
    'D120',
    'D315',
    'D345',
    'D385',
    'D712',
    'D715',
    'D717',
    'D725',
    'D735',
    'D785',
    'D862',
    'D865',
    'PA1',
  ].map((model): SeedModel => ({ vendor: 'snom', model, provisioningKey: `snom${model}` })),
  // Grandstream: the model.
  ...['HT802', 'HT812', 'HT814'].map(
    (model): SeedModel => ({ vendor: 'grandstream', model, provisioningKey: model }),
  ),
  // Gigaset: the family; one image serves N670, N870 and N610.
  ...['N670', 'N870', 'N610'].map(
    (model): SeedModel => ({ vendor: 'gigaset', model, provisioningKey: 'Nx70' }),
  ),
];

function snom(
  model: string,
  version: string,
  mb: number,
  releasedAt: string,
  options: { token?: string; suffix?: string; ext?: string } = {},
): SeedRelease {
  const token = options.token ?? `snom${model}`;
  return {
    vendor: 'snom',
    models: [model],
    version,
    fileName: `${token}-${version}-SIP-${options.suffix ?? 'r'}.${options.ext ?? 'bin'}`,
    nominalSize: Math.round(mb * MB),
    releasedAt,
    notes: `Snom ${model} firmware ${version}.`,
  };
}

export const SEED_RELEASES: SeedRelease[] = [
  // ---- Yealink: <hardware prefix>.<release>.<x>.<y>
  {
    vendor: 'yealink',
    models: ['T31'],
    version: '124.86.0.75',
    fileName: 'T31-124.86.0.75.rom',
    nominalSize: 37.6 * MB,
    releasedAt: '2025-03-18T00:00:00.000Z',
    notes: 'T3x family (T30, T31, T31G, T33G). Security fixes, improved BLF handling.',
  },
  {
    vendor: 'yealink',
    models: ['T46U'],
    version: '108.86.0.90',
    fileName: 'T46U-108.86.0.90.rom',
    nominalSize: 46.5 * MB,
    releasedAt: '2025-02-11T00:00:00.000Z',
    notes: 'T4xU family (T41U, T42U, T43U, T46U, T48U).',
  },
  {
    vendor: 'yealink',
    models: ['T54W', 'T57', 'T53'],
    version: '96.86.0.45',
    fileName: 'T54W-96.86.0.45.rom',
    nominalSize: 45.8 * MB,
    releasedAt: '2024-06-04T00:00:00.000Z',
    notes: 'T5x family (T53, T53W, T53C, T54W, T57W).',
  },
  {
    vendor: 'yealink',
    models: ['T54W', 'T57', 'T53'],
    version: '96.86.0.70',
    fileName: 'T54W-96.86.0.70.rom',
    nominalSize: 47.2 * MB,
    releasedAt: '2025-04-22T00:00:00.000Z',
    notes: 'T5x family (T53, T53W, T53C, T54W, T57W). Wi-Fi roaming fixes, new BLF list options.',
  },
  {
    vendor: 'yealink',
    models: ['T58W'],
    version: '150.86.0.5',
    fileName: 'T58W-150.86.0.5.rom',
    nominalSize: 721 * MB,
    releasedAt: '2025-01-28T00:00:00.000Z',
    notes: 'T58W (Android). Full system image.',
  },
  {
    vendor: 'yealink',
    models: ['VP59'],
    version: '91.86.0.20',
    fileName: 'VP59-91.86.0.20.rom',
    nominalSize: 688 * MB,
    releasedAt: '2024-11-05T00:00:00.000Z',
    notes: 'VP59 (Android video phone). Full system image.',
  },
  {
    vendor: 'yealink',
    models: ['CP920'],
    version: '78.86.0.15',
    fileName: 'CP920-78.86.0.15.rom',
    nominalSize: 21.4 * MB,
    releasedAt: '2024-09-17T00:00:00.000Z',
    notes: 'CP920 conference phone.',
  },
  {
    vendor: 'yealink',
    models: ['CP925'],
    version: '148.86.0.5',
    fileName: 'CP925-148.86.0.5.rom',
    nominalSize: 34.8 * MB,
    releasedAt: '2025-01-14T00:00:00.000Z',
    notes: 'CP925 conference phone.',
  },
  {
    vendor: 'yealink',
    models: ['CP960'],
    version: '73.85.0.5',
    fileName: 'CP960-73.85.0.5.rom',
    nominalSize: 205 * MB,
    releasedAt: '2023-10-10T00:00:00.000Z',
    notes: 'CP960 conference phone (Android).',
  },
  {
    vendor: 'yealink',
    models: ['CP965'],
    version: '143.86.0.10',
    fileName: 'CP965-143.86.0.10.rom',
    nominalSize: 435 * MB,
    releasedAt: '2025-02-25T00:00:00.000Z',
    notes: 'CP965 conference phone (Android).',
  },
  // ---- Snom: 10.1.<build>.<patch>; D715/D725 images are named snom715/snom725, D8xx ship .swu images.
  snom('D120', '10.1.184.15', 17.5, '2025-03-04T00:00:00.000Z'),
  snom('D315', '10.1.184.15', 28, '2025-03-04T00:00:00.000Z'),
  snom('D345', '10.1.184.15', 28.1, '2025-03-04T00:00:00.000Z'),
  snom('D385', '10.1.184.15', 28.3, '2025-03-04T00:00:00.000Z'),
  snom('D712', '10.1.184.15', 34.2, '2025-03-04T00:00:00.000Z'),
  snom('D715', '10.1.184.15', 38.4, '2025-03-04T00:00:00.000Z', { token: 'snom715' }),
  snom('D717', '10.1.184.15', 42.1, '2025-03-04T00:00:00.000Z'),
  snom('D725', '10.1.184.15', 44.9, '2025-03-04T00:00:00.000Z', { token: 'snom725' }),
  snom('D735', '10.1.184.15', 47.6, '2025-03-04T00:00:00.000Z'),
  snom('D785', '10.1.169.12', 49.1, '2024-07-16T00:00:00.000Z'),
  snom('D785', '10.1.184.15', 50.2, '2025-03-04T00:00:00.000Z'),
  snom('D862', '10.1.184.15', 133.4, '2025-03-04T00:00:00.000Z', { ext: 'swu' }),
  snom('D865', '10.1.184.15', 135.1, '2025-03-04T00:00:00.000Z', { ext: 'swu' }),
  snom('PA1', '8.7.5.35', 9.6, '2023-05-09T00:00:00.000Z', { suffix: 'f' }),
  // ---- Grandstream HT8xx: 1.0.<x>.<y>
  {
    vendor: 'grandstream',
    models: ['HT802'],
    version: '1.0.63.3',
    fileName: 'ht802fw-1.0.63.3.bin',
    nominalSize: 19.2 * MB,
    releasedAt: '2025-02-18T00:00:00.000Z',
    notes: 'HT802 analog telephone adapter.',
  },
  {
    vendor: 'grandstream',
    models: ['HT812', 'HT814'],
    version: '1.0.61.5',
    fileName: 'ht81xfw-1.0.61.5.bin',
    nominalSize: 19.8 * MB,
    releasedAt: '2025-01-21T00:00:00.000Z',
    notes: 'HT812 / HT814 analog telephone adapters (one image).',
  },
  // ---- Gigaset Nx70 family (N670, N870, N610): 2.<x>.<y>
  {
    vendor: 'gigaset',
    models: ['N670', 'N870', 'N610'],
    version: '2.61.1',
    fileName: 'Gigaset-Nx70-V2.61.1-build.1dc2d4b.bin',
    nominalSize: 42.7 * MB,
    releasedAt: '2024-08-27T00:00:00.000Z',
    notes: 'Nx70 family DECT multicell base.',
  },
  {
    vendor: 'gigaset',
    models: ['N670', 'N870', 'N610'],
    version: '2.65.0',
    fileName: 'Gigaset-Nx70-V2.65.0-build.8504c90.bin',
    nominalSize: 45.3 * MB,
    releasedAt: '2025-03-25T00:00:00.000Z',
    notes: 'Nx70 family DECT multicell base. Faster handover, TLS 1.3.',
  },
];

/** Smallest generated file, whatever the scale (keeps headers, ranges and resumes meaningful in tests). */
export const MIN_FILE_SIZE = 4096;

export function scaledSize(nominal: number, scale: number): number {
  return Math.max(MIN_FILE_SIZE, Math.round(nominal * scale));
}

/** `yealink-t54w-96.86.0.70`: vendor, the first covered model, version. */
export function releaseIdOf(vendor: Vendor, firstModel: string, version: string): string {
  return `${modelIdOf(vendor, firstModel)}-${version.toLowerCase()}`;
}
