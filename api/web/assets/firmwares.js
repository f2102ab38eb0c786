// R15: the "Firmwares" page of one PBX. Plain browser JavaScript, no build step. Everything it polls comes from
// the database (rollout progress, the journal's newest id, the overview, and the PBX's lifecycle status — "what
// happens next" — as its workflow last recorded it in pbx_lifecycle_status); nothing it reads asks Temporal.
import {
  $,
  ApiFailure,
  api,
  clearError,
  download,
  el,
  initSession,
  L,
  Poller,
  setContent,
  showError,
  syncRows,
} from './client.js';
import {
  blockText,
  fill,
  formatInstant,
  formatWeeklyMoment,
  journalText,
  macText,
  outlookNotes,
  reasonText,
  rolloutCountsText,
} from './i18n.js';

const POLL_MS = 2000;
/** Every this many ticks the overview and the phone list are read even when nothing seemed to move (downloads). */
const FULL_EVERY = 5;
const JOURNAL_PAGE = 50;

const pbxId = $('page').dataset.pbx;
const base = `/api/pbxes/${encodeURIComponent(pbxId)}`;

/** The PBX as last read, its zone (every time on the page is shown in it), its types by id. */
let pbx = null;
let timeZone = 'UTC';
let status;
const names = new Map();
let types = [];
let rollouts = [];

const at = (iso, options) => (iso ? formatInstant(L, iso, timeZone, options) : '');

// ---- small DOM helpers ---------------------------------------------------------------------------

function setText(node, text) {
  if (node.textContent !== text) node.textContent = text;
}

/** A cell that carries its column name, shown beside the value on narrow screens (the CSS stacks rows). */
const cell = (label, attrs = {}, ...children) => el('td', { 'data-label': label, ...attrs }, ...children);

// ---- overview (R6) and Auto-Update (R7) -----------------------------------------------------------

function inUseText(inUse) {
  if (inUse.length === 0) return '';
  const name = (v) => v.version ?? L.unknown;
  // R6: one version → just the version; several → each with its phone count.
  if (inUse.length === 1) return name(inUse[0]);
  return inUse.map((v) => `${name(v)} (${v.phones})`).join(', ');
}

/** While an Auto-Update change is on its way, a refresh must not put the old state back. */
const togglesInFlight = new Set();

function createOverviewRow(t) {
  const box = el('input', {
    type: 'checkbox',
    'aria-label': fill(L.autoUpdateFor, { model: t.model }),
    'data-model': t.modelId,
    onchange: (event) => setAutoUpdate(t.modelId, event.target),
  });
  return el(
    'tr',
    { 'data-model': t.modelId },
    cell(L.vendor, { class: 'vendor' }),
    cell(L.model, { class: 'model' }),
    cell(L.inUse, { class: 'version in-use' }),
    cell(L.newestLocal, { class: 'version newest-local' }),
    cell(L.newestAvailable, { class: 'version newest-available' }),
    cell(L.autoUpdate, { class: 'switch' }, box),
    cell(
      L.phones,
      { class: 'more' },
      el(
        'button',
        {
          type: 'button',
          class: 'link',
          'aria-label': fill(L.showPhonesOf, { model: t.model }),
          onclick: () => showPhonesOf(t.modelId),
        },
        L.phones,
      ),
    ),
    cell(L.holdColumn, { class: 'hold' }, el('span', { class: 'held' }), holdForm(t)),
  );
}

// ---- hold, release, downgrade per type (issue 13) -----------------------------------------------------

/** The versions a hold or downgrade can name: the stored ones and those in use, newest first. */
function holdVersions(t) {
  const inUse = t.inUse.flatMap((v) => (v.version === null ? [] : [v.version]));
  const all = [...new Set([...(t.storedVersions ?? []), ...inUse])];
  return all.sort((a, b) => b.localeCompare(a, undefined, { numeric: true }));
}

function holdForm(t) {
  const form = el(
    'form',
    { class: 'hold-form', 'data-model': t.modelId },
    el(
      'label',
      {},
      `${L.holdVersion} `,
      el('select', { name: 'version', 'aria-label': `${L.holdVersion} (${t.model})` }),
    ),
    el(
      'label',
      {},
      `${L.holdReason} `,
      el('input', {
        name: 'reason',
        maxlength: '500',
        required: true,
        size: '16',
        'aria-label': `${L.holdReason} (${t.model})`,
      }),
    ),
    el(
      'span',
      { class: 'buttons' },
      el('button', { type: 'submit', 'data-hold': 'hold' }, L.hold),
      el('button', { type: 'button', class: 'secondary', 'data-hold': 'downgrade' }, L.downgrade),
      el(
        'button',
        { type: 'button', class: 'secondary', 'data-hold': 'release', hidden: true },
        L.releaseHold,
      ),
    ),
  );
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    void changeHold(form, 'hold');
  });
  for (const b of form.querySelectorAll('button[type=button]')) {
    b.addEventListener('click', () => void changeHold(form, b.dataset.hold));
  }
  return el(
    'details',
    { class: 'hold-details' },
    el('summary', { 'aria-label': fill(L.manageHoldOf, { model: t.model }) }, L.manageHold),
    form,
  );
}

function updateHoldCell(holdCell, t) {
  const held = holdCell.querySelector('.held');
  held.dataset.version = t.hold?.version ?? '';
  setText(held, t.hold ? fill(L.heldAt, { version: t.hold.version }) : '');
  const title = t.hold ? fill(L.heldTitle, { who: t.hold.who, why: t.hold.why, at: at(t.hold.at) }) : '';
  if ((held.getAttribute('title') ?? '') !== title) {
    if (title) held.setAttribute('title', title);
    else held.removeAttribute('title');
  }
  holdCell.querySelector('[data-hold="release"]').hidden = !t.hold;
  const select = holdCell.querySelector('select');
  const versions = holdVersions(t);
  const wanted = versions.join('|');
  // The list the admin is choosing from is left alone.
  if (select.dataset.options !== wanted && document.activeElement !== select) {
    const chosen = select.value;
    select.replaceChildren(...versions.map((v) => el('option', { value: v }, v)));
    select.dataset.options = wanted;
    if (versions.includes(chosen)) select.value = chosen;
  }
}

/** Hold at the chosen version, release the hold, or downgrade to it: the API's answer in the page's words. */
async function changeHold(form, action) {
  const modelId = form.dataset.model;
  const t = types.find((x) => x.modelId === modelId);
  if (!t) return;
  const version = form.elements.version.value;
  const reason = form.elements.reason.value.trim();
  const model = `${t.vendor} ${t.model}`;
  if (action !== 'release' && (!version || !reason)) {
    form.reportValidity();
    return;
  }
  if (action === 'downgrade' && !window.confirm(fill(L.confirmDowngrade, { model, version }))) return;
  const path = `${base}/types/${encodeURIComponent(modelId)}`;
  const buttons = form.querySelectorAll('button');
  for (const b of buttons) b.disabled = true;
  clearError('action');
  try {
    let text;
    if (action === 'hold') {
      const answer = await api('PUT', `${path}/hold`, { version, reason });
      t.hold = answer.hold;
      text = fill(L.heldDone, { model, version: answer.hold?.version ?? version });
    } else if (action === 'release') {
      const q = reason ? `?${new URLSearchParams({ reason })}` : '';
      const answer = await api('DELETE', `${path}/hold${q}`);
      t.hold = null;
      text = answer.released
        ? fill(L.releasedDone, { model, version: answer.released.version })
        : fill(L.notHeldDone, { model });
    } else {
      const answer = await api('POST', `${path}/downgrade`, { version, reason });
      t.hold = answer.hold;
      const d = answer.decision;
      const status = `${L.decision[d.status] ?? d.status}${d.reason ? ` – ${reasonText(L, d.reason, names)}` : ''}`;
      text = fill(L.downgradeDone, { model, version, status });
    }
    updateHoldCell(form.closest('td'), t);
    if (action !== 'release') form.elements.reason.value = '';
    $('action-result').replaceChildren(el('p', { class: `hold-result ${action}` }, text));
    refreshSoon();
  } catch (err) {
    showError(err, 'action');
  } finally {
    for (const b of buttons) b.disabled = false;
  }
}

function updateOverviewRow(row, t) {
  const [vendor, model, inUse, local, available, sw, , holdCell] = row.cells;
  row.dataset.held = t.hold ? t.hold.version : '';
  updateHoldCell(holdCell, t);
  setText(vendor, t.vendor);
  setText(model, t.imageManaged ? `${t.model} (${L.imageFirmware} ${t.imageFirmware ?? ''})` : t.model);
  setText(inUse, inUseText(t.inUse));
  setText(local, t.newestLocal ?? '');
  setText(available, t.newestAvailable ?? '');
  const box = sw.firstChild;
  if (!togglesInFlight.has(t.modelId) && box.checked !== t.autoUpdate) box.checked = t.autoUpdate;
}

async function loadOverview() {
  const overview = await api('GET', `${base}/overview`);
  types = overview.types;
  for (const t of types) names.set(t.modelId, t.model);
  $('no-accounts').hidden = types.length > 0;
  $('overview').hidden = types.length === 0;
  syncRows($('overview').tBodies[0], types, (t) => t.modelId, createOverviewRow, updateOverviewRow);
  syncTypeOptions();
}

async function setAutoUpdate(modelId, box) {
  togglesInFlight.add(modelId);
  box.setAttribute('aria-busy', 'true');
  try {
    clearError('action');
    await api('PUT', `${base}/types/${encodeURIComponent(modelId)}/auto-update`, { enabled: box.checked });
    refreshSoon();
  } catch (err) {
    box.checked = !box.checked;
    showError(err, 'action');
  } finally {
    togglesInFlight.delete(modelId);
    box.removeAttribute('aria-busy');
  }
}

// ---- settings (R8, R11, R9) and what happens next --------------------------------------------------

let momentDirty = false;

function renderPbx() {
  timeZone = pbx.timeZone;
  setText($('pbx-name'), `– ${pbx.name}`);
  setText($('pbx-zone'), `${L.timeZone}: ${pbx.timeZone}`);
  document.title = `${L.title} – ${pbx.name}`;
  const global = $('auto-download-install');
  if (!global.matches('[aria-busy]') && global.checked !== pbx.autoDownloadInstall) {
    global.checked = pbx.autoDownloadInstall;
  }
  // The form the admin is editing is left alone.
  if (!momentDirty && !$('update-moment').contains(document.activeElement)) {
    $('update-day').value = pbx.updateMoment ? pbx.updateMoment.day : '';
    $('update-time').value = pbx.updateMoment ? pbx.updateMoment.time : '';
  }
  setText($('weekly-check'), formatWeeklyMoment(L, pbx.weeklyCheck, pbx.timeZone));
}

function renderNext() {
  const s = status;
  const phase = s ? (L.phases[s.phase] ?? s.phase) : '';
  setText($('next-check'), s ? at(s.nextWeeklyCheck) : '—');
  setText(
    $('next-download'),
    s ? (s.pendingDownloadAt ? at(s.pendingDownloadAt) : L.noPendingDownload) : '—',
  );
  setText(
    $('next-update'),
    !pbx.updateMoment
      ? L.none
      : !pbx.autoDownloadInstall
        ? L.offR8
        : s?.nextScheduledUpdate
          ? at(s.nextScheduledUpdate)
          : '—',
  );
  setText($('next-phase'), phase || '—');
  $('status-unavailable').hidden = s !== null;
  setContent(
    $('outlook'),
    ...outlookNotes(L, { pbx, status: s, types, timeZone }).map((n) => el('li', {}, n)),
  );
}

/** The PBX (its settings): read when something changed (the journal moved, a button, a setting). */
async function loadPbx() {
  pbx = await api('GET', base);
  renderPbx();
}

// ---- buttons (Check now, Download now, Update now) --------------------------------------------------

/** A button whose answer came back 202: the poll timer fetches its result URL (one timer, issue 12 defect 1). */
let pendingAction = null;

function resultList(items) {
  if (items.length === 0) return el('p', {}, L.upToDate);
  return el('ul', {}, ...items.map(([text, cls]) => el('li', { class: cls || null }, text)));
}

function catalogLine(r) {
  return r.catalogOk ? [] : [[`${L.catalogUnreachable}: ${r.catalogError ?? ''}`, 'failed']];
}

function describeResult(action, r) {
  if (action === 'check-now') {
    const items = [[fill(L.checkedAt, { at: at(r.checkedAt) })], ...catalogLine(r)];
    for (const t of r.types) {
      items.push([
        `${t.model}: ${t.newestAvailable ?? '—'} (${t.needsDownload ? L.downloadNeeded : L.upToDate})`,
        t.needsDownload ? 'started' : null,
      ]);
    }
    return resultList(items);
  }
  if (action === 'download-now') {
    const items = catalogLine(r);
    for (const s of r.started) items.push([`${s.model} ${s.version}: ${L.decision.started}`, 'started']);
    for (const n of r.nothingToDo) {
      items.push([`${n.model}: ${L.decision['nothing-to-do']} – ${reasonText(L, n.reason, names)}`]);
    }
    return resultList(items);
  }
  return resultList(
    r.decisions.map((d) => {
      const why = d.reason
        ? ` – ${reasonText(L, d.reason, names)}`
        : d.targetVersion
          ? ` → ${d.targetVersion}`
          : '';
      return [`${d.model}: ${L.decision[d.status] ?? d.status}${why}`, d.status];
    }),
  );
}

function setButtonsBusy(busy) {
  for (const b of document.querySelectorAll('button[data-action]')) b.disabled = busy;
}

/** What is known while a button is still at work: it runs, and whether the firmware server keeps failing. */
function showRunning(label, answer) {
  const fw = answer.firmwareServer;
  const failing = fw?.lastErrorAt && (!fw.lastSyncAt || fw.lastErrorAt > fw.lastSyncAt);
  setContent(
    $('action-result'),
    el('p', {}, fill(L.stillRunning, { button: label })),
    failing
      ? el('p', { class: 'failed' }, fill(L.firmwareServerRetrying, { error: fw.lastError ?? '' }))
      : null,
  );
}

function showResult(action, label, result) {
  $('action-result').replaceChildren(el('p', {}, `${label}:`), describeResult(action, result));
}

async function press(button) {
  if (pendingAction) return;
  const action = button.dataset.action;
  const label = button.textContent;
  setButtonsBusy(true);
  clearError('action');
  $('action-result').replaceChildren(el('p', {}, `${label}: ${L.working}`));
  try {
    const answer = await api('POST', `${base}/${action}`, {});
    if (answer.httpStatus === 202) {
      pendingAction = { action, label, resultUrl: answer.resultUrl };
      showRunning(label, answer);
      poller.now();
      return;
    }
    showResult(action, label, answer);
    setButtonsBusy(false);
    refreshSoon();
  } catch (err) {
    $('action-result').replaceChildren();
    setButtonsBusy(false);
    showError(err, 'action');
  }
}

/** Part of a tick while a button's answer is outstanding: its result URL, once. */
async function followAction() {
  const p = pendingAction;
  try {
    const answer = await api('GET', p.resultUrl);
    if (answer.httpStatus === 202) return showRunning(p.label, answer);
    pendingAction = null;
    showResult(p.action, p.label, answer);
    setButtonsBusy(false);
    forceRefresh = true;
  } catch (err) {
    if (err instanceof ApiFailure && err.failure.kind === 'network') throw err;
    pendingAction = null;
    setButtonsBusy(false);
    $('action-result').replaceChildren();
    showError(err, 'action');
  }
}

// ---- rollouts (R12) ----------------------------------------------------------------------------------

const typeName = (modelId, fallback) => {
  const t = types.find((x) => x.modelId === modelId);
  return t ? `${t.vendor} ${t.model}` : (fallback ?? modelId);
};

function statusCell(r) {
  return [
    el('span', { class: `status ${r.status}` }, L.rolloutStatus[r.status] ?? r.status),
    r.reason ? el('div', { class: 'reason' }, reasonText(L, r.reason, names)) : null,
  ];
}

function whenText(r) {
  const started = fill(L.startedBy, {
    at: at(r.startedAt),
    who: r.who ?? '',
    why: L.why[r.why] ?? r.why ?? '',
  });
  return r.finishedAt ? `${started}; ${fill(L.finishedAt, { at: at(r.finishedAt) })}` : started;
}

function createRolloutRow(r) {
  const showPhones = el('button', {
    type: 'button',
    class: 'link',
    'aria-controls': 'rollout-detail',
    onclick: () => openRolloutDetail(row.dataset.rollout),
  });
  const showHistory = el('button', {
    type: 'button',
    class: 'link',
    'aria-controls': 'rollout-history',
    onclick: () => openHistory(r.modelId),
  });
  const row = el(
    'tr',
    { 'data-model': r.modelId },
    cell(L.model, { class: 'type' }),
    cell(L.target, { class: 'version' }),
    cell(L.status, { class: 'state' }),
    cell(L.progress, { class: 'progress' }, el('progress', { max: 100 }), el('span', { class: 'counts' })),
    cell(L.when, { class: 'when' }),
    cell(
      '',
      { class: 'rollout-actions' },
      el(
        'div',
        {},
        showPhones,
        showHistory,
        el('a', { target: '_blank', rel: 'noopener' }, L.openTemporal),
        // Controls for one rollout (issue 13): pause, resume, cancel, retry its parked phones. The slot carries
        // the rollout id; which buttons show follows the rollout's status.
        el(
          'span',
          { class: 'rollout-controls', role: 'group' },
          ...CONTROLS.map((action) =>
            el('button', {
              type: 'button',
              class: 'secondary',
              'data-control': action,
              hidden: true,
              onclick: (event) => steer(event.currentTarget),
            }),
          ),
        ),
      ),
    ),
  );
  return row;
}

function updateRolloutRow(row, r) {
  row.dataset.status = r.status;
  row.dataset.rollout = r.rolloutId;
  const [type, target, state, progress, when, actions] = row.cells;
  setText(type, typeName(r.modelId, r.model));
  setText(target, r.targetVersion);
  setContent(state, ...statusCell(r));
  const bar = progress.querySelector('progress');
  bar.value = r.percent;
  bar.setAttribute('aria-label', `${L.progress} ${typeName(r.modelId, r.model)}`);
  const block = blockText(L, r);
  setText(
    progress.querySelector('.counts'),
    ` ${r.percent} % · ${rolloutCountsText(L, r)}${block ? ` · ${block}` : ''}`,
  );
  setText(when, whenText(r));
  const [phonesButton, historyButton, link, controls] = actions.firstChild.children;
  setText(phonesButton, L.rolloutPhones);
  phonesButton.setAttribute(
    'aria-label',
    fill(L.rolloutPhonesOf, { model: r.model, version: r.targetVersion }),
  );
  setText(historyButton, L.history);
  historyButton.setAttribute('aria-label', fill(L.historyOf, { model: r.model }));
  if (link.getAttribute('href') !== r.temporalUrl) link.setAttribute('href', r.temporalUrl);
  controls.dataset.rolloutId = r.rolloutId;
  controls.dataset.status = r.status;
  controls.setAttribute('aria-label', fill(L.controlsOf, { model: r.model, version: r.targetVersion }));
  const open = r.status === 'running' || r.status === 'paused' || r.status === 'halted';
  const shown = {
    pause: r.status === 'running',
    resume: r.status === 'paused' || r.status === 'halted',
    cancel: open,
    'retry-parked': (r.parked ?? 0) > 0,
  };
  for (const button of controls.children) {
    const action = button.dataset.control;
    button.hidden = !shown[action];
    setText(button, action === 'retry-parked' ? fill(L.retryParked, { parked: r.parked ?? 0 }) : L[action]);
  }
}

/** The per-rollout buttons, in order (issue 13); each is an API route of the rollout. */
const CONTROLS = ['pause', 'resume', 'cancel', 'retry-parked'];

/** One of a rollout's buttons pressed: the Update on its workflow, answered with how it stands now. */
async function steer(button) {
  const controls = button.parentElement;
  const rolloutId = controls.dataset.rolloutId;
  const action = button.dataset.control;
  const r = rollouts.find((x) => x.rolloutId === rolloutId);
  if (!r) return;
  const what = { model: typeName(r.modelId, r.model), version: r.targetVersion };
  if (action === 'cancel' && !window.confirm(fill(L.confirmCancel, what))) return;
  clearError('action');
  for (const b of controls.children) b.disabled = true;
  try {
    const answer = await api('POST', `${base}/rollouts/${encodeURIComponent(rolloutId)}/${action}`, {});
    // pause/resume/cancel answer with the rollout; retry-parked with the open rollout or a new one's decision.
    const now = answer.rolloutId ? answer : (answer.rollout ?? null);
    const status = now
      ? [L.rolloutStatus[now.status] ?? now.status, now.reason ? reasonText(L, now.reason, names) : '']
          .filter(Boolean)
          .join(' – ')
      : (L.decision[answer.decision?.status] ?? answer.decision?.status ?? '');
    $('action-result').replaceChildren(
      el('p', {}, `${button.textContent}: ${fill(L.controlAnswer, { ...what, status })}`),
    );
    refreshSoon();
  } catch (err) {
    showError(err, 'action');
  } finally {
    for (const b of controls.children) b.disabled = false;
  }
}

// ---- preview of the next update (issue 13) -------------------------------------------------------------

async function showPreview() {
  clearError('action');
  try {
    const answer = await api('POST', `${base}/rollout-previews`, {});
    const parts = answer.previews.map((t) => {
      if (!t.preview) {
        return el(
          'div',
          { class: 'preview-type', 'data-model': t.modelId },
          el(
            'p',
            {},
            `${fill(L.previewNothing, { model: typeName(t.modelId, t.model) })}${t.reason ? ` – ${reasonText(L, t.reason, names)}` : ''}`,
          ),
        );
      }
      const p = t.preview;
      const phones = p.blocks.reduce((n, b) => n + b.phones.length, 0);
      const rows = p.blocks.map((b) =>
        el(
          'tr',
          { 'data-block': String(b.block), 'data-canary': String(b.canary) },
          cell(
            L.rollout,
            {},
            `${fill(L.blockNumber, { block: b.block })}${b.canary ? ` (${L.canary})` : ''}`,
          ),
          cell(L.expectedStart, {}, b.expectedStartAt ? at(b.expectedStartAt) : ''),
          cell(
            L.phones,
            { class: 'preview-phones' },
            b.phones
              .map((x) => `${x.extension} (${macText(x.mac)})${x.registered ? '' : ` – ${L.notRegistered}`}`)
              .join(', '),
          ),
        ),
      );
      return el(
        'div',
        { class: 'preview-type', 'data-model': t.modelId, 'data-preview-id': p.previewId },
        el(
          'p',
          {},
          `${fill(L.previewType, {
            model: typeName(t.modelId, t.model),
            version: p.targetVersion,
            phones,
            blocks: p.blocks.length,
            canary: p.blocks[0]?.phones.length ?? 0,
          })}${t.reason ? ` – ${reasonText(L, t.reason, names)}` : ''}`,
        ),
        el(
          'table',
          {},
          el(
            'thead',
            {},
            el('tr', {}, el('th', {}, L.rollout), el('th', {}, L.expectedStart), el('th', {}, L.phones)),
          ),
          el('tbody', {}, ...rows),
        ),
      );
    });
    $('preview-types').replaceChildren(...parts);
    $('preview').hidden = false;
    $('preview-title').focus();
  } catch (err) {
    showError(err, 'action');
  }
}

function renderRollouts(list) {
  rollouts = list;
  $('no-rollouts').hidden = list.length > 0;
  $('rollouts').hidden = list.length === 0;
  syncRows($('rollouts').tBodies[0], list, (r) => r.modelId, createRolloutRow, updateRolloutRow);
}

const rolloutKey = (list) => list.map((r) => `${r.rolloutId}:${r.status}:${r.done}`).join('|');

/** The rollout whose phones are shown, and what it looked like then (to refresh it while it moves). */
let detail = null;

function outcomeRank(o) {
  if (o === null) return 1;
  return o === 'updated' || o === 'already-current' ? 2 : 0;
}

/** A parked phone (issue 13: every attempt failed) is shown by what its last attempt found, marked parked. */
function outcomeShown(p) {
  const parked = p.outcome === 'parked';
  const outcome = parked && p.lastOutcome ? p.lastOutcome : p.outcome;
  const word = outcome ? (L.outcomes[outcome] ?? outcome) : L.pendingOutcome;
  return { outcome, word, parked: parked && outcome !== 'parked' };
}

function renderDetail(data) {
  const r = data.rollout;
  $('rollout-detail').hidden = false;
  setText($('rollout-detail-title'), fill(L.rolloutPhonesOf, { model: r.model, version: r.targetVersion }));
  setContent($('rollout-detail-summary'), ...statusCell(r), ` ${rolloutCountsText(L, r)}`);
  // Phones that did not reach the target first, then the ones still in progress, then the rest.
  const results = [...data.results].sort(
    (a, b) => outcomeRank(a.outcome) - outcomeRank(b.outcome) || a.phoneAccountId - b.phoneAccountId,
  );
  syncRows(
    $('rollout-results').tBodies[0],
    results,
    (p) => p.phoneAccountId,
    () =>
      el(
        'tr',
        {},
        cell(L.mac, { class: 'version' }),
        cell(L.extension),
        cell(L.fromTo, { class: 'version' }),
        cell(L.outcome, { class: 'outcome' }),
        cell(L.reason, { class: 'reason' }),
      ),
    (row, p) => {
      const { outcome: shown, word, parked } = outcomeShown(p);
      row.dataset.outcome = shown ?? 'pending';
      row.dataset.parked = String(p.outcome === 'parked');
      const [mac, ext, fromTo, outcome, why] = row.cells;
      setText(mac, macText(p.mac));
      setText(ext, p.extension ?? '');
      setText(fromTo, `${p.fromVersion ?? L.unknown} → ${r.targetVersion}`);
      outcome.className = `outcome ${shown ?? 'pending'}`;
      setText(outcome, parked ? `${L.outcomes.parked} · ${word}` : word);
      setText(why, p.reason ? reasonText(L, p.reason, names) : '');
    },
  );
  $('rollout-results-more').hidden = data.nextAfterPhoneId === null;
}

async function openRolloutDetail(rolloutId, options = {}) {
  try {
    const data = await api('GET', `${base}/rollouts/${encodeURIComponent(rolloutId)}?limit=1000`);
    detail = {
      rolloutId,
      key: `${data.rollout.status}:${data.rollout.done}`,
      next: data.nextAfterPhoneId,
      data,
    };
    renderDetail(data);
    if (!options.quiet) $('rollout-detail-title').focus();
  } catch (err) {
    showError(err, 'action');
  }
}

async function moreDetail() {
  if (!detail?.next) return;
  try {
    const page = await api(
      'GET',
      `${base}/rollouts/${encodeURIComponent(detail.rolloutId)}?limit=1000&afterPhoneId=${detail.next}`,
    );
    detail.data = { ...page, results: [...detail.data.results, ...page.results] };
    detail.next = page.nextAfterPhoneId;
    renderDetail(detail.data);
  } catch (err) {
    showError(err, 'action');
  }
}

/** The open rollout moved (more phones decided, or it ended): its phones again. */
async function refreshDetail() {
  if (!detail) return;
  const r = rollouts.find((x) => x.rolloutId === detail.rolloutId);
  if (r && `${r.status}:${r.done}` !== detail.key) await openRolloutDetail(detail.rolloutId, { quiet: true });
}

async function openHistory(modelId) {
  try {
    const { rollouts: past } = await api(
      'GET',
      `${base}/rollouts?modelId=${encodeURIComponent(modelId)}&limit=50`,
    );
    $('rollout-history').hidden = false;
    setText($('rollout-history-title'), fill(L.historyOf, { model: names.get(modelId) ?? modelId }));
    $('no-history').hidden = past.length > 0;
    syncRows(
      $('history').tBodies[0],
      past,
      (r) => r.rolloutId,
      (r) =>
        el(
          'tr',
          {},
          cell(L.when, { class: 'when' }),
          cell(L.target, { class: 'version' }),
          cell(L.status, { class: 'state' }),
          cell(L.progress, { class: 'counts' }),
          cell(
            '',
            {},
            el(
              'button',
              {
                type: 'button',
                class: 'link',
                'aria-controls': 'rollout-detail',
                'aria-label': fill(L.rolloutPhonesOf, { model: r.model, version: r.targetVersion }),
                onclick: () => openRolloutDetail(r.rolloutId),
              },
              L.rolloutPhones,
            ),
          ),
        ),
      (row, r) => {
        row.dataset.status = r.status;
        const [when, target, state, counts] = row.cells;
        setText(when, whenText(r));
        setText(target, r.targetVersion);
        setContent(state, ...statusCell(r));
        setText(counts, rolloutCountsText(L, r));
      },
    );
    $('rollout-history-title').focus();
  } catch (err) {
    showError(err, 'action');
  }
}

// ---- phones of a type ----------------------------------------------------------------------------------

let phonesNext = null;
let phonesShown = [];

function syncTypeOptions() {
  const select = $('phone-type');
  const wanted = types.map((t) => t.modelId).join('|');
  if (select.dataset.options !== wanted) {
    const chosen = select.value;
    select.replaceChildren(...types.map((t) => el('option', { value: t.modelId }, `${t.vendor} ${t.model}`)));
    select.dataset.options = wanted;
    if (types.some((t) => t.modelId === chosen)) select.value = chosen;
  }
  const journalType = $('journal-type');
  if (journalType.dataset.options !== wanted) {
    const chosen = journalType.value;
    journalType.replaceChildren(
      el('option', { value: '' }, L.allTypes),
      ...types.map((t) => el('option', { value: t.modelId }, `${t.vendor} ${t.model}`)),
    );
    journalType.dataset.options = wanted;
    journalType.value = chosen;
  }
}

function registrationText(p) {
  const state = L.registrationStates[p.registration.state] ?? p.registration.state;
  return p.registration.state === 'registered' && p.registration.until
    ? `${state} ${fill(L.registeredUntil, { at: at(p.registration.until) })}`
    : state;
}

function renderPhones() {
  $('no-phones').hidden = phonesShown.length > 0;
  $('phones').hidden = phonesShown.length === 0;
  syncRows(
    $('phones').tBodies[0],
    phonesShown,
    (p) => p.id,
    () =>
      el(
        'tr',
        {},
        cell(L.mac, { class: 'version' }),
        cell(L.extension),
        cell(L.version, { class: 'version installed' }),
        cell(L.lastContact, { class: 'when' }),
        cell(L.registration, { class: 'registration' }),
        cell(L.lastRollout, { class: 'last-rollout' }),
      ),
    (row, p) => {
      row.dataset.mac = p.mac;
      const [mac, ext, version, contact, registration, last] = row.cells;
      setText(mac, macText(p.mac));
      setText(ext, p.displayName ? `${p.extension} (${p.displayName})` : p.extension);
      const offer = p.firmwareOffer ? ` · ${fill(L.offered, { version: p.firmwareOffer.version })}` : '';
      setText(version, `${p.installedVersion ?? L.unknown}${offer}`);
      setText(contact, p.lastContactAt ? at(p.lastContactAt) : L.never);
      registration.className = `registration ${p.registration.state}`;
      setText(registration, registrationText(p));
      const lr = p.lastRollout;
      const shown = lr ? outcomeShown(lr) : null;
      setContent(
        last,
        lr
          ? [
              el(
                'span',
                {
                  class: `outcome ${shown.outcome ?? 'pending'}`,
                  title: shown.parked ? L.outcomes.parked : null,
                  'data-parked': String(shown.parked),
                },
                `${lr.targetVersion}: ${shown.word}`,
              ),
              lr.reason ? el('div', { class: 'reason' }, reasonText(L, lr.reason, names)) : null,
            ]
          : '—',
      );
    },
  );
  $('phones-more').hidden = phonesNext === null;
}

async function loadPhones() {
  const modelId = $('phone-type').value;
  if (!modelId) return;
  const pages = Math.max(1, Math.ceil(phonesShown.length / 200));
  let list = [];
  let next = null;
  for (let i = 0; i < pages; i++) {
    const after = next ? `&afterId=${next}` : '';
    const page = await api('GET', `${base}/phones?modelId=${encodeURIComponent(modelId)}&limit=200${after}`);
    list = [...list, ...page.phones];
    next = page.nextAfterId;
    if (next === null) break;
  }
  if ($('phone-type').value !== modelId) return;
  phonesShown = list;
  phonesNext = next;
  renderPhones();
}

async function morePhones() {
  if (phonesNext === null) return;
  try {
    const modelId = $('phone-type').value;
    const page = await api(
      'GET',
      `${base}/phones?modelId=${encodeURIComponent(modelId)}&limit=200&afterId=${phonesNext}`,
    );
    phonesShown = [...phonesShown, ...page.phones];
    phonesNext = page.nextAfterId;
    renderPhones();
  } catch (err) {
    showError(err, 'action');
  }
}

function showPhonesOf(modelId) {
  $('phone-type').value = modelId;
  phonesShown = [];
  void loadPhones().catch((err) => showError(err, 'action'));
  $('phones-section').scrollIntoView();
  $('phone-type').focus();
}

// ---- journal (R14) and logs -----------------------------------------------------------------------------

const journalEntries = new Map();
let journalOlder = null;
/** The filters whose entries are shown, and the newest read asked for: answers may arrive out of order. */
let journalShown = null;
let journalAsked = 0;

function journalQuery() {
  const q = new URLSearchParams({ limit: String(JOURNAL_PAGE) });
  if ($('journal-type').value) q.set('modelId', $('journal-type').value);
  if ($('journal-kind').value) q.set('actionPrefix', $('journal-kind').value);
  if ($('journal-why').value) q.set('why', $('journal-why').value);
  return q;
}

function renderJournal() {
  const entries = [...journalEntries.values()].sort((a, b) => b.id - a.id);
  $('no-entries').hidden = entries.length > 0;
  $('journal').hidden = entries.length === 0;
  syncRows(
    $('journal').tBodies[0],
    entries,
    (e) => e.id,
    () =>
      el(
        'tr',
        {},
        cell(L.at, { class: 'when' }),
        cell(L.what, { class: 'what' }),
        cell(L.phoneType),
        cell(L.who),
        cell(L.occasion),
      ),
    (row, e) => {
      row.dataset.action = e.action;
      const [when, what, type, who, why] = row.cells;
      setText(when, at(e.at, { seconds: true }));
      const error = typeof e.details?.error === 'string' ? e.details.error : null;
      setContent(
        what,
        journalText(L, e, { names, timeZone }),
        error ? el('small', { class: 'detail', lang: 'en' }, ` ${error}`) : null,
      );
      setText(type, e.modelId ? (names.get(e.modelId) ?? e.modelId) : '');
      setText(who, e.who);
      setText(why, L.why[e.why] ?? e.why);
    },
  );
  $('journal-older').hidden = journalOlder === null;
}

/**
 * The newest page under the current filters, merged with older pages already shown. An answer overtaken by a newer
 * read, or asked under filters the admin has changed since, is dropped: a slow answer to the previous filters (or a
 * poll sent before the change) never shows up under the new ones.
 */
async function loadJournal(reset = false) {
  const query = journalQuery().toString();
  const asked = ++journalAsked;
  const page = await api('GET', `${base}/journal?${query}`);
  if (asked !== journalAsked || query !== journalQuery().toString()) return;
  if (reset || query !== journalShown) {
    journalEntries.clear();
    journalOlder = page.nextBeforeId;
    journalShown = query;
  } else if (journalEntries.size === 0) {
    journalOlder = page.nextBeforeId;
  }
  for (const e of page.entries) journalEntries.set(e.id, e);
  renderJournal();
}

async function olderJournal() {
  if (journalOlder === null) return;
  try {
    const shown = journalQuery().toString();
    const q = journalQuery();
    q.set('beforeId', String(journalOlder));
    const page = await api('GET', `${base}/journal?${q}`);
    if (shown !== journalShown || shown !== journalQuery().toString()) return; // the filters changed meanwhile
    for (const e of page.entries) journalEntries.set(e.id, e);
    journalOlder = page.nextBeforeId;
    renderJournal();
  } catch (err) {
    showError(err, 'action');
  }
}

// ---- supported models (R1, R2) ----------------------------------------------------------------------------

async function loadModels() {
  const data = await api('GET', `${base}/supported-models`);
  const fw = data.firmwareServer;
  setContent(
    $('firmware-server'),
    fw.lastSyncAt ? el('span', {}, fill(L.firmwareServerSynced, { at: at(fw.lastSyncAt) })) : null,
    fw.lastError && (!fw.lastSyncAt || fw.lastErrorAt > fw.lastSyncAt)
      ? el(
          'span',
          { class: 'failed' },
          ` ${fill(L.firmwareServerError, { at: at(fw.lastErrorAt), error: fw.lastError })}`,
        )
      : null,
  );
  syncRows(
    $('models').tBodies[0],
    data.models,
    (m) => m.modelId,
    () =>
      el(
        'tr',
        {},
        cell(L.vendor),
        cell(L.model),
        cell(L.source, { class: 'source' }),
        cell(L.newestOffered, { class: 'version' }),
        cell(L.imageVersion, { class: 'version' }),
        cell(L.accountsHere, { class: 'number' }),
      ),
    (row, m) => {
      row.dataset.model = m.modelId;
      row.dataset.source = m.source;
      const [vendor, model, source, offered, image, accounts] = row.cells;
      setText(vendor, m.vendor);
      setText(model, m.model);
      setText(source, L.sources[m.source] ?? m.source);
      setText(offered, m.newestOffered ?? '');
      setText(image, m.imageVersion ?? '');
      setText(accounts, String(m.accounts));
    },
  );
}

// ---- the one poll ------------------------------------------------------------------------------------------

let ticks = 0;
let journalHead;
let lastRolloutKey = '';
let forceRefresh = false;

/**
 * Every POLL_MS: the rollouts, the journal's newest id and the lifecycle status (all one small read of the
 * database each: the workflow records its status whenever it changes, so "what happens next" follows it within a
 * tick), and a pending button's result. What else is read depends on what moved: the journal moved → the PBX, the
 * journal, the models; rollouts moved → the overview, the phones, the open rollout.
 */
async function tick() {
  try {
    const [progress, head, recorded] = await Promise.all([
      api('GET', `${base}/rollout-progress`),
      api('GET', `${base}/journal?limit=1`),
      api('GET', `${base}/status`),
      pendingAction ? followAction() : null,
    ]);
    status = recorded.status;
    clearError('poll');
    clearError('load');
    ticks++;
    renderRollouts(progress.rollouts);
    const headId = head.entries[0]?.id ?? 0;
    const journalMoved = headId !== journalHead || forceRefresh;
    const key = rolloutKey(progress.rollouts);
    const rolloutsMoved = key !== lastRolloutKey;
    const every = ticks % FULL_EVERY === 0;
    forceRefresh = false;
    const reads = [];
    if (journalMoved || rolloutsMoved || every) reads.push(loadOverview());
    if (journalMoved) reads.push(loadPbx());
    if (journalMoved) reads.push(loadJournal(), loadModels());
    if (journalMoved || rolloutsMoved || every) reads.push(loadPhones());
    if (rolloutsMoved) reads.push(refreshDetail());
    await Promise.all(reads);
    journalHead = headId;
    lastRolloutKey = key;
    renderNext();
  } catch (err) {
    showError(err, 'poll');
  }
}

const poller = new Poller(tick, POLL_MS);

/** Something was changed here: read everything that may have moved, now (not a second timer). */
function refreshSoon() {
  forceRefresh = true;
  void poller.now();
}

async function start() {
  // The first reads (database only): a bad token or an unknown PBX fails here, and is shown, before anything
  // renders. The rest (the lifecycle status among it) comes with the first tick, which runs at once.
  pbx = await api('GET', base);
  renderPbx();
  await loadOverview();
  renderNext();
  forceRefresh = true;
  void poller.start();
}

function stop() {
  poller.stop();
}

function wire() {
  $('auto-download-install').addEventListener('change', async (event) => {
    const box = event.target;
    box.setAttribute('aria-busy', 'true');
    try {
      clearError('action');
      pbx = await api('PATCH', `${base}/settings`, { autoDownloadInstall: box.checked });
      renderPbx();
      refreshSoon();
    } catch (err) {
      box.checked = !box.checked;
      showError(err, 'action');
    } finally {
      box.removeAttribute('aria-busy');
    }
  });
  for (const id of ['update-day', 'update-time']) {
    $(id).addEventListener('input', () => {
      momentDirty = true;
      setText($('update-moment-status'), '');
    });
  }
  $('update-moment').addEventListener('submit', async (event) => {
    event.preventDefault();
    const day = $('update-day').value;
    const time = $('update-time').value;
    setText($('update-moment-status'), '');
    try {
      clearError('action');
      pbx = await api('PATCH', `${base}/settings`, {
        updateMoment: day ? { day, time: time || '03:00' } : null,
      });
      momentDirty = false;
      renderPbx();
      setText($('update-moment-status'), L.saved);
      refreshSoon();
    } catch (err) {
      showError(err, 'action');
    }
  });
  for (const button of document.querySelectorAll('button[data-action]')) {
    button.addEventListener('click', () => press(button));
  }
  $('preview-now').addEventListener('click', () => void showPreview());
  $('phone-type').addEventListener('change', () => {
    phonesShown = [];
    void loadPhones().catch((err) => showError(err, 'action'));
  });
  $('phones-more').addEventListener('click', morePhones);
  $('rollout-results-more').addEventListener('click', moreDetail);
  for (const id of ['journal-type', 'journal-kind', 'journal-why']) {
    $(id).addEventListener('change', () => void loadJournal(true).catch((err) => showError(err, 'action')));
  }
  $('journal-older').addEventListener('click', olderJournal);
  for (const button of document.querySelectorAll('button[data-log]')) {
    button.addEventListener('click', async () => {
      try {
        clearError('action');
        await download(`${base}/logs/${button.dataset.log}`, `${pbxId}-${button.dataset.log}`);
      } catch (err) {
        showError(err, 'action');
      }
    });
  }
}

wire();
initSession(start, stop);
