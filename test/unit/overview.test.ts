import { describe, expect, it } from 'vitest';
import { firmwareOverview, type OverviewInput } from '../../domain/overview.ts';

const t54w = { modelId: 'yealink-t54w', vendor: 'yealink', model: 'T54W', imageManaged: false, accounts: 3 };
const d785 = { modelId: 'snom-d785', vendor: 'snom', model: 'D785', imageManaged: false, accounts: 1 };
const m900 = { modelId: 'snom-m900', vendor: 'snom', model: 'M900', imageManaged: true, accounts: 2 };

function input(over: Partial<OverviewInput>): OverviewInput {
  return { types: [t54w], installed: [], localFirmware: [], catalogReleases: [], autoUpdate: [], ...over };
}

const release = (version: string, modelIds = ['yealink-t54w'], withdrawn = false) => ({
  modelIds,
  version,
  withdrawn,
});
const local = (version: string, modelId = 'yealink-t54w', source: 'download' | 'image' = 'download') => ({
  modelId,
  version,
  source,
});

describe('firmware overview (R6)', () => {
  it("issue 13: storedVersions lists each version stored for the type once, newest first by version order (what a hold or downgrade may name), and no other type's", () => {
    const [row] = firmwareOverview(
      input({
        localFirmware: [
          local('96.86.0.9'),
          local('96.86.0.100'),
          local('96.86.0.45', 'yealink-t54w', 'image'),
          local('96.86.0.45'),
          local('10.1.33.33', 'snom-d785'),
        ],
      }),
    );
    expect(row?.storedVersions).toEqual(['96.86.0.100', '96.86.0.45', '96.86.0.9']);
    expect(firmwareOverview(input({}))[0]?.storedVersions).toEqual([]);
  });

  it('R6/R4: lists only types with at least one account, vendor label and exact model name', () => {
    const rows = firmwareOverview(
      input({
        types: [t54w, { ...d785, accounts: 0 }],
        installed: [{ modelId: 'yealink-t54w', version: '96.86.0.70', phones: 3 }],
      }),
    );
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ vendor: 'Yealink', model: 'T54W', modelId: 'yealink-t54w', accounts: 3 });
  });

  it('R6: "in use" shows each version with its phone count when phones differ, newest first, unknown last', () => {
    const [row] = firmwareOverview(
      input({
        installed: [
          { modelId: 'yealink-t54w', version: '96.86.0.45', phones: 1 },
          { modelId: 'yealink-t54w', version: null, phones: 1 },
          { modelId: 'yealink-t54w', version: '96.86.0.70', phones: 2 },
          { modelId: 'snom-d785', version: '10.1.33.33', phones: 9 },
        ],
      }),
    );
    expect(row?.inUse).toEqual([
      { version: '96.86.0.70', phones: 2 },
      { version: '96.86.0.45', phones: 1 },
      { version: null, phones: 1 },
    ]);
  });

  it('R6: newest local is empty when nothing newer than in use was downloaded', () => {
    const [row] = firmwareOverview(
      input({
        installed: [{ modelId: 'yealink-t54w', version: '96.86.0.70', phones: 3 }],
        localFirmware: [local('96.86.0.45'), local('96.86.0.70')],
      }),
    );
    expect(row?.newestLocal).toBeNull();
  });

  it('R6: newest local shows the newest stored version when it is newer than what some phone runs', () => {
    const [row] = firmwareOverview(
      input({
        installed: [
          { modelId: 'yealink-t54w', version: '96.86.0.70', phones: 2 },
          { modelId: 'yealink-t54w', version: '96.86.0.45', phones: 1 },
        ],
        localFirmware: [local('96.86.0.70'), local('96.86.0.45'), local('96.85.0.5', 'snom-d785')],
      }),
    );
    expect(row?.newestLocal).toBe('96.86.0.70');
  });

  it('R6: newest local is shown when no phone has reported a version yet', () => {
    const [row] = firmwareOverview(input({ localFirmware: [local('96.86.0.70')] }));
    expect(row?.inUse).toEqual([]);
    expect(row?.newestLocal).toBe('96.86.0.70');
  });

  it('R6: newest available is the newest offered release newer than local firmware and in use', () => {
    const [row] = firmwareOverview(
      input({
        installed: [{ modelId: 'yealink-t54w', version: '96.86.0.45', phones: 3 }],
        localFirmware: [local('96.86.0.70')],
        catalogReleases: [release('96.86.0.70'), release('96.86.0.100'), release('96.87.0.1', ['snom-d785'])],
      }),
    );
    expect(row).toMatchObject({ newestLocal: '96.86.0.70', newestAvailable: '96.86.0.100' });
  });

  it('R6: newest available is empty when the firmware server has nothing newer', () => {
    const [row] = firmwareOverview(
      input({
        installed: [{ modelId: 'yealink-t54w', version: '96.86.0.45', phones: 3 }],
        localFirmware: [local('96.86.0.70')],
        catalogReleases: [release('96.86.0.45'), release('96.86.0.70')],
      }),
    );
    expect(row?.newestAvailable).toBeNull();
  });

  it('R6: newest available is empty when every phone already runs something newer than the catalog', () => {
    const [row] = firmwareOverview(
      input({
        installed: [{ modelId: 'yealink-t54w', version: '96.90.0.1', phones: 3 }],
        catalogReleases: [release('96.86.0.70')],
      }),
    );
    expect(row?.newestAvailable).toBeNull();
  });

  it('R6: a withdrawn release is not offered', () => {
    const [row] = firmwareOverview(
      input({
        installed: [{ modelId: 'yealink-t54w', version: '96.86.0.45', phones: 3 }],
        catalogReleases: [release('96.86.0.70'), release('96.86.0.100', ['yealink-t54w'], true)],
      }),
    );
    expect(row?.newestAvailable).toBe('96.86.0.70');
  });

  it('R2: an image-managed type appears with its image firmware and is never offered by the catalog', () => {
    const rows = firmwareOverview(
      input({
        types: [m900],
        installed: [{ modelId: 'snom-m900', version: '3.2.1', phones: 2 }],
        localFirmware: [local('3.2.1', 'snom-m900', 'image')],
        catalogReleases: [release('9.9.9', ['snom-m900'])],
      }),
    );
    expect(rows[0]).toMatchObject({
      imageManaged: true,
      imageFirmware: '3.2.1',
      newestLocal: null,
      newestAvailable: null,
    });
  });

  it('R7: Auto-Update is on unless a setting turns it off', () => {
    const rows = firmwareOverview(
      input({ types: [t54w, d785], autoUpdate: [{ modelId: 'snom-d785', autoUpdate: false }] }),
    );
    expect(rows.map((r) => [r.modelId, r.autoUpdate])).toEqual([
      ['snom-d785', false],
      ['yealink-t54w', true],
    ]);
  });
});
