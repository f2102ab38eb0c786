// R16: the operator's fleet view — every PBX the token may see, filtered, sorted and paged by the server
// (GET /api/fleet reads only the database). The view's state lives in the address (?q=…&sort=…), so a filtered
// view can be bookmarked and shared. Times are shown in each PBX's own zone.
import {
  $,
  ApiFailure,
  api,
  clearError,
  el,
  initSession,
  L,
  Poller,
  setContent,
  showError,
  syncRows,
} from './client.js';
import { fill, formatInstant, formatWeeklyMoment, reasonText } from './i18n.js';

const POLL_MS = 15_000;
const PAGE = 50;
const FILTERS = ['q', 'modelId', 'below'];
const FLAGS = ['behind', 'running', 'failed'];

/** The view as the address holds it. */
function stateFromAddress() {
  const p = new URLSearchParams(location.search);
  return {
    q: p.get('q') ?? '',
    modelId: p.get('modelId') ?? '',
    below: p.get('below') ?? '',
    behind: p.get('behind') === 'true',
    running: p.get('running') === 'true',
    failed: p.get('failed') === 'true',
    sort: p.get('sort') ?? 'name',
    order: p.get('order') === 'desc' ? 'desc' : 'asc',
    offset: Math.max(0, Number.parseInt(p.get('offset') ?? '0', 10) || 0),
  };
}

let view = stateFromAddress();

/** The API's query: "T54W below 96.86.0.70" is `below=yealink-t54w@96.86.0.70`. */
function apiQuery(v) {
  const q = new URLSearchParams();
  if (v.q) q.set('q', v.q);
  if (v.modelId) q.set('modelId', v.modelId);
  if (v.modelId && v.below) q.set('below', `${v.modelId}@${v.below}`);
  for (const k of FLAGS) if (v[k]) q.set(k, 'true');
  q.set('sort', v.sort);
  q.set('order', v.order);
  if (v.offset) q.set('offset', String(v.offset));
  return q;
}

/** The page's own address: the form's fields as they are. */
function query(v) {
  const q = new URLSearchParams();
  for (const k of FILTERS) if (v[k]) q.set(k, v[k]);
  for (const k of FLAGS) if (v[k]) q.set(k, 'true');
  q.set('sort', v.sort);
  q.set('order', v.order);
  if (v.offset) q.set('offset', String(v.offset));
  return q;
}

function remember() {
  const q = query(view);
  q.set('lang', L.lang);
  history.replaceState(null, '', `${location.pathname}?${q}`);
}

const filtered = (v) => FILTERS.some((k) => v[k]) || FLAGS.some((k) => v[k]);

function showForm() {
  $('fleet-q').value = view.q;
  $('fleet-model').value = view.modelId;
  $('fleet-below').value = view.below;
  $('fleet-model').required = view.below !== '';
  for (const k of FLAGS) $(`fleet-${k}`).checked = view[k];
  for (const th of document.querySelectorAll('#fleet th[data-sort]')) {
    const sorted = th.dataset.sort === view.sort;
    th.setAttribute('aria-sort', sorted ? (view.order === 'asc' ? 'ascending' : 'descending') : 'none');
  }
}

const cell = (label, attrs = {}, ...children) => el('td', { 'data-label': label, ...attrs }, ...children);
const pageLink = (id) => `/pbx/${encodeURIComponent(id)}/firmwares?lang=${L.lang}`;

function createRow() {
  return el(
    'tr',
    {},
    cell(L.pbx, { class: 'pbx' }),
    cell(L.timeZone),
    cell(L.phones, { class: 'number' }),
    cell(L.typesBehind, { class: 'behind' }),
    cell(L.runningRollouts, { class: 'rollouts' }),
    cell(L.failuresWeek, { class: 'failures' }),
    cell(L.nextUpdate, { class: 'when' }),
    cell(L.switches, { class: 'switches' }),
  );
}

function list(items) {
  return items.length === 0 ? '—' : el('ul', { class: 'plain' }, ...items.map((i) => el('li', {}, i)));
}

function updateRow(row, p) {
  row.dataset.pbx = p.id;
  const [name, zone, phones, behind, running, failures, next, switches] = row.cells;
  setContent(name, el('a', { href: pageLink(p.id) }, p.name), el('div', { class: 'hint' }, p.id));
  setContent(zone, p.timeZone);
  setContent(phones, String(p.phones));
  setContent(
    behind,
    list(
      p.typesBehind.map((t) =>
        fill(L.behindItem, {
          model: `${t.vendor} ${t.model}`,
          phones: t.phonesBehind,
          newest: t.newest,
          oldest: t.oldest,
        }),
      ),
    ),
  );
  setContent(
    running,
    list(
      p.runningRollouts.map((r) =>
        fill(L.runningItem, { model: r.model, version: r.targetVersion, percent: r.percent }),
      ),
    ),
  );
  failures.classList.toggle('failed', p.failedRollouts > 0);
  setContent(
    failures,
    p.failedRollouts > 0
      ? fill(L.failuresItem, { count: p.failedRollouts, at: formatInstant(L, p.lastFailureAt, p.timeZone) })
      : '0',
  );
  setContent(
    next,
    p.nextUpdateAt
      ? formatInstant(L, p.nextUpdateAt, p.timeZone)
      : p.updateMoment && !p.autoDownloadInstall
        ? L.offR8
        : L.none,
  );
  setContent(
    switches,
    el('div', {}, fill(L.automaticShort, { state: p.autoDownloadInstall ? L.on : L.off })),
    el(
      'div',
      {},
      fill(L.momentShort, {
        moment: p.updateMoment ? formatWeeklyMoment(L, p.updateMoment, p.timeZone) : L.noUpdateMoment,
      }),
    ),
  );
}

// ---- fleet rollouts (issue 13): one model to one version across PBXes, in waves ---------------------------

/** Model names by id (for the rollouts' rows), the PBXes shown and how many the filter finds. */
const modelNames = new Map();
let shownPbxIds = [];
let filteredTotal = 0;
let fleetRollouts = [];
/** A PBX-scoped token may not see fleet rollouts (403): then the section stays hidden. */
let fleetRolloutsAllowed = true;

const modelName = (id) => modelNames.get(id) ?? id;
const open = (status) => status === 'running' || status === 'paused' || status === 'halted';
const FLEET_CONTROLS = ['pause', 'resume', 'cancel'];

function fleetPbxText(p) {
  const state =
    p.state === 'rollout' ? (L.rolloutStatus[p.status] ?? p.status ?? '') : L.fleetPbxStates[p.state];
  const why = p.reason ? ` – ${reasonText(L, p.reason, modelNames)}` : '';
  return fill(L.fleetPbxItem, { pbx: p.pbxId, wave: p.wave, state: `${state}${why}` });
}

function createFleetRolloutRow() {
  return el(
    'tr',
    {},
    cell(L.fleetTarget, { class: 'type' }),
    cell(L.status, { class: 'state' }),
    cell(L.wave, { class: 'wave' }),
    cell(L.fleetPbxes, { class: 'fleet-pbxes' }),
    cell(L.when, { class: 'when' }),
    cell(
      '',
      { class: 'rollout-actions' },
      el(
        'span',
        { class: 'rollout-controls', role: 'group' },
        ...FLEET_CONTROLS.map((action) =>
          el('button', {
            type: 'button',
            class: 'secondary',
            'data-control': action,
            hidden: true,
            onclick: (event) => steerFleet(event.currentTarget),
          }),
        ),
      ),
      el('a', { target: '_blank', rel: 'noopener', class: 'temporal' }, L.openTemporal),
    ),
  );
}

function updateFleetRolloutRow(row, f) {
  row.dataset.fleetRollout = f.fleetRolloutId;
  row.dataset.status = f.status;
  const [target, state, wave, pbxes, when, actions] = row.cells;
  const what = { model: modelName(f.modelId), version: f.targetVersion };
  setContent(target, `${what.model} → ${what.version}`);
  setContent(
    state,
    el('span', { class: `status ${f.status}` }, L.rolloutStatus[f.status] ?? f.status),
    f.reason ? el('div', { class: 'reason' }, reasonText(L, f.reason, modelNames)) : null,
    f.cancelRequestedBy && open(f.status)
      ? el('div', { class: 'reason' }, fill(L.cancelRequested, { who: f.cancelRequestedBy }))
      : null,
  );
  setContent(wave, fill(L.waveOf, { k: f.currentWave, n: f.waves }));
  setContent(
    pbxes,
    el(
      'ul',
      { class: 'plain fleet-pbxes' },
      ...f.pbxes.map((p) =>
        el(
          'li',
          { 'data-pbx': p.pbxId, 'data-state': p.state, 'data-status': p.status ?? '' },
          el('span', { class: p.status ? `status ${p.status}` : '' }, fleetPbxText(p)),
        ),
      ),
    ),
  );
  setContent(
    when,
    `${fill(L.startedBy, { at: formatInstant(L, f.startedAt, 'UTC'), who: f.who, why: L.why.manual })}${
      f.finishedAt ? `; ${fill(L.finishedAt, { at: formatInstant(L, f.finishedAt, 'UTC') })}` : ''
    }`,
  );
  const [controls, link] = actions.children;
  controls.dataset.fleetRolloutId = f.fleetRolloutId;
  controls.setAttribute('aria-label', fill(L.controlsOfFleet, what));
  const shown = {
    pause: f.status === 'running',
    resume: f.status === 'paused' || f.status === 'halted',
    cancel: open(f.status) && !f.cancelRequestedBy,
  };
  for (const button of controls.children) {
    button.hidden = !shown[button.dataset.control];
    if (button.textContent !== L[button.dataset.control]) button.textContent = L[button.dataset.control];
  }
  if (link.getAttribute('href') !== f.temporalUrl) link.setAttribute('href', f.temporalUrl);
}

function renderFleetRollouts() {
  $('no-fleet-rollouts').hidden = fleetRollouts.length > 0;
  $('fleet-rollouts').hidden = fleetRollouts.length === 0;
  syncRows(
    $('fleet-rollouts').tBodies[0],
    fleetRollouts,
    (f) => f.fleetRolloutId,
    createFleetRolloutRow,
    updateFleetRolloutRow,
  );
}

/** One fleet rollout as an answer gave it: its row, at once (the next poll reads them all again). */
function showFleetRollout(f) {
  const i = fleetRollouts.findIndex((x) => x.fleetRolloutId === f.fleetRolloutId);
  fleetRollouts = i < 0 ? [f, ...fleetRollouts] : fleetRollouts.with(i, f);
  renderFleetRollouts();
}

async function loadFleetRollouts() {
  if (!fleetRolloutsAllowed) return;
  try {
    fleetRollouts = (await api('GET', '/api/fleet-rollouts?limit=20')).fleetRollouts;
  } catch (err) {
    if (err instanceof ApiFailure && err.failure.kind === 'http' && err.failure.status === 403) {
      fleetRolloutsAllowed = false;
      $('fleet-rollouts-section').hidden = true;
      return;
    }
    throw err;
  }
  $('fleet-rollouts-section').hidden = false;
  renderFleetRollouts();
}

async function steerFleet(button) {
  const controls = button.parentElement;
  const id = controls.dataset.fleetRolloutId;
  const action = button.dataset.control;
  const f = fleetRollouts.find((x) => x.fleetRolloutId === id);
  if (!f) return;
  const what = { model: modelName(f.modelId), version: f.targetVersion };
  if (action === 'cancel' && !window.confirm(fill(L.confirmFleetCancel, what))) return;
  clearError('action');
  for (const b of controls.children) b.disabled = true;
  try {
    const now = await api('POST', `/api/fleet-rollouts/${encodeURIComponent(id)}/${action}`, {});
    showFleetRollout(now);
    const status = [
      L.rolloutStatus[now.status] ?? now.status,
      now.reason ? reasonText(L, now.reason, modelNames) : '',
    ]
      .filter(Boolean)
      .join(' – ');
    setContent($('fleet-rollout-result'), `${L[action]}: ${fill(L.fleetControlAnswer, { ...what, status })}`);
  } catch (err) {
    showError(err, 'action');
  } finally {
    for (const b of controls.children) b.disabled = false;
  }
}

/** Every PBX the filter finds, page by page (the API pages by 200). */
async function filteredPbxIds() {
  const ids = [];
  for (let offset = 0; ; offset += 200) {
    const q = apiQuery({ ...view, offset });
    const data = await api('GET', `/api/fleet?${q}&limit=200`);
    ids.push(...data.pbxes.map((p) => p.id));
    if (data.pbxes.length === 0 || ids.length >= data.total) return ids;
  }
}

async function startFleetRollout() {
  const modelId = $('fleet-start-model').value;
  const version = $('fleet-start-version').value.trim();
  const waves = $('fleet-start-waves')
    .value.split(',')
    .map((w) => w.trim())
    .filter(Boolean);
  const which = document.querySelector('input[name="fleet-which"]:checked')?.value ?? 'shown';
  clearError('action');
  setContent($('fleet-rollout-result'), '');
  const button = $('fleet-start').querySelector('button[type=submit]');
  button.disabled = true;
  try {
    const pbxIds = which === 'filtered' ? await filteredPbxIds() : shownPbxIds;
    const f = await api('POST', '/api/fleet-rollouts', {
      modelId,
      version,
      pbxIds,
      ...(waves.length > 0 ? { waves } : {}),
    });
    showFleetRollout(f);
    setContent(
      $('fleet-rollout-result'),
      fill(L.fleetStarted, { model: modelName(modelId), version: f.targetVersion, waves: f.waves }),
    );
  } catch (err) {
    showError(err, 'action');
  } finally {
    button.disabled = false;
  }
}

// ---- the PBXes ----------------------------------------------------------------------------------------------

async function load() {
  const data = await api('GET', `/api/fleet?${apiQuery(view)}&limit=${PAGE}`);
  if (data.total === 1 && !filtered(view) && view.offset === 0) {
    // One PBX (a PBX-scoped token, or a deployment of one): its page is the view.
    location.assign(pageLink(data.pbxes[0].id));
    return;
  }
  setContent($('fleet-summary'), fill(L.fleetSummary, data.summary));
  $('no-pbxes').hidden = data.total > 0;
  syncRows($('fleet').tBodies[0], data.pbxes, (p) => p.id, createRow, updateRow);
  const from = data.total === 0 ? 0 : data.offset + 1;
  setContent(
    $('fleet-page'),
    fill(L.pageOf, { from, to: data.offset + data.pbxes.length, total: data.total }),
  );
  shownPbxIds = data.pbxes.map((p) => p.id);
  filteredTotal = data.total;
  setContent($('fleet-which-shown'), fill(L.fleetShown, { count: shownPbxIds.length }));
  setContent($('fleet-which-filtered'), fill(L.fleetFiltered, { count: filteredTotal }));
  $('fleet-prev').disabled = data.offset === 0;
  $('fleet-next').disabled = data.offset + data.pbxes.length >= data.total;
}

async function tick() {
  try {
    await Promise.all([load(), loadFleetRollouts()]);
    clearError('poll');
    clearError('load');
  } catch (err) {
    showError(err, 'poll');
  }
}

const poller = new Poller(tick, POLL_MS);

function change(next) {
  view = { ...view, ...next };
  remember();
  showForm();
  void poller.now();
}

async function start() {
  const { models } = await api('GET', '/api/phone-models');
  for (const m of models) modelNames.set(m.id, `${m.vendor} ${m.model}`);
  $('fleet-model').replaceChildren(
    el('option', { value: '' }, L.anyModel),
    ...models.map((m) => el('option', { value: m.id }, `${m.vendor} ${m.model}`)),
  );
  $('fleet-start-model').replaceChildren(
    ...models.map((m) => el('option', { value: m.id }, `${m.vendor} ${m.model}`)),
  );
  showForm();
  await load();
  await loadFleetRollouts();
  await poller.start();
}

// A version to compare with needs the type whose versions it means.
$('fleet-below').addEventListener('input', () => {
  $('fleet-model').required = $('fleet-below').value.trim() !== '';
});
$('fleet-filter').addEventListener('submit', (event) => {
  event.preventDefault();
  change({
    q: $('fleet-q').value.trim(),
    modelId: $('fleet-model').value,
    below: $('fleet-below').value.trim(),
    behind: $('fleet-behind').checked,
    running: $('fleet-running').checked,
    failed: $('fleet-failed').checked,
    offset: 0,
  });
});
$('fleet-filter').addEventListener('reset', () => {
  setTimeout(() =>
    change({ q: '', modelId: '', below: '', behind: false, running: false, failed: false, offset: 0 }),
  );
});
for (const button of document.querySelectorAll('#fleet button.sort')) {
  button.addEventListener('click', () => {
    const sort = button.dataset.sort;
    change({ sort, order: view.sort === sort && view.order === 'asc' ? 'desc' : 'asc', offset: 0 });
  });
}
$('fleet-start').addEventListener('submit', (event) => {
  event.preventDefault();
  void startFleetRollout();
});
$('fleet-prev').addEventListener('click', () => change({ offset: Math.max(0, view.offset - PAGE) }));
$('fleet-next').addEventListener('click', () => change({ offset: view.offset + PAGE }));

initSession(start, () => poller.stop());
