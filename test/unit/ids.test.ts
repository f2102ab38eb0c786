/**
 * Issue 11: the patterns every id and free text is validated with (domain/ids.ts), as properties over generated
 * input (fast-check): what the API accepts can never carry a control character or a line break into a phone file
 * or a NUL into Postgres, numeric ids are decimal only, MACs of every written form normalise to one, and the patterns
 * the OpenAPI document publishes (read as another engine would: without the JS-only `u` flag semantics) agree
 * with the schemas.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  canonicalTimeZone,
  DECIMAL_ID_PATTERN,
  decimalId,
  FREE_TEXT_PATTERN,
  freeText,
  MAC_INPUT_PATTERN,
  MacSchema,
  TimeZoneSchema,
} from '../../domain/ids.ts';
import { normalizeMac } from '../../domain/mac.ts';

const RUNS = 1_000;
const name = freeText(100, 'x');
/** Characters that may never be stored in free text. */
// biome-ignore lint/suspicious/noControlCharactersInRegex: these are the characters the test looks for
const FORBIDDEN = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\ufffe\uffff]|\p{Cs}/u;

describe('free text (issue 11, item 1)', () => {
  it(`what is accepted has no control character, line break or lone surrogate, is trimmed and ≤ 100 code points (${RUNS} runs)`, () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 120 }), (text) => {
        const r = name.safeParse(text);
        if (!r.success) return;
        expect(FORBIDDEN.test(r.data)).toBe(false);
        expect(r.data).toBe(r.data.trim());
        expect(r.data.length).toBeGreaterThan(0);
        expect([...r.data].length).toBeLessThanOrEqual(100);
      }),
      { numRuns: RUNS },
    );
  });

  it(`any text with one forbidden character anywhere is refused (${RUNS} runs)`, () => {
    const bad = fc.oneof(
      fc.integer({ min: 0, max: 0x1f }),
      fc.integer({ min: 0x7f, max: 0x9f }),
      fc.constantFrom(0x2028, 0x2029, 0xfffe, 0xffff, 0xd800, 0xdbff, 0xdc00, 0xdfff),
    );
    fc.assert(
      fc.property(fc.string({ maxLength: 40 }), bad, fc.string({ maxLength: 40 }), (a, code, b) => {
        expect(name.safeParse(`${a}${String.fromCharCode(code)}${b}`).success).toBe(false);
      }),
      { numRuns: RUNS },
    );
  });

  it(`printable text of any script, emoji included, is kept as typed (${RUNS} runs)`, () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme', minLength: 1, maxLength: 30 }), (text) => {
        fc.pre(!FORBIDDEN.test(text) && text.trim().length > 0);
        expect(name.parse(text)).toBe(text.trim());
      }),
      { numRuns: RUNS },
    );
  });

  it('the published pattern agrees with the schema without the u flag (as JSON Schema engines read it)', () => {
    const published = new RegExp(FREE_TEXT_PATTERN.source);
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme-composite', maxLength: 40 }), (text) => {
        fc.pre(text.isWellFormed() && [...text].length <= 100);
        expect(published.test(text)).toBe(name.safeParse(text).success);
      }),
      { numRuns: RUNS },
    );
  });
});

describe('numeric ids (issue 11, item 5)', () => {
  const id = decimalId('accountId');
  it(`every positive safe integer written in decimal is accepted as itself (${RUNS} runs)`, () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER }), (n) => {
        expect(id.parse(String(n))).toBe(n);
      }),
      { numRuns: RUNS },
    );
  });

  it(`no other way of writing a number is: hex, exponent, leading zero, sign, fraction, spaces (${RUNS} runs)`, () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 1_000_000 }), (n) => {
        for (const text of [
          `0x${n.toString(16)}`,
          `${n}e0`,
          `0${n}`,
          `+${n}`,
          `${n}.0`,
          ` ${n}`,
          `${n} `,
          `-${n}`,
          `${n}\u0000`,
        ]) {
          expect(id.safeParse(text).success, JSON.stringify(text)).toBe(false);
        }
      }),
      { numRuns: RUNS },
    );
    expect(DECIMAL_ID_PATTERN.test('0')).toBe(false);
    expect(id.safeParse('9007199254740992').success).toBe(false);
  });
});

describe('MACs (issue 11, item 5)', () => {
  const hex12 = fc.stringMatching(/^[0-9a-fA-F]{12}$/);
  it(`every written form of one MAC normalises to the same 12 lower-case hex digits (${RUNS} runs)`, () => {
    fc.assert(
      fc.property(hex12, (h) => {
        const pairs = h.match(/../g) as string[];
        const forms = [
          h,
          pairs.join(':'),
          pairs.join('-'),
          `${h.slice(0, 4)}.${h.slice(4, 8)}.${h.slice(8)}`,
        ];
        for (const form of forms) {
          expect(MAC_INPUT_PATTERN.test(form)).toBe(true);
          expect(MacSchema.parse(form)).toBe(h.toLowerCase());
          expect(normalizeMac(form)).toBe(h.toLowerCase());
        }
      }),
      { numRuns: RUNS },
    );
  });

  it(`whatever the pattern refuses the schema refuses, and the other way round (${RUNS} runs)`, () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 20 }), (text) => {
        expect(MacSchema.safeParse(text).success).toBe(MAC_INPUT_PATTERN.test(text));
      }),
      { numRuns: RUNS },
    );
  });
});

describe('time zones (issue 11, item 5)', () => {
  const zones = Intl.supportedValuesOf('timeZone');
  it(`any IANA zone in any letter case is stored as the time-zone database spells it (${RUNS} runs)`, () => {
    fc.assert(
      fc.property(fc.constantFrom(...zones), fc.array(fc.boolean(), { maxLength: 40 }), (zone, upper) => {
        const typed = [...zone].map((ch, i) => (upper[i] ? ch.toUpperCase() : ch.toLowerCase())).join('');
        expect(TimeZoneSchema.parse(typed)).toBe(zone);
        expect(canonicalTimeZone(zone)).toBe(zone);
      }),
      { numRuns: RUNS },
    );
    expect(TimeZoneSchema.parse('EUROPE/BERLIN')).toBe('Europe/Berlin');
    expect(TimeZoneSchema.safeParse('+01:00').success).toBe(false);
  });
});
