// What the pages say, in the admin's language: pure functions of the labels (api/web/labels.ts), no DOM, so the
// unit tests run them in Node too. Everything the server says as a code (reasons, statuses, outcomes, journal
// actions, HTTP errors) is worded here from the labels; the server's English text is only a fallback for a code
// this page does not know yet.

/**
 * Fills `{name}` placeholders; a missing parameter stays visible as `{name}`, never as "undefined".
 * @param {string} template
 * @param {Record<string, unknown>} params
 */
export function fill(template, params) {
  return template.replace(/\{(\w+)\}/g, (whole, name) =>
    Object.hasOwn(params, name) && params[name] !== undefined && params[name] !== null
      ? String(params[name])
      : whole,
  );
}

const formatters = new Map();

function formatter(locale, timeZone, seconds) {
  const key = `${locale}|${timeZone}|${seconds}`;
  let f = formatters.get(key);
  if (!f) {
    f = new Intl.DateTimeFormat(locale, {
      timeZone,
      weekday: 'short',
      day: 'numeric',
      month: 'short',
      year: 'numeric',
      hour: '2-digit',
      minute: '2-digit',
      ...(seconds ? { second: '2-digit' } : {}),
      hourCycle: 'h23',
    });
    formatters.set(key, f);
  }
  return f;
}

/**
 * An instant in the PBX's time zone, labelled with the zone (issue 12, defect 6): never the browser's zone.
 * @param {{ locale: string }} L
 * @param {string | number | Date} at
 * @param {string} timeZone
 * @param {{ seconds?: boolean }} [options]
 */
export function formatInstant(L, at, timeZone, options = {}) {
  const d = at instanceof Date ? at : new Date(at);
  if (Number.isNaN(d.getTime())) return '';
  return `${formatter(L.locale, timeZone, options.seconds === true).format(d)} (${timeZone})`;
}

const WEEKDAYS = ['monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday', 'sunday'];

/**
 * A weekly moment as the API gives it (`{ day: 'sunday', time: '03:00' }`), in the PBX's zone.
 * @param {{ weeklyMoment: string, weekdays: string[] }} L
 * @param {{ day: string, time: string }} moment
 * @param {string} timeZone
 */
export function formatWeeklyMoment(L, moment, timeZone) {
  const day = L.weekdays[WEEKDAYS.indexOf(moment.day)] ?? moment.day;
  return fill(L.weeklyMoment, { day, time: moment.time, zone: timeZone });
}

/** `805ec0aabbcc` → `80:5e:c0:aa:bb:cc`. */
export function macText(mac) {
  return /^[0-9a-f]{12}$/.test(mac) ? mac.match(/../g).join(':') : mac;
}

/**
 * A reason from the API (`{ code, params, text }`) in the page's language. A `model` parameter that is a model id
 * the page knows is shown by its name.
 * @param {{ reasons: Record<string, string> }} L
 * @param {{ code: string, params: Record<string, unknown>, text: string }} reason
 * @param {Map<string, string>} [names] model id → model name
 */
export function reasonText(L, reason, names) {
  const template = Object.hasOwn(L.reasons, reason.code) ? L.reasons[reason.code] : undefined;
  if (template === undefined) return reason.text;
  const params = { ...reason.params };
  if (typeof params.model === 'string' && names?.has(params.model)) params.model = names.get(params.model);
  return fill(template, params);
}

/**
 * What a failed request means for the admin, in the page's language, and the server's own words beside it where
 * they add something (a refusal, a fault) — never for "not found", "no connection" or a wrong token.
 * @param {any} L
 * @param {{ kind: 'network' } | { kind: 'http', status: number, body: any }} failure
 * @returns {{ text: string, detail: string | null }}
 */
export function errorText(L, failure) {
  const E = L.errors;
  if (failure.kind === 'network') return { text: E.offline, detail: null };
  const { status, body } = failure;
  const field = typeof body?.field === 'string' ? body.field : '';
  const server = typeof body?.error === 'string' ? body.error : null;
  switch (status) {
    case 401:
      return { text: E.unauthorized, detail: null };
    case 403:
      return { text: E.forbidden, detail: null };
    case 404: {
      if (field === 'pbxId') {
        const id = /"([^"]*)"/.exec(server ?? '')?.[1] ?? '';
        return { text: fill(E.pbxNotFound, { id }), detail: null };
      }
      if (field === 'rolloutId') return { text: E.rolloutNotFound, detail: null };
      if (field === 'actionId') return { text: E.actionGone, detail: null };
      return { text: E.notFound, detail: null };
    }
    case 400:
    case 413:
    case 415:
      return { text: fill(E.badRequest, { field: field || 'body' }), detail: server };
    case 409:
      // A refusal with its reason code (issue 13: a Gigaset downgrade, a rollout's state) in the page's words.
      if (typeof body?.reason?.code === 'string' && Object.hasOwn(L.reasons, body.reason.code)) {
        return { text: reasonText(L, body.reason), detail: null };
      }
      return { text: E.conflict, detail: server };
    case 503:
      return { text: E.temporalDown, detail: server };
    case 504:
      return { text: E.timeout, detail: null };
    default:
      return status >= 500
        ? { text: E.server, detail: null }
        : { text: fill(E.status, { status }), detail: server };
  }
}

/**
 * The counts line of a rollout, with "already current" only when there are such phones.
 * @param {any} L
 * @param {{ updated: number, failed: number, notContacted: number, skipped: number, total: number, alreadyCurrent: number }} r
 */
export function rolloutCountsText(L, r) {
  const counts = fill(L.rolloutCounts, r);
  return r.alreadyCurrent > 0 ? `${fill(L.alreadyCurrentCount, r)} · ${counts}` : counts;
}

/** "block k of n": the block running now, or the last one run. */
export function blockText(L, r) {
  if (r.blocks === 0) return '';
  const k = r.status === 'running' ? Math.min(r.blocksDone + 1, r.blocks) : r.blocksDone;
  return fill(L.blockOf, { k, n: r.blocks });
}

const isMoment = (v) =>
  v !== null && typeof v === 'object' && typeof v.day === 'string' && typeof v.time === 'string';

/**
 * One journal entry as a sentence in the page's language: the action's template filled from its details (model
 * ids by name, switches as on/off, moments and instants in the PBX's zone), then its reason.
 * @param {any} L
 * @param {{ action: string, modelId: string | null, details: Record<string, any>, reason: any }} entry
 * @param {{ names: Map<string, string>, timeZone: string }} ctx
 */
export function journalText(L, entry, ctx) {
  const d = entry.details ?? {};
  const template = Object.hasOwn(L.journalActions, entry.action) ? L.journalActions[entry.action] : null;
  const name = (id) => ctx.names.get(id) ?? id;
  const params = { ...d };
  for (const key of ['to', 'from']) {
    if (typeof d[key] === 'boolean') params[key] = d[key] ? L.on : L.off;
    else if (isMoment(d[key])) params[key] = formatWeeklyMoment(L, d[key], ctx.timeZone);
    else if (d[key] === null)
      params[key] = entry.action === 'settings.update-moment' ? L.noUpdateMoment : L.unknown;
  }
  if (typeof d.at === 'string') params.at = formatInstant(L, d.at, ctx.timeZone);
  if (typeof d.kind === 'string' && Object.hasOwn(L.triggerKinds, d.kind))
    params.kind = L.triggerKinds[d.kind];
  if (typeof d.mac === 'string') params.mac = macText(d.mac);
  if (Array.isArray(d.needsDownload)) {
    params.needsDownload =
      d.needsDownload.length === 0
        ? L.nothingNew
        : d.needsDownload
            .map((item) => {
              const [id, version] = String(item).split('@');
              return `${name(id)} ${version ?? ''}`.trim();
            })
            .join(', ');
  }
  if (typeof d.block === 'number') params.block = d.block;
  let text = template ? fill(template, params) : entry.action;
  if (entry.reason) text += ` – ${reasonText(L, entry.reason, ctx.names)}`;
  return text;
}

/**
 * "What happens next" and why nothing will (issue 12): notes from the PBX's settings, its lifecycle status (may be
 * null when it cannot answer) and the overview. Returns the notes as text, most important first.
 * @param {any} L
 * @param {{ pbx: any, status: any, types: any[], timeZone: string }} s
 */
export function outlookNotes(L, s) {
  const N = L.notes;
  const notes = [];
  const at = (iso) => (iso ? formatInstant(L, iso, s.timeZone) : '');
  const automatic = s.pbx.autoDownloadInstall;
  if (!automatic) notes.push(N.automaticOff);
  if (s.status?.pendingDownloadAt)
    notes.push(fill(N.downloadPlanned, { at: at(s.status.pendingDownloadAt) }));
  const moment = automatic && s.pbx.updateMoment ? at(s.status?.nextScheduledUpdate) : '';
  for (const t of s.types) {
    const name = t.model;
    if (t.newestAvailable && !s.status?.pendingDownloadAt) {
      notes.push(
        automatic && s.status
          ? fill(N.availableUntilCheck, {
              model: name,
              version: t.newestAvailable,
              at: at(s.status.nextWeeklyCheck),
            })
          : fill(N.availableManualOnly, { model: name, version: t.newestAvailable }),
      );
    }
    if (t.newestLocal) {
      const p = { model: name, version: t.newestLocal, at: moment };
      if (!t.autoUpdate) notes.push(fill(N.autoUpdateOffType, p));
      else if (!automatic) notes.push(fill(N.updateManualOnly, p));
      else if (!s.pbx.updateMoment) notes.push(fill(N.noUpdateMoment, p));
      else if (moment) notes.push(fill(N.updateAt, p));
    }
  }
  if (notes.length === 0) notes.push(N.nothingPending);
  return notes;
}
