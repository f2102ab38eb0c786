/**
 * The journal keeps a reason's English text (and mostly its code) without the parameters; the API reads them back
 * out of the text (domain/reasons.ts reasonFromText) so the page can say the reason in the admin's language.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { REASON_TEMPLATES, type ReasonCode, reason, reasonFromText } from '../../domain/reasons.ts';

const codes = Object.keys(REASON_TEMPLATES) as ReasonCode[];
/** Every placeholder any template has (a new one is covered the day it is written). */
const NAMES = [
  ...new Set(Object.values(REASON_TEMPLATES).flatMap((t) => [...t.matchAll(/\{(\w+)\}/g)].map((m) => m[1]!))),
];
/** Parameter values as the system makes them: versions, counts, names, file names, error words. */
const value = fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9._ -]{0,30}$/);

describe('reasons read back from their English text (issue 12)', () => {
  it('any reason: the text with its code gives back the code and every parameter', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...codes),
        fc.array(value, { minLength: NAMES.length, maxLength: NAMES.length }),
        (code, values) => {
          const params = Object.fromEntries(NAMES.map((n, i) => [n, values[i]!]));
          const r = reason(code, params);
          const back = reasonFromText(r.text, code);
          expect(back?.code).toBe(code);
          for (const [name, v] of Object.entries(back?.params ?? {})) expect(v).toBe(params[name]);
          expect(back?.text).toBe(r.text);
        },
      ),
    );
  });

  it('without the code, the text alone finds its template (texts of different codes never look alike)', () => {
    fc.assert(
      fc.property(fc.constantFrom(...codes), fc.stringMatching(/^[0-9][0-9.]{0,10}$/), (code, v) => {
        const params = Object.fromEntries(NAMES.map((n) => [n, v]));
        expect(reasonFromText(reason(code, params).text)?.code).toBe(code);
      }),
    );
  });

  it('a text no template makes, or a code that does not exist, gives nothing', () => {
    expect(reasonFromText('R5: last account of the type deleted; PBX restarted')).toBeUndefined();
    expect(reasonFromText('Auto-Update is off for T31', 'no-such-code')).toBeUndefined();
    expect(reasonFromText('Auto-Update is off for T31', 'all-current')).toBeUndefined();
    expect(reasonFromText('Auto-Update is off for T31')).toEqual(reason('auto-update-off', { model: 'T31' }));
  });
});
