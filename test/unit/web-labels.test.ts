/**
 * The page speaks the admin's language (issue 12, defect 3): every code the server gives — reason codes, rollout
 * statuses, phone outcomes, journal actions — has an English and a German text, with the same placeholders as the
 * English template the server fills.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { JOURNAL_ACTIONS, LABELS, pickLanguage } from '../../api/web/labels.ts';
import { REASON_TEMPLATES, type ReasonCode } from '../../domain/reasons.ts';
import { PHONE_OUTCOMES, ROLLOUT_STATUSES } from '../../domain/rollout.ts';
import { repoRoot } from '../../lib/config.ts';

const placeholders = (t: string) => [...t.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort();
const codes = Object.keys(REASON_TEMPLATES) as ReasonCode[];

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

  it('both languages have the same keys, all the way down', () => {
    const keys = (o: unknown, prefix = ''): string[] =>
      o && typeof o === 'object' && !Array.isArray(o)
        ? Object.entries(o).flatMap(([k, v]) => keys(v, `${prefix}${k}.`))
        : [prefix];
    expect(keys(LABELS.de).sort()).toEqual(keys(LABELS.en).sort());
  });

  it('issue 12: every reason code has an English and a German text with the placeholders of its template', () => {
    for (const code of codes) {
      const want = placeholders(REASON_TEMPLATES[code]);
      for (const lang of ['en', 'de'] as const) {
        const text = LABELS[lang].reasons[code];
        expect(text, `${lang} ${code}`).toBeTruthy();
        expect(placeholders(text), `${lang} ${code}`).toEqual(want);
      }
      expect(LABELS.de.reasons[code], `de ${code} is German, not the English template`).not.toBe(
        REASON_TEMPLATES[code],
      );
    }
    expect(Object.keys(LABELS.de.reasons).sort()).toEqual([...codes].sort());
  });

  it('issue 12: every rollout status and phone outcome has a word in both languages', () => {
    for (const lang of ['en', 'de'] as const) {
      for (const s of ROLLOUT_STATUSES) expect(LABELS[lang].rolloutStatus[s], `${lang} ${s}`).toBeTruthy();
      for (const o of PHONE_OUTCOMES) expect(LABELS[lang].outcomes[o], `${lang} ${o}`).toBeTruthy();
    }
    expect(LABELS.de.outcomes['wrong-version']).toBe('kam mit alter Version zurück');
    expect(LABELS.de.outcomes.unreachable).toBe('nicht erreichbar');
  });

  it('R14: every journal action the code writes has a sentence in both languages', () => {
    // The actions as the code spells them: `action: 'x.y'`, journal('x.y', …), journalScheduled('x.y', …),
    // and rollout.<status> for every status a rollout ends in.
    const written = new Set<string>();
    const walk = (dir: string) => {
      for (const entry of readdirSync(join(repoRoot, dir), { withFileTypes: true })) {
        const path = join(dir, entry.name);
        if (entry.isDirectory()) walk(path);
        else if (entry.name.endsWith('.ts')) {
          const src = readFileSync(join(repoRoot, path), 'utf8');
          for (const m of src.matchAll(/(?:action: |journal(?:Scheduled)?\()'([a-z-]+\.[a-z-]+)'/g))
            written.add(m[1]!);
        }
      }
    };
    for (const dir of ['activities', 'workflows', 'api', 'phones']) walk(dir);
    for (const s of ROLLOUT_STATUSES) if (s !== 'running') written.add(`rollout.${s}`);
    expect(written.size).toBeGreaterThan(25);
    for (const action of written) {
      expect(JOURNAL_ACTIONS, `${action} has a sentence`).toContain(action);
    }
    for (const action of JOURNAL_ACTIONS) {
      expect(LABELS.en.journalActions[action]).toBeTruthy();
      expect(LABELS.de.journalActions[action]).toBeTruthy();
    }
  });
});
