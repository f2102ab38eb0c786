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
  'type-held': '{model} is held at {version}: no update beyond it',
  'nothing-above-target': 'no phone runs a version above {version}',
  'downgrade-not-allowed': '{vendor} phones only upgrade: a downgrade to {version} is not possible',
  'version-not-older': '{version} is not older than every phone of the type runs',
  // How a rollout ended
  'auto-update-switched-off': 'Auto-Update was switched off during the rollout (R7)',
  'firmware-not-stored': 'firmware {version} for {model} is not stored on the PBX',
  'block-failed': 'block {block} could not be run: {error}',
  'waiting-for-edge':
    'waiting for a phone edge: none picked up block {block} within {wait} (task queue {queue})',
  'rollout-error': 'the rollout stopped on an error: {error}',
  'workflow-closed': 'the rollout workflow ended ({closeStatus}) before it recorded its end',
  'cancelled-by-admin': 'cancelled by {who}',
  'cancelled-with-fleet': 'cancelled with its fleet rollout by {who}',
  'phones-failed': '{failed} of {total} phones did not reach {version}',
  'no-phone-updated': 'none of {total} phones reached {version}',
  // Why a running rollout stopped or waits (status paused or halted)
  'canary-failed': 'the canary did not succeed: {failed} of {phones} canary phones failed on {version}',
  'canary-unreached': 'the canary did not succeed: none of its {phones} phones could be reached',
  'block-failure-rate':
    '{failed} of {phones} phones offered {version} in block {block} failed (more than {percent} %)',
  'failed-blocks-in-row': '{blocks} blocks in a row had failed phones (blocks {first} to {block})',
  'paused-by-admin': 'paused by {who}',
  'outside-window': 'outside the maintenance window {start}–{end} ({timeZone}); continues at {opensAt}',
  'fleet-paused': 'paused with its fleet rollout by {who}',
  'type-held-meanwhile': 'the type was held below the target while the rollout ran: {error}',
  // Why an admin's pause, resume, cancel or retry was refused
  'rollout-ended': 'the rollout has ended ({status})',
  'rollout-halted-already': 'the rollout is halted already ({reason}): resume or cancel it',
  'rollout-paused-already': 'the rollout is paused already (by {who})',
  'rollout-not-paused': 'the rollout is not paused or halted ({status})',
  'no-parked-phones': 'the rollout has no parked phones',
  // How a fleet rollout stands
  'wave-failed': 'wave {wave} did not succeed: {pbxes}',
  'pbx-rollout-halted': 'the rollout on PBX {pbxId} halted: {reason}',
  'pbx-skipped': 'PBX {pbxId} skipped: {reason}',
  'pbx-gone': 'PBX {pbxId} is no longer registered',
  'fleet-download-failed': 'firmware {version} could not be downloaded: {error}',
  'fleet-pbxes-missed': '{missed} of {total} PBXes did not reach {version}',
  'no-phones-of-type': 'no phone of {model} on this PBX',
  'no-update-moment': 'no weekly update moment is configured (R11)',
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
  // How a rollout differs from the preview an admin saw
  'added-since-preview': 'not in the preview: its phone reported an older version after the preview was made',
  'joined-late': 'registered while the rollout ran and joined block {block}',
  'removed-since-preview': 'in the preview, not in the rollout: {why}',
  'offline-at-block': 'offline when its block {block} ran',
  'moved-block': 'previewed in block {planned}, planned in block {block}: {why}',
  'retried-in-block': 'failed and was tried again: attempt {attempts} in block {block}',
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
