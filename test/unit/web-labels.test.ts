import { describe, expect, it } from 'vitest';
import { LABELS, pickLanguage } from '../../api/web/labels.ts';

describe('web page language (R15)', () => {
  it.each([
    ['de', undefined, 'de'],
    ['en', 'de-DE,de;q=0.9', 'en'],
    [undefined, 'de-DE,de;q=0.9,en;q=0.8', 'de'],
    [undefined, 'fr-FR,en;q=0.5,de;q=0.7', 'de'],
    [undefined, 'fr-FR', 'en'],
    [undefined, undefined, 'en'],
    ['xx', 'de;q=0', 'en'],
  ])('lang=%s, Accept-Language %s → %s', (query, accept, want) => {
    expect(pickLanguage(query, accept)).toBe(want);
  });

  it('R15: German labels follow the original page', () => {
    expect(LABELS.de).toMatchObject({
      overview: 'Firmware-Übersicht',
      vendor: 'Hersteller',
      inUse: 'Verwendete FW',
      newestLocal: 'Neueste lokale FW',
      newestAvailable: 'Neueste verfügbare FW',
      globalSwitch: 'Automatischer Download und Installation',
      checkNow: 'Jetzt prüfen',
      downloadNow: 'Jetzt herunterladen',
      updateNow: 'Jetzt aktualisieren',
    });
  });

  it('both languages have the same keys', () => {
    expect(Object.keys(LABELS.de).sort()).toEqual(Object.keys(LABELS.en).sort());
  });
});
