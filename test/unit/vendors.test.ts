/**
 * R1: the four vendors and the model id every part of the system uses for a catalog model. Loaded inside each
 * test so the module's tables are built while the test runs (see catalog-validation.test.ts).
 */
import { describe, expect, it, vi } from 'vitest';

async function fresh() {
  vi.resetModules();
  return import('../../domain/vendors.ts');
}

describe('R1: vendors and model ids', () => {
  it('R1: exactly the four vendors, each with the name it writes itself', async () => {
    const { VENDORS, VENDOR_LABELS, isVendor } = await fresh();
    expect(VENDORS).toEqual(['yealink', 'snom', 'grandstream', 'gigaset']);
    expect(VENDOR_LABELS).toEqual({
      yealink: 'Yealink',
      snom: 'Snom',
      grandstream: 'Grandstream',
      gigaset: 'Gigaset',
    });
    for (const v of VENDORS) expect(isVendor(v), v).toBe(true);
    for (const v of [
      'Yealink',
      'cisco',
      '',
      ' snom',
      42,
      null,
      undefined,
      ['snom'],
      { toString: () => 'snom' },
    ]) {
      expect(isVendor(v), String(v)).toBe(false);
    }
  });

  it('R1: a model id is vendor-model in lower case, each run of other characters one dash', async () => {
    const { modelIdOf } = await fresh();
    expect(modelIdOf('yealink', 'T54W')).toBe('yealink-t54w');
    expect(modelIdOf('yealink', 'T19P_E2')).toBe('yealink-t19p-e2');
    expect(modelIdOf('gigaset', 'N670 IP PRO')).toBe('gigaset-n670-ip-pro');
    expect(modelIdOf('gigaset', 'N670  IP -- PRO')).toBe('gigaset-n670-ip-pro');
    expect(modelIdOf('snom', 'D785')).toBe('snom-d785');
  });
});
