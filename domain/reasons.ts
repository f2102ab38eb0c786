/**
 * Why something did or did not happen, as a code with parameters beside its English text: the API returns all
 * three, the page renders the code in the admin's language, the journal and Temporal show the text.
 * One catalogue for every reason the product gives.
 */
export const REASON_TEMPLATES = {
  // Decisions on a button or a scheduled run, per type
  'auto-update-off': 'Auto-Update is off for {model}',
  'no-local-firmware': 'no firmware stored on the PBX for this type',
  'all-current': 'all phones run {version} or newer',
  'all-current-some-unknown':
    'all contacted phones run {version} or newer ({notContacted} not yet contacted)',
  'already-running': 'a rollout of {model} to {version} is already running',
  'already-stored': 'newest version {version} is already stored',
  'image-firmware': 'firmware ships with the PBX image (R2)',
  'nothing-offered': 'the firmware server offers nothing for this type',
  'automatic-off': 'automatic download and installation are off (R8)',
  'automatic-switched-off': 'automatic download and installation were switched off (R8)',
  // How a rollout ended
  'auto-update-switched-off': 'Auto-Update was switched off during the rollout (R7)',
  'firmware-not-stored': 'firmware {version} for {model} is not stored on the PBX',
  'block-failed': 'block {block} could not be run: {error}',
  'waiting-for-edge':
    'waiting for a phone edge: none picked up block {block} within {wait} (task queue {queue})',
  'rollout-error': 'the rollout stopped on an error: {error}',
  'workflow-closed': 'the rollout workflow ended ({closeStatus}) before it recorded its end',
  'cancelled-by-admin': 'cancelled by {who}',
  'phones-failed': '{failed} of {total} phones did not reach {version}',
  'no-phone-updated': 'none of {total} phones reached {version}',
  // What became of one phone
  'no-registration': 'no SIP registration',
  'registration-expired': 'SIP registration expired',
  'notify-unanswered': 'NOTIFY unanswered after {transmissions} transmissions',
  'notify-refused': 'NOTIFY refused with {status}',
  'notify-unknown': 'the worker stopped while notifying it; not notified again',
  'download-aborted': 'download of {file} aborted after {bytes} bytes',
  'download-unfinished': 'download of {file} did not finish',
  'no-return-after-download': 'downloaded the firmware and did not come back',
  'came-back-old-version': 'came back after the download on {version}',
  'reprovisioned-without-firmware': 're-provisioned without fetching the firmware; still on {version}',
  'no-provisioning-after-notify': 'answered the NOTIFY but never fetched its provisioning',
  'never-contacted': 'has never contacted the PBX, so its firmware version is unknown',
  'block-not-run': 'its block was not run',
} as const;

export type ReasonCode = keyof typeof REASON_TEMPLATES;
export type ReasonParams = Record<string, string | number>;

export interface Reason {
  code: ReasonCode;
  params: ReasonParams;
  /** English, for logs, the journal and the Temporal UI. */
  text: string;
}

/** Fills `{name}` placeholders; a missing parameter stays visible as `{name}`, never as "undefined". */
export function fillTemplate(template: string, params: ReasonParams): string {
  return template.replace(/\{(\w+)\}/g, (whole, name: string) =>
    Object.hasOwn(params, name) ? String(params[name]) : whole,
  );
}

export function reason(code: ReasonCode, params: ReasonParams = {}): Reason {
  return { code, params, text: fillTemplate(REASON_TEMPLATES[code], params) };
}

const escapeRegExp = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
const parsers = new Map<ReasonCode, RegExp>();

function parserOf(code: ReasonCode): RegExp {
  let re = parsers.get(code);
  if (!re) {
    const parts = REASON_TEMPLATES[code].split(/\{(\w+)\}/);
    re = new RegExp(
      `^${parts.map((p, i) => (i % 2 === 0 ? escapeRegExp(p) : `(?<${p}>.*)`)).join('')}$`,
      's',
    );
    parsers.set(code, re);
  }
  return re;
}

/**
 * The reason behind an English text the journal stored (its details keep `reason` text and, mostly, `reasonCode`
 * without the parameters): the parameters are read back out of the text by the code's template, so the page can
 * say it in the admin's language. Undefined when no template makes this text (the page then shows the text).
 */
export function reasonFromText(text: string, code?: string): Reason | undefined {
  const codes = (code !== undefined ? [code] : Object.keys(REASON_TEMPLATES)).filter((c): c is ReasonCode =>
    Object.hasOwn(REASON_TEMPLATES, c),
  );
  for (const c of codes) {
    const m = parserOf(c).exec(text);
    if (m) return { code: c, params: { ...m.groups }, text };
  }
  return undefined;
}
