/**
 * One pattern per kind of id or text the system takes from outside (issue 11): the API validates with these schemas,
 * the OpenAPI document is derived from them, and workflow messages can be checked with the same ones. Plain zod
 * (no HTTP library), so workflow code can import it too. `.meta()` carries what the OpenAPI document shows.
 *
 * Free text never carries control characters (C0, DEL, C1), line/paragraph separators, lone surrogates or
 * non-characters: they could split a provisioning file's key=value line or make its XML not well-formed
 * (issue 11, item 1), and Postgres refuses NUL bytes (item 2). Lengths count code points, as JSON Schema does.
 */
import { z } from 'zod';
import { normalizeMac } from './mac.ts';
import { PBX_ID_PATTERN } from './pbx-id.ts';
import { isValidTimeZone } from './timing.ts';

export { PBX_ID_PATTERN };

/** Catalog model ids: `yealink-t54w`. */
export const MODEL_ID_PATTERN = /^[a-z0-9][a-z0-9-]{0,79}$/;
/** A rollout is known by the run id of its workflow: a UUID as Temporal makes them. */
export const ROLLOUT_ID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
/** A rollout preview (issue 13) and a fleet rollout are known by a UUID the API makes for them. */
export const PREVIEW_ID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
export const FLEET_ROLLOUT_ID_PATTERN = PREVIEW_ID_PATTERN;
/** A button's answer that came later (issue 11): `<update id>.<run id>`, two UUIDs. */
export const ACTION_ID_PATTERN =
  /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\.[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
/** Database ids in paths and queries: strictly decimal, no sign, no leading zero, no exponent, no hex. */
export const DECIMAL_ID_PATTERN = /^[1-9][0-9]{0,15}$/;
/** A MAC as admins type it: bare, colon- or dash-separated, or Cisco-dotted; any case. */
export const MAC_INPUT_PATTERN =
  /^(?:[0-9A-Fa-f]{12}|[0-9A-Fa-f]{2}(?::[0-9A-Fa-f]{2}){5}|[0-9A-Fa-f]{2}(?:-[0-9A-Fa-f]{2}){5}|[0-9A-Fa-f]{4}\.[0-9A-Fa-f]{4}\.[0-9A-Fa-f]{4})$/;
export const EXTENSION_PATTERN = /^[0-9A-Za-z_.+-]{1,32}$/;
/** PBX software and firmware versions: `8.1.0.12`, `96.86.0.100`. */
export const VERSION_PATTERN = /^[0-9A-Za-z][0-9A-Za-z._-]{0,63}$/;
/** A type and one of its versions: `yealink-t54w@96.86.0.70` (the fleet view's "T54W below 96.86.0.70"). */
export const MODEL_AT_VERSION_PATTERN = new RegExp(
  `^${MODEL_ID_PATTERN.source.slice(1, -1)}@${VERSION_PATTERN.source.slice(1, -1)}$`,
);
export const SIP_DOMAIN_PATTERN =
  /^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$/;
export const TASK_QUEUE_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,199}$/;
/** Journal actions: `settings.auto-update`, `firmware.downloaded`. */
export const JOURNAL_ACTION_PATTERN = /^[a-z][a-z0-9-]{0,49}(\.[a-z0-9-]{1,50}){0,3}$/;
export const TIME_OF_DAY_PATTERN = /^([01]\d|2[0-3]):[0-5]\d$/;
/** RFC 3339 date-time (JSON Schema `date-time`), nothing looser: `2025-03-01T00:00:00Z`, `...T01:00:00.5+01:00`. */
export const DATE_TIME_PATTERN =
  /^\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])[Tt]([01]\d|2[0-3]):[0-5]\d:[0-5]\d(\.\d{1,9})?([Zz]|[+-]([01]\d|2[0-3]):[0-5]\d)$/;

/**
 * Characters free text never carries (see the module comment). Lone surrogates are refused separately
 * (`isWellFormed`): a surrogate range cannot be written in a pattern that every JSON Schema engine reads.
 */
const FORBIDDEN = '\\u0000-\\u001f\\u007f-\\u009f\\u2028\\u2029\\ufffe\\uffff';
/** What String.prototype.trim removes (written out: JS's and Python's `\s` differ, and both read this pattern). */
const SPACE = '\\t\\u000b\\f \\u00a0\\u1680\\u2000-\\u200a\\u202f\\u205f\\u3000\\ufeff';
/** Free text: no forbidden character, at least one that is not a space. */
export const FREE_TEXT_PATTERN = new RegExp(`^[^${FORBIDDEN}]*[^${FORBIDDEN}${SPACE}][^${FORBIDDEN}]*$`, 'u');

const codePoints = (s: string) => [...s].length;

/** Free text up to `max` code points (as typed, before trimming); stored trimmed. */
export function freeText(max: number, example: string) {
  return z
    .string()
    .regex(
      FREE_TEXT_PATTERN,
      'text without control characters or line breaks, and not only spaces (issue 11: it goes into phone files)',
    )
    .refine((s) => s.isWellFormed(), 'text without lone surrogates (not valid Unicode)')
    .refine((s) => codePoints(s) <= max, `at most ${max} characters`)
    .transform((s) => s.trim())
    .meta({ type: 'string', pattern: FREE_TEXT_PATTERN.source, maxLength: max, example });
}

export const PbxIdSchema = z
  .string()
  .regex(PBX_ID_PATTERN, 'a PBX id is lower-case letters, digits and dashes, at most 63')
  .meta({ example: 'acme' });

export const ModelIdSchema = z
  .string()
  .regex(MODEL_ID_PATTERN, 'a model id looks like yealink-t54w')
  .meta({ id: 'ModelId', example: 'yealink-t54w' });

export const RolloutIdSchema = z
  .string()
  .regex(ROLLOUT_ID_PATTERN, 'a rollout id is the run id of its workflow (a UUID)')
  .meta({ example: '0193e3f2-7c1d-7000-8000-5b1f0e2a9c41' });

export const PreviewIdSchema = z
  .string()
  .regex(PREVIEW_ID_PATTERN, 'a preview id as a preview answer gave it (a UUID)')
  .meta({ example: '0193e3f2-7c1d-7000-8000-00000000a001' });

export const FleetRolloutIdSchema = z
  .string()
  .regex(FLEET_ROLLOUT_ID_PATTERN, 'a fleet rollout id as its creation gave it (a UUID)')
  .meta({ example: '0193e3f2-7c1d-7000-8000-00000000f001' });

export const ActionIdSchema = z
  .string()
  .regex(ACTION_ID_PATTERN, 'an action id as a 202 answer gave it')
  .meta({ example: '0193e3f2-7c1d-7000-8000-5b1f0e2a9c41.0193e3f2-7c1d-7000-8000-000000000001' });

/** A decimal id (path or query text) → number; documented as the integer it is. */
export function decimalId(name: string) {
  return z
    .string()
    .regex(DECIMAL_ID_PATTERN, `${name} is a decimal number from 1 (no sign, leading zero or exponent)`)
    .transform(Number)
    .refine(Number.isSafeInteger, `${name} is too large`)
    .meta({ type: 'integer', minimum: 1, maximum: Number.MAX_SAFE_INTEGER, example: 1 });
}

/** A bounded count (page sizes) given as query text. */
export function decimalCount(name: string, min: number, max: number, fallback: number) {
  return z
    .string()
    .regex(/^(0|[1-9][0-9]{0,5})$/, `${name} is a decimal number (no sign, leading zero or exponent)`)
    .transform(Number)
    .pipe(z.number().int().min(min).max(max))
    .optional()
    .transform((n) => n ?? fallback)
    .meta({ type: 'integer', minimum: min, maximum: max, default: fallback });
}

/**
 * Whether the day of `yyyy-mm-dd…` exists in its month (RFC 3339 §5.7). JavaScript's Date does not refuse
 * 2025-02-30: it rolls it over to 2 March.
 */
function isRealDay(text: string): boolean {
  const m = /^(\d{4})-(\d{2})-(\d{2})/.exec(text);
  if (!m) return true; // not a date-time at all: DATE_TIME_PATTERN says so
  const [year, month, day] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const leap = year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0);
  const days = month === 2 ? (leap ? 29 : 28) : [4, 6, 9, 11].includes(month) ? 30 : 31;
  return day <= days;
}

/** A point in time given as query text (RFC 3339). */
export const DateTimeText = z
  .string()
  .regex(DATE_TIME_PATTERN, 'a date-time as RFC 3339, e.g. 2025-03-01T00:00:00Z')
  .refine(isRealDay, 'not a real date')
  .transform((s) => new Date(s))
  .meta({ type: 'string', format: 'date-time', example: '2025-03-01T00:00:00Z' });

/** Stored as 12 lower-case hex digits. */
export const MacSchema = z
  .string()
  .regex(MAC_INPUT_PATTERN, 'not a MAC address (e.g. 80:5e:c0:aa:bb:cc or 805EC0AABBCC)')
  .transform((s) => normalizeMac(s) as string)
  .meta({ type: 'string', pattern: MAC_INPUT_PATTERN.source, example: '80:5e:c0:aa:bb:cc' });

export const ExtensionSchema = z
  .string()
  .regex(EXTENSION_PATTERN, 'an extension is 1–32 letters, digits or _ . + -')
  .meta({ example: '201' });

export const VersionSchema = z
  .string()
  .regex(VERSION_PATTERN, 'a version like 8.1.0.12')
  .meta({ example: '8.1.0.12' });

export const ModelAtVersionSchema = z
  .string()
  .regex(MODEL_AT_VERSION_PATTERN, 'a model id and a version: yealink-t54w@96.86.0.70')
  .transform((s) => {
    const at = s.indexOf('@');
    return { modelId: s.slice(0, at), version: s.slice(at + 1) };
  })
  .meta({ type: 'string', pattern: MODEL_AT_VERSION_PATTERN.source, example: 'yealink-t54w@96.86.0.70' });

export const SipDomainSchema = z.string().max(253).regex(SIP_DOMAIN_PATTERN, 'a DNS name in lower case');

export const TaskQueueSchema = z
  .string()
  .regex(TASK_QUEUE_PATTERN, 'a task queue name (letters, digits, . _ -)');

export const JournalActionSchema = z
  .string()
  .regex(JOURNAL_ACTION_PATTERN, 'a journal action like settings.auto-update')
  .meta({ example: 'settings.auto-update' });

/** IANA time zone names as this runtime knows them (plus UTC), for the document. */
export function knownTimeZones(): string[] {
  return ['UTC', ...Intl.supportedValuesOf('timeZone').filter((z) => z !== 'UTC')];
}

/** The zone's name as the time-zone database spells it (`EUROPE/BERLIN` → `Europe/Berlin`), or undefined. */
export function canonicalTimeZone(text: string): string | undefined {
  // Intl also accepts offsets like "+01:00"; a PBX lives in a named zone so DST is handled (R10).
  if (!/^[A-Za-z][A-Za-z0-9_+-]*(\/[A-Za-z0-9_+-]+){0,2}$/.test(text) || !isValidTimeZone(text))
    return undefined;
  return new Intl.DateTimeFormat('en-US', { timeZone: text }).resolvedOptions().timeZone;
}

export const TimeZoneSchema = z
  .string()
  .max(64)
  .transform((text, ctx) => {
    const zone = canonicalTimeZone(text);
    if (zone === undefined) {
      ctx.addIssue({ code: 'custom', message: 'not an IANA time zone (e.g. Europe/Berlin)' });
      return z.NEVER;
    }
    return zone;
  })
  .meta({
    type: 'string',
    enum: knownTimeZones(),
    example: 'Europe/Berlin',
    description: 'An IANA time zone; stored as the time-zone database spells it',
  });
