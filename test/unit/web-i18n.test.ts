/**
 * What the page says, in Node (api/web/assets/i18n.js is plain browser JavaScript without DOM): times in the PBX's
 * zone and labelled (issue 12, defect 6), reasons and errors in the admin's language (defect 3), journal sentences
 * and "what happens next". Property tests (fast-check) for the renderers.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  errorText,
  fill,
  formatInstant,
  journalText,
  outlookNotes,
  reasonText,
} from '../../api/web/assets/i18n.js';
import { LABELS } from '../../api/web/labels.ts';
import { REASON_TEMPLATES, type ReasonCode, reason } from '../../domain/reasons.ts';
import { toLocal } from '../../domain/timing.ts';

const { en, de } = LABELS;
const ZONES = [
  'Europe/Berlin',
  'America/New_York',
  'Asia/Kolkata',
  'Australia/Lord_Howe',
  'Pacific/Chatham',
  'UTC',
];
const codes = Object.keys(REASON_TEMPLATES) as ReasonCode[];
const names = new Map([['yealink-t54w', 'T54W']]);

describe('times on the page (issue 12, defect 6)', () => {
  it('an instant is shown in the PBX zone with the zone named, whatever zone the process runs in', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: Date.UTC(2000, 0, 1), max: Date.UTC(2100, 0, 1) }),
        fc.constantFrom(...ZONES),
        fc.constantFrom(en, de),
        (ms, zone, L) => {
          const text = formatInstant(L, new Date(ms).toISOString(), zone);
          expect(text.endsWith(` (${zone})`)).toBe(true);
          // The wall clock of that zone (domain/timing.ts, the rule the workflows use), not the process's.
          const local = toLocal(ms, zone);
          const hhmm = `${String(local.hour).padStart(2, '0')}:${String(local.minute).padStart(2, '0')}`;
          expect(text).toContain(hhmm);
          expect(text).toContain(String(local.year));
        },
      ),
    );
  });

  it('German and English word the same moment in their own way', () => {
    const at = '2026-03-29T01:30:00Z'; // the night Berlin moves to summer time
    expect(formatInstant(en, at, 'Europe/Berlin')).toBe('Sun, 29 Mar 2026, 03:30 (Europe/Berlin)');
    expect(formatInstant(de, at, 'Europe/Berlin')).toBe('So., 29. März 2026, 03:30 (Europe/Berlin)');
    expect(formatInstant(de, 'not a date', 'Europe/Berlin')).toBe('');
  });
});

describe('reasons in the admin language (issue 12, defect 3)', () => {
  it('every reason the server can give reads in German with all its parameters and no English template', () => {
    const param = fc.stringMatching(/^[A-Za-z0-9.]{1,12}$/);
    fc.assert(
      fc.property(
        fc.constantFrom(...codes),
        fc.dictionary(
          fc.constantFrom(
            'model',
            'version',
            'total',
            'failed',
            'notContacted',
            'block',
            'error',
            'wait',
            'queue',
            'closeStatus',
            'who',
            'transmissions',
            'status',
            'file',
            'bytes',
          ),
          param,
        ),
        (code, given) => {
          const r = reason(code, given);
          const text = reasonText(de, r, names);
          for (const name of Object.keys(given)) {
            if (REASON_TEMPLATES[code].includes(`{${name}}`)) expect(text).toContain(given[name]);
          }
          if (Object.keys(given).length >= 15) expect(text).not.toMatch(/\{\w+\}/);
          expect(text).toBe(fill(de.reasons[code], given));
        },
      ),
    );
  });

  it('a model id in a reason is shown by its name; an unknown code falls back to the server text', () => {
    expect(reasonText(de, reason('auto-update-off', { model: 'yealink-t54w' }), names)).toBe(
      'Auto-Update ist für T54W ausgeschaltet',
    );
    expect(reasonText(de, { code: 'from-a-newer-server', params: {}, text: 'something new' })).toBe(
      'something new',
    );
  });
});

describe('errors in the admin language (issue 12, defects 3 and 4)', () => {
  it('no connection, a wrong token and a PBX this token may not see read in German without the server English', () => {
    expect(errorText(de, { kind: 'network' })).toEqual({ text: de.errors.offline, detail: null });
    expect(
      errorText(de, { kind: 'http', status: 401, body: { error: 'unknown or revoked token' } }).text,
    ).toBe(de.errors.unauthorized);
    expect(
      errorText(de, { kind: 'http', status: 404, body: { error: 'PBX "demo" not found', field: 'pbxId' } }),
    ).toEqual({
      text: 'Anlage „demo“ nicht gefunden (oder dieses Token darf sie nicht sehen).',
      detail: null,
    });
  });

  it('every HTTP status gets a text in the page language; the server words only as a detail beside it', () => {
    fc.assert(
      fc.property(fc.integer({ min: 400, max: 599 }), fc.string(), (status, error) => {
        for (const L of [en, de]) {
          const { text, detail } = errorText(L, { kind: 'http', status, body: { error } });
          expect(Object.values(L.errors).some((t) => text === t || text.startsWith(t.split('{')[0]!))).toBe(
            true,
          );
          expect(detail === null || detail === error).toBe(true);
        }
      }),
    );
  });
});

describe('the journal in sentences (R14)', () => {
  const ctx = { names, timeZone: 'Europe/Berlin' };
  it('switches read on/off, moments and instants in the PBX zone, reasons in the language', () => {
    expect(
      journalText(
        de,
        {
          action: 'settings.auto-update',
          modelId: 'yealink-t54w',
          details: { from: true, to: false },
          reason: null,
        },
        ctx,
      ),
    ).toBe('Auto-Update ausgeschaltet');
    expect(
      journalText(
        en,
        {
          action: 'settings.update-moment',
          modelId: null,
          details: { from: null, to: { day: 'sunday', time: '03:00' } },
          reason: null,
        },
        ctx,
      ),
    ).toBe('Weekly update moment set to Sunday 03:00 (Europe/Berlin)');
    expect(
      journalText(
        en,
        {
          action: 'download.scheduled',
          modelId: null,
          details: { at: '2026-12-06T20:17:00Z' },
          reason: null,
        },
        ctx,
      ),
    ).toBe('Evening download planned for Sun, 6 Dec 2026, 21:17 (Europe/Berlin)');
    expect(
      journalText(
        de,
        {
          action: 'trigger.skipped',
          modelId: null,
          details: { kind: 'upgraded', reason: 'automatic download and installation are off (R8)' },
          reason: reason('automatic-off'),
        },
        ctx,
      ),
    ).toBe(
      'Automatischer Lauf nach dem Update der Anlage hat nur geprüft – automatischer Download und Installation sind ausgeschaltet (R8)',
    );
    expect(
      journalText(
        en,
        {
          action: 'firmware.checked',
          modelId: null,
          details: { needsDownload: ['yealink-t54w@96.86.0.70'] },
          reason: null,
        },
        ctx,
      ),
    ).toBe('Firmware server checked: T54W 96.86.0.70');
    expect(journalText(en, { action: 'made.up', modelId: null, details: {}, reason: null }, ctx)).toBe(
      'made.up',
    );
  });
});

describe('what happens next, and why nothing will (issue 12)', () => {
  const pbx = { autoDownloadInstall: true, updateMoment: { day: 'sunday', time: '03:00' } };
  const status = {
    nextWeeklyCheck: '2026-12-08T08:51:00Z',
    pendingDownloadAt: null,
    nextScheduledUpdate: '2026-12-06T02:00:00Z',
  };
  const type = (t: Record<string, unknown>) => ({
    modelId: 'yealink-t54w',
    model: 'T54W',
    newestLocal: null,
    newestAvailable: null,
    autoUpdate: true,
    ...t,
  });
  const notes = (s: Record<string, unknown>) =>
    outlookNotes(en, { pbx, status, types: [], timeZone: 'Europe/Berlin', ...s });

  it('R8 off: nothing happens by itself, and the page says so', () => {
    const n = notes({
      pbx: { ...pbx, autoDownloadInstall: false },
      types: [type({ newestAvailable: '96.86.0.80' })],
    });
    expect(n[0]).toBe(en.notes.automaticOff);
    expect(n[1]).toBe('T54W 96.86.0.80 is offered by the firmware server; only Download now downloads it.');
  });

  it('R9/R10: found firmware waits for the next weekly check (or Download now) unless a download is planned', () => {
    expect(notes({ types: [type({ newestAvailable: '96.86.0.80' })] })).toEqual([
      'T54W 96.86.0.80 is offered by the firmware server; nothing downloads it until the next weekly check (Tue, 8 Dec 2026, 09:51 (Europe/Berlin)) or Download now.',
    ]);
    expect(
      notes({
        status: { ...status, pendingDownloadAt: '2026-12-08T20:40:00Z' },
        types: [type({ newestAvailable: '96.86.0.80' })],
      }),
    ).toEqual([
      'The firmware found by the last check is downloaded at Tue, 8 Dec 2026, 21:40 (Europe/Berlin).',
    ]);
  });

  it('R7/R11: stored firmware goes to the phones at the update moment, never with Auto-Update off or without a moment', () => {
    expect(notes({ types: [type({ newestLocal: '96.86.0.70' })] })).toEqual([
      'T54W: phones get 96.86.0.70 at the next update moment (Sun, 6 Dec 2026, 03:00 (Europe/Berlin)).',
    ]);
    expect(notes({ types: [type({ newestLocal: '96.86.0.70', autoUpdate: false })] })[0]).toContain(
      'Auto-Update is off',
    );
    expect(
      notes({ pbx: { ...pbx, updateMoment: null }, types: [type({ newestLocal: '96.86.0.70' })] })[0],
    ).toContain('no weekly update moment is set');
    expect(notes({ types: [type({})] })).toEqual([en.notes.nothingPending]);
  });
});
