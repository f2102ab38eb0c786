import { describe, expect, it } from 'vitest';
import { PBX_ID_PATTERN, pbxIdFromName } from '../../domain/pbx-id.ts';

describe('PBX ids derived from names (R16)', () => {
  it.each([
    ['ACME Head Office', 'acme-head-office'],
    ['Müller & Söhne GmbH', 'mueller-soehne-gmbh'],
    ['  Café  Zürich 2 ', 'cafe-zuerich-2'],
    ['---', ''],
    ['日本', ''],
  ])('%j → %j', (name, id) => {
    expect(pbxIdFromName(name)).toBe(id);
  });

  it('is always a valid id or empty, at most 63 characters', () => {
    const id = pbxIdFromName(`${'a'.repeat(62)} b`);
    expect(id).toBe('a'.repeat(62));
    expect(PBX_ID_PATTERN.test(id)).toBe(true);
  });
});
