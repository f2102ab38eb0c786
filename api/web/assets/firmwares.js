// R15: the "Firmwares" page. Plain browser JavaScript, no build step: it reads the labels the server rendered
// into the page and talks to the admin API with the admin's token (sessionStorage, Authorization: Bearer).

const TOKEN_KEY = 'pfd.adminToken';
const POLL_MS = 1500;
const L = JSON.parse(document.getElementById('labels').textContent);
const page = document.getElementById('page');
const pbxId = page.dataset.pbx || null;
const $ = (id) => document.getElementById(id);

const fmt = (text, values) => text.replace(/\{(\w+)\}/g, (_, k) => String(values[k] ?? ''));

/** Builds an element: el('td', { class: 'version' }, 'text', child, ...). */
function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === false || v === null || v === undefined) continue;
    if (k.startsWith('on')) node.addEventListener(k.slice(2), v);
    else if (v === true) node.setAttribute(k, '');
    else node.setAttribute(k, String(v));
  }
  for (const c of children.flat()) if (c !== null && c !== undefined) node.append(c);
  return node;
}

class ApiError extends Error {}
class SignInNeeded extends Error {}

async function api(method, path, body) {
  const token = sessionStorage.getItem(TOKEN_KEY);
  if (!token) throw new SignInNeeded();
  const headers = { authorization: `Bearer ${token}` };
  if (body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(path, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const data = await res.json().catch(() => ({}));
  if (res.status === 401) {
    sessionStorage.removeItem(TOKEN_KEY);
    throw new SignInNeeded();
  }
  if (!res.ok) throw new ApiError(data.error || `${L.requestFailed} (${res.status})`);
  return data;
}

function showError(err) {
  if (err instanceof SignInNeeded) return showSignIn();
  $('error').textContent = err instanceof Error ? err.message : String(err);
  $('error').hidden = false;
}

function clearError() {
  $('error').hidden = true;
}

function showSignIn() {
  stopPolling();
  $('content').hidden = true;
  $('sign-out').hidden = true;
  $('sign-in').hidden = false;
  $('token').focus();
}

$('sign-in').addEventListener('submit', (event) => {
  event.preventDefault();
  sessionStorage.setItem(TOKEN_KEY, $('token').value.trim());
  $('token').value = '';
  start();
});

$('sign-out').addEventListener('click', () => {
  sessionStorage.removeItem(TOKEN_KEY);
  showSignIn();
});

// ---- the PBX list ------------------------------------------------------------------------------

async function showPbxList() {
  const { pbxes } = await api('GET', '/api/pbxes');
  if (pbxes.length === 1) {
    location.assign(`/pbx/${encodeURIComponent(pbxes[0].id)}/firmwares?lang=${L.lang}`);
    return;
  }
  $('pbx-list').replaceChildren(
    ...pbxes.map((p) =>
      el(
        'li',
        {},
        el('a', { href: `/pbx/${encodeURIComponent(p.id)}/firmwares?lang=${L.lang}` }, `${p.name} (${p.id})`),
      ),
    ),
  );
}

// ---- the Firmwares page ------------------------------------------------------------------------

const base = () => `/api/pbxes/${encodeURIComponent(pbxId)}`;
let pollTimer = null;
let lastRolloutKey = '';

function inUseText(inUse) {
  if (inUse.length === 0) return '';
  const name = (v) => v.version ?? L.unknown;
  // R6: one version → just the version; several → each with its phone count.
  if (inUse.length === 1) return name(inUse[0]);
  return inUse.map((v) => `${name(v)} (${v.phones})`).join(', ');
}

/** modelId → "Vendor Model", from the last overview, for the rollouts table. */
const typeNames = new Map();

function renderOverview(types) {
  for (const t of types) typeNames.set(t.modelId, `${t.vendor} ${t.model}`);
  $('no-accounts').hidden = types.length > 0;
  $('overview').hidden = types.length === 0;
  $('overview').tBodies[0].replaceChildren(
    ...types.map((t) => {
      const box = el('input', {
        type: 'checkbox',
        checked: t.autoUpdate,
        'aria-label': fmt(L.autoUpdateFor, { model: t.model }),
        'data-model': t.modelId,
        onchange: (event) => setAutoUpdate(t.modelId, event.target),
      });
      return el(
        'tr',
        { 'data-model': t.modelId },
        el('td', {}, t.vendor),
        el(
          'td',
          {},
          t.model,
          t.imageManaged
            ? el('span', { class: 'count' }, ` (${L.imageFirmware} ${t.imageFirmware ?? ''})`)
            : null,
        ),
        el('td', { class: 'version in-use' }, inUseText(t.inUse)),
        el('td', { class: 'version newest-local' }, t.newestLocal ?? ''),
        el('td', { class: 'version newest-available' }, t.newestAvailable ?? ''),
        el('td', {}, box),
      );
    }),
  );
}

function renderSettings(pbx) {
  $('pbx-name').textContent = `– ${pbx.name}`;
  document.title = `${L.title} – ${pbx.name}`;
  $('auto-download-install').checked = pbx.autoDownloadInstall;
  $('update-day').value = pbx.updateMoment ? pbx.updateMoment.day : '';
  $('update-time').value = pbx.updateMoment ? pbx.updateMoment.time : '';
  const dayIndex = ['monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday', 'sunday'].indexOf(
    pbx.weeklyCheck.day,
  );
  $('weekly-check').textContent = `${L.weekdays[dayIndex]} ${pbx.weeklyCheck.time} (${pbx.timeZone})`;
}

/** A reason from the API (code, parameters, English text) in the page's language where it has a template. */
function reasonText(reason) {
  const template = L.reasons?.[reason.code];
  return template ? fmt(template, reason.params) : reason.text;
}

function renderRollouts(rollouts) {
  $('no-rollouts').hidden = rollouts.length > 0;
  $('rollouts').hidden = rollouts.length === 0;
  $('rollouts').tBodies[0].replaceChildren(
    ...rollouts.map((r) =>
      el(
        'tr',
        { 'data-model': r.modelId, 'data-status': r.status },
        el('td', {}, typeNames.get(r.modelId) ?? r.modelId),
        el('td', { class: 'version' }, r.targetVersion),
        el(
          'td',
          { class: r.status },
          L.rolloutStatus[r.status] ?? r.status,
          r.reason ? el('div', { class: 'reason' }, reasonText(r.reason)) : '',
        ),
        el(
          'td',
          {},
          el('progress', {
            max: 100,
            value: r.percent,
            'aria-label': `${L.progress} ${typeNames.get(r.modelId) ?? r.modelId}`,
          }),
          ` ${r.percent} % · ${fmt(L.rolloutCounts, r)}`,
        ),
        el('td', {}, el('a', { href: r.temporalUrl, target: '_blank', rel: 'noopener' }, L.openTemporal)),
      ),
    ),
  );
}

async function loadAll() {
  const [pbx, overview, progress] = await Promise.all([
    api('GET', base()),
    api('GET', `${base()}/overview`),
    api('GET', `${base()}/rollout-progress`),
  ]);
  renderSettings(pbx);
  renderOverview(overview.types);
  renderRollouts(progress.rollouts);
  lastRolloutKey = rolloutKey(progress.rollouts);
}

const rolloutKey = (rollouts) => rollouts.map((r) => `${r.rolloutId}:${r.status}:${r.done}`).join('|');

/** Every POLL_MS the rollouts; the overview when a rollout moved, and every few ticks anyway (downloads). */
const OVERVIEW_EVERY = 4;
let ticks = 0;

async function poll() {
  try {
    const progress = await api('GET', `${base()}/rollout-progress`);
    renderRollouts(progress.rollouts);
    const key = rolloutKey(progress.rollouts);
    ticks++;
    if ((key !== lastRolloutKey || ticks % OVERVIEW_EVERY === 0) && togglesInFlight === 0) {
      // Phones changed version ("in use"), or a download finished ("newest local").
      lastRolloutKey = key;
      renderOverview((await api('GET', `${base()}/overview`)).types);
    }
  } catch (err) {
    showError(err);
  } finally {
    if (pollTimer !== null) pollTimer = setTimeout(poll, POLL_MS);
  }
}

function startPolling() {
  stopPolling();
  pollTimer = setTimeout(poll, POLL_MS);
}

function stopPolling() {
  if (pollTimer !== null) clearTimeout(pollTimer);
  pollTimer = null;
}

/** While an Auto-Update change is on its way, a refresh must not put the old state back into the table. */
let togglesInFlight = 0;

async function setAutoUpdate(modelId, box) {
  box.disabled = true;
  togglesInFlight++;
  try {
    clearError();
    await api('PUT', `${base()}/types/${encodeURIComponent(modelId)}/auto-update`, { enabled: box.checked });
  } catch (err) {
    box.checked = !box.checked;
    showError(err);
  } finally {
    togglesInFlight--;
    box.disabled = false;
  }
}

function resultList(items) {
  if (items.length === 0) return el('p', {}, L.upToDate);
  return el('ul', {}, ...items.map(([text, cls]) => el('li', { class: cls || null }, text)));
}

function describeResult(action, r) {
  if (action === 'check-now') {
    const items = [[fmt(L.checkedAt, { at: new Date(r.checkedAt).toLocaleString(L.lang) })]];
    if (!r.catalogOk) items.push([`${L.catalogUnreachable}: ${r.catalogError ?? ''}`, 'failed']);
    for (const t of r.types) {
      items.push([
        `${t.model}: ${t.newestAvailable ?? '—'} (${t.needsDownload ? L.downloadNeeded : L.upToDate})`,
        t.needsDownload ? 'started' : null,
      ]);
    }
    return resultList(items);
  }
  if (action === 'download-now') {
    const items = [];
    if (!r.catalogOk) items.push([`${L.catalogUnreachable}: ${r.catalogError ?? ''}`, 'failed']);
    for (const s of r.started) items.push([`${s.model} ${s.version}: ${L.decision.started}`, 'started']);
    for (const n of r.nothingToDo) {
      items.push([`${n.model}: ${L.decision['nothing-to-do']} – ${reasonText(n.reason)}`]);
    }
    return resultList(items);
  }
  return resultList(
    r.decisions.map((d) => {
      const why = d.reason ? ` – ${reasonText(d.reason)}` : d.targetVersion ? ` → ${d.targetVersion}` : '';
      return [`${d.model}: ${L.decision[d.status] ?? d.status}${why}`, d.status];
    }),
  );
}

/** The controls of the Firmwares page (absent on the PBX list). */
function wireFirmwaresPage() {
  $('auto-download-install').addEventListener('change', async (event) => {
    const box = event.target;
    box.disabled = true;
    try {
      clearError();
      await api('PATCH', `${base()}/settings`, { autoDownloadInstall: box.checked });
    } catch (err) {
      box.checked = !box.checked;
      showError(err);
    } finally {
      box.disabled = false;
    }
  });

  $('update-moment').addEventListener('submit', async (event) => {
    event.preventDefault();
    const day = $('update-day').value;
    const time = $('update-time').value;
    $('update-moment-status').textContent = '';
    try {
      clearError();
      const pbx = await api('PATCH', `${base()}/settings`, {
        updateMoment: day ? { day, time: time || '03:00' } : null,
      });
      renderSettings(pbx);
      $('update-moment-status').textContent = L.saved;
    } catch (err) {
      showError(err);
    }
  });

  for (const button of document.querySelectorAll('button[data-action]')) {
    button.addEventListener('click', async () => {
      const action = button.dataset.action;
      const buttons = document.querySelectorAll('button[data-action]');
      for (const b of buttons) b.disabled = true;
      $('action-result').replaceChildren(el('p', {}, `${button.textContent}: ${L.working}`));
      try {
        clearError();
        let result = await api('POST', `${base()}/${action}`);
        // 202: still at work (e.g. the firmware server is retried); show what is known and fetch the result later.
        while (result.status === 'running') {
          $('action-result').replaceChildren(
            el('p', {}, `${button.textContent}: ${L.working}`),
            el('p', { class: 'failed' }, result.message),
          );
          await new Promise((resolve) => setTimeout(resolve, POLL_MS));
          result = await api('GET', result.resultUrl);
        }
        $('action-result').replaceChildren(
          el('p', {}, `${button.textContent}:`),
          describeResult(action, result),
        );
        if (action === 'update-now') await poll();
        else renderOverview((await api('GET', `${base()}/overview`)).types);
      } catch (err) {
        $('action-result').replaceChildren();
        showError(err);
      } finally {
        for (const b of buttons) b.disabled = false;
      }
    });
  }
}

async function start() {
  if (!sessionStorage.getItem(TOKEN_KEY)) return showSignIn();
  $('sign-in').hidden = true;
  try {
    clearError();
    if (pbxId) {
      await loadAll();
      startPolling();
    } else {
      await showPbxList();
    }
    $('content').hidden = false;
    $('sign-out').hidden = false;
  } catch (err) {
    showError(err);
  }
}

if (pbxId) wireFirmwaresPage();

document.addEventListener('visibilitychange', () => {
  if (!pbxId || !sessionStorage.getItem(TOKEN_KEY)) return;
  if (document.hidden) stopPolling();
  else startPolling();
});

start();
