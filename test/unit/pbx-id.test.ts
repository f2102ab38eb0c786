import { describe, expect, it } from 'vitest';
import { PBX_ID_PATTERN, pbxIdFromName } from '../../domain/pbx-id.ts';

describe('PBX ids derived from names (R16)', () => {
  it.each([
    ['ACME Head Office', 'acme-head-office'],
    ['Müller & Söhne GmbH', 'mueller-soehne-gmbh'],
    ['  Café  Zürich 2 ', 'cafe-zuerich-2'],
  ])('%j → %j', (name, id) => {
    expect(pbxIdFromName(name)).toBe(id);
  });

  it('issue 11: a name without Latin letters or digits gets a stable hashed id, never an empty one', () => {
    for (const name of ['日本', '---', 'Ω']) {
      const id = pbxIdFromName(name);
      expect(id).toMatch(/^pbx-[0-9a-f]{8}$/);
      expect(pbxIdFromName(` ${name} `)).toBe(id);
    }
    expect(pbxIdFromName('日本')).not.toBe(pbxIdFromName('中国'));
  });

  it('is always a valid id or empty, at most 63 characters', () => {
    const id = pbxIdFromName(`${'a'.repeat(62)} b`);
    expect(id).toBe('a'.repeat(62));
    expect(PBX_ID_PATTERN.test(id)).toBe(true);
  });
});
