/**
 * Issue 11: the limits and messages of the id and text schemas in domain/ids.ts, at their edges: free text counts
 * code points, page sizes are decimal and bounded with a default, dates are real calendar days, time zones are
 * IANA names, and what the OpenAPI document publishes (`.meta()`) is what the schema checks.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  DateTimeText,
  decimalCount,
  decimalId,
  freeText,
  ModelAtVersionSchema,
  TimeZoneSchema,
} from '../../domain/ids.ts';

const messages = (r: { success: boolean; error?: { issues: { message: string }[] } }) =>
  r.success ? [] : (r.error?.issues.map((i) => i.message) ?? []);

describe('free text limits (issue 11, item 1)', () => {
  it('counts code points, not UTF-16 units: max emoji are accepted, max + 1 are not', () => {
    const three = freeText(3, 'abc');
    expect(three.parse('😀😀😀')).toBe('😀😀😀');
    expect(three.parse('abc')).toBe('abc');
    expect(messages(three.safeParse('😀😀😀😀'))).toEqual(['at most 3 characters']);
    expect(messages(three.safeParse('abcd'))).toEqual(['at most 3 characters']);
  });

  it(`accepts exactly up to max code points, whatever the text (property)`, () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 20 }),
        fc.string({ unit: 'grapheme-ascii', minLength: 1, maxLength: 25 }),
        (max, raw) => {
          const text = `x${raw.replace(/\s/g, 'y')}`;
          const n = [...text].length;
          expect(freeText(max, 'x').safeParse(text).success).toBe(n <= max);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('tells why text is refused, and stores it trimmed', () => {
    const t = freeText(10, 'x');
    expect(messages(t.safeParse('a\nb'))).toEqual([
      'text without control characters or line breaks, and not only spaces (issue 11: it goes into phone files)',
    ]);
    expect(messages(t.safeParse('a\ud800'))).toEqual(['text without lone surrogates (not valid Unicode)']);
    expect(t.parse('  Büro 2  ')).toBe('Büro 2');
  });

  it('publishes the pattern, the length and the example it checks', () => {
    const t = freeText(42, 'Empfang');
    expect(t.meta()).toMatchObject({ type: 'string', maxLength: 42, example: 'Empfang' });
    expect(new RegExp(t.meta()?.pattern as string, 'u').test('a\u0000')).toBe(false);
  });
});

describe('page sizes as query text (issue 11, item 5)', () => {
  // Built inside each test: what runs while a test runs is what mutation testing credits to it.
  const pageSize = () => decimalCount('limit', 1, 500, 50);

  it('an absent limit is the default; a given one is the number it writes', () => {
    const limit = pageSize();
    expect(limit.parse(undefined)).toBe(50);
    expect(limit.parse('1')).toBe(1);
    expect(limit.parse('123')).toBe(123);
    expect(limit.parse('500')).toBe(500);
    expect(decimalCount('n', 0, 999_999, 7).parse('0')).toBe(0);
    expect(decimalCount('n', 0, 999_999, 7).parse('999999')).toBe(999_999);
  });

  it('refuses numbers out of range and any other way of writing one, naming the parameter', () => {
    const limit = pageSize();
    expect(limit.safeParse('0').success).toBe(false);
    expect(limit.safeParse('501').success).toBe(false);
    for (const text of ['', '050', '+5', '-5', '5.0', '5e1', '0x10', ' 5', '5 ', '1000000', 'five']) {
      expect(messages(decimalCount('limit', 0, 999_999, 7).safeParse(text)), text).toEqual([
        'limit is a decimal number (no sign, leading zero or exponent)',
      ]);
    }
  });

  it('publishes its bounds and default as an integer', () => {
    expect(pageSize().meta()).toEqual({ type: 'integer', minimum: 1, maximum: 500, default: 50 });
  });
});

describe('database ids (issue 11, item 5)', () => {
  it('names the parameter in both refusals and publishes the integer range', () => {
    const id = decimalId('accountId');
    expect(messages(id.safeParse('01'))).toEqual([
      'accountId is a decimal number from 1 (no sign, leading zero or exponent)',
    ]);
    expect(messages(id.safeParse('9007199254740993'))).toEqual(['accountId is too large']);
    expect(id.meta()).toEqual({ type: 'integer', minimum: 1, maximum: Number.MAX_SAFE_INTEGER, example: 1 });
  });
});

describe('dates as query text (issue 11, item 5)', () => {
  it('RFC 3339 date-times become the instant they name', () => {
    expect(DateTimeText.parse('2025-03-01T00:00:00Z').toISOString()).toBe('2025-03-01T00:00:00.000Z');
    expect(DateTimeText.parse('2025-03-01T01:00:00.5+01:00').toISOString()).toBe('2025-03-01T00:00:00.500Z');
    expect(DateTimeText.parse('2024-02-29T12:00:00Z').toISOString()).toBe('2024-02-29T12:00:00.000Z');
    expect(DateTimeText.parse('2000-02-29T00:00:00Z').toISOString()).toBe('2000-02-29T00:00:00.000Z');
  });

  it('a day its month does not have is refused, not rolled over into the next month', () => {
    // JavaScript's Date reads 2025-02-30 as 2 March; a journal filter must not silently move by two days.
    for (const text of [
      '2025-02-29T00:00:00Z',
      '2025-02-30T00:00:00Z',
      '2025-04-31T00:00:00Z',
      '1900-02-29T00:00:00Z',
    ]) {
      expect(messages(DateTimeText.safeParse(text)), text).toEqual(['not a real date']);
    }
    for (const text of ['2025-01-31T00:00:00Z', '2025-04-30T00:00:00Z', '2025-12-31T23:59:59Z']) {
      expect(DateTimeText.safeParse(text).success, text).toBe(true);
    }
    for (const text of ['yesterday', 'x2025-02-30T00:00:00Z']) {
      expect(messages(DateTimeText.safeParse(text)), text).toEqual([
        'a date-time as RFC 3339, e.g. 2025-03-01T00:00:00Z',
      ]);
    }
  });
});

describe('time zones (issue 11, item 5)', () => {
  it('refuses what is no IANA name with one clear message', () => {
    for (const text of ['+01:00', 'Mars/Olympus', 'Europe/Berlin ', '']) {
      const r = TimeZoneSchema.safeParse(text);
      expect(r.success, text).toBe(false);
      expect(
        r.error?.issues.map((i) => [i.code, i.message]),
        text,
      ).toEqual([['custom', 'not an IANA time zone (e.g. Europe/Berlin)']]);
    }
  });
});

describe('a type and one of its versions (issue 11, item 5)', () => {
  it('splits at the @ into the model id and the version', () => {
    expect(ModelAtVersionSchema.parse('yealink-t54w@96.86.0.70')).toEqual({
      modelId: 'yealink-t54w',
      version: '96.86.0.70',
    });
    expect(ModelAtVersionSchema.parse('gigaset-n670@2.65.0-beta')).toEqual({
      modelId: 'gigaset-n670',
      version: '2.65.0-beta',
    });
    expect(ModelAtVersionSchema.safeParse('yealink-t54w@').success).toBe(false);
    expect(ModelAtVersionSchema.safeParse('yealink-t54w@1@2').success).toBe(false);
  });
});
