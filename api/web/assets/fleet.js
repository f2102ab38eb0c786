// R16: the operator's fleet view — every PBX the token may see, filtered, sorted and paged by the server
// (GET /api/fleet reads only the database). The view's state lives in the address (?q=…&sort=…), so a filtered
// view can be bookmarked and shared. Times are shown in each PBX's own zone.
import { $, api, clearError, el, initSession, L, Poller, setContent, showError, syncRows } from './client.js';
import { fill, formatInstant, formatWeeklyMoment } from './i18n.js';

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

const cell = (label, attrs = {}) => el('td', { 'data-label': label, ...attrs });
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
  $('fleet-prev').disabled = data.offset === 0;
  $('fleet-next').disabled = data.offset + data.pbxes.length >= data.total;
}

async function tick() {
  try {
    await load();
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
  $('fleet-model').replaceChildren(
    el('option', { value: '' }, L.anyModel),
    ...models.map((m) => el('option', { value: m.id }, `${m.vendor} ${m.model}`)),
  );
  showForm();
  await load();
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
$('fleet-prev').addEventListener('click', () => change({ offset: Math.max(0, view.offset - PAGE) }));
$('fleet-next').addEventListener('click', () => change({ offset: view.offset + PAGE }));

initSession(start, () => poller.stop());
