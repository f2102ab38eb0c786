// What both pages share: the labels, the admin API with the token (sessionStorage, Authorization: Bearer; no
// cookies, so no CSRF surface), sign-in, the one alert, in-place table rows and the one poll timer.
import { errorText } from './i18n.js';

const TOKEN_KEY = 'pfd.adminToken';

export const L = JSON.parse(document.getElementById('labels').textContent);
export const $ = (id) => document.getElementById(id);

/** Builds an element: el('td', { class: 'version' }, 'text', child, ...). */
export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === false || v === null || v === undefined) continue;
    if (k.startsWith('on')) node.addEventListener(k.slice(2), v);
    else if (v === true) node.setAttribute(k, '');
    else node.setAttribute(k, String(v));
  }
  for (const c of children.flat()) if (c !== null && c !== undefined && c !== false) node.append(c);
  return node;
}

/** Replaces a node's children only when they differ, so a refresh never disturbs what did not change. */
export function setContent(node, ...children) {
  const next = el('div', {}, ...children);
  if (node.innerHTML !== next.innerHTML) node.replaceChildren(...next.childNodes);
}

/**
 * Brings a table body in line with `items` in place (issue 12, defect 2): a row whose key is still there is kept —
 * with its focus, its open details and its switches — and only updated; new rows are created, gone rows removed,
 * and rows are moved only when the order changed.
 */
export function syncRows(tbody, items, key, create, update) {
  const existing = new Map();
  for (const row of [...tbody.rows]) existing.set(row.dataset.key, row);
  const wanted = items.map((item) => {
    const k = String(key(item));
    let row = existing.get(k);
    existing.delete(k);
    if (!row) {
      row = create(item);
      row.dataset.key = k;
    }
    update(row, item);
    return row;
  });
  for (const gone of existing.values()) gone.remove();
  wanted.forEach((row, i) => {
    if (tbody.rows[i] !== row) tbody.insertBefore(row, tbody.rows[i] ?? null);
  });
}

/** A request that failed: no connection, or an HTTP error with the server's body. */
export class ApiFailure extends Error {
  constructor(failure) {
    super(failure.kind === 'network' ? 'network' : `HTTP ${failure.status}`);
    this.failure = failure;
  }
}
export class SignInNeeded extends Error {}

/** The admin API: JSON in and out; 202 answers are returned with `status: 202` for the caller to follow. */
export async function api(method, path, body) {
  const token = sessionStorage.getItem(TOKEN_KEY);
  if (!token) throw new SignInNeeded();
  const headers = { authorization: `Bearer ${token}` };
  if (body !== undefined) headers['content-type'] = 'application/json';
  let res;
  try {
    res = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  } catch {
    throw new ApiFailure({ kind: 'network' });
  }
  const data = await res.json().catch(() => ({}));
  if (!res.ok) throw new ApiFailure({ kind: 'http', status: res.status, body: data });
  return res.status === 202 ? { ...data, httpStatus: 202 } : data;
}

/** A file from the API (a log) saved by the browser: fetched with the token, handed over as a blob. */
export async function download(path, fileName) {
  const token = sessionStorage.getItem(TOKEN_KEY);
  if (!token) throw new SignInNeeded();
  let res;
  try {
    res = await fetch(path, { headers: { authorization: `Bearer ${token}` } });
  } catch {
    throw new ApiFailure({ kind: 'network' });
  }
  if (!res.ok) {
    throw new ApiFailure({ kind: 'http', status: res.status, body: await res.json().catch(() => ({})) });
  }
  const url = URL.createObjectURL(await res.blob());
  const a = el('a', { href: url, download: fileName, hidden: true });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
}

// ---- the alert -----------------------------------------------------------------------------------

/** Which part of the page raised the alert: a poll's alert goes as soon as a poll succeeds again. */
let alertSource = null;

export function showError(err, source) {
  if (err instanceof SignInNeeded) return showSignIn();
  if (err instanceof ApiFailure && err.failure.kind === 'http' && err.failure.status === 401) {
    sessionStorage.removeItem(TOKEN_KEY);
    return showSignIn(L.errors.unauthorized);
  }
  const { text, detail } =
    err instanceof ApiFailure ? errorText(L, err.failure) : { text: L.errors.server, detail: String(err) };
  alertSource = source;
  const box = $('error');
  // (replaceChildren would print a null as the word "null")
  box.replaceChildren(
    ...[
      el('span', {}, text),
      detail ? el('small', { class: 'detail', lang: 'en' }, ` ${L.serverSaid} ${detail}`) : null,
    ].filter((n) => n !== null),
  );
  box.hidden = false;
}

/** Clears the alert if it came from `source` (or any alert without a source). */
export function clearError(source) {
  if (source !== undefined && alertSource !== source) return;
  $('error').hidden = true;
  $('error').replaceChildren();
  alertSource = null;
}

// ---- sign-in --------------------------------------------------------------------------------------

let onSignedIn = async () => {};
let onSignedOut = () => {};

export function showSignIn(message) {
  onSignedOut();
  $('content').hidden = true;
  $('sign-out').hidden = true;
  $('sign-in').hidden = false;
  if (message) {
    $('error').replaceChildren(el('span', {}, message));
    $('error').hidden = false;
    alertSource = 'sign-in';
  } else {
    clearError();
  }
  $('token').focus();
}

/**
 * Wires sign-in and sign-out. `start` loads the page (throws an ApiFailure on a bad token); `stop` ends polling.
 * A token the server does not know is told so on the sign-in form (issue 12, defect 4).
 */
export function initSession(start, stop) {
  onSignedIn = start;
  onSignedOut = stop;
  $('sign-in').addEventListener('submit', (event) => {
    event.preventDefault();
    sessionStorage.setItem(TOKEN_KEY, $('token').value.trim());
    $('token').value = '';
    void begin(true);
  });
  $('sign-out').addEventListener('click', () => {
    sessionStorage.removeItem(TOKEN_KEY);
    showSignIn();
  });
  void begin(false);
}

async function begin(justTyped) {
  if (!sessionStorage.getItem(TOKEN_KEY)) return showSignIn();
  $('sign-in').hidden = true;
  clearError();
  try {
    await onSignedIn();
    $('content').hidden = false;
    $('sign-out').hidden = false;
  } catch (err) {
    if (err instanceof ApiFailure && err.failure.kind === 'http' && err.failure.status === 401) {
      sessionStorage.removeItem(TOKEN_KEY);
      return showSignIn(justTyped ? L.errors.signInFailed : L.errors.unauthorized);
    }
    showError(err, 'load');
  }
}

// ---- the one poll timer -----------------------------------------------------------------------------

/**
 * One timer per page, never more (issue 12, defect 1): `now()` runs the tick at once and cancels the pending timer
 * instead of starting a second chain; a tick asked for while one runs happens once, right after it. Hidden tabs
 * do not poll; the page polls again at once when the tab or the network comes back.
 */
export class Poller {
  #tick;
  #intervalMs;
  #timer = null;
  #running = null;
  #again = false;
  #active = false;

  constructor(tick, intervalMs) {
    this.#tick = tick;
    this.#intervalMs = intervalMs;
    document.addEventListener('visibilitychange', () => {
      if (!this.#active) return;
      if (document.hidden) this.#clear();
      else void this.now();
    });
    window.addEventListener('online', () => {
      if (this.#active) void this.now();
    });
  }

  start() {
    this.#active = true;
    return this.now();
  }

  stop() {
    this.#active = false;
    this.#clear();
  }

  /** Runs a tick now (or right after the running one) and returns when it is done. */
  now() {
    this.#clear();
    if (this.#running) {
      this.#again = true;
      return this.#running;
    }
    this.#running = (async () => {
      try {
        do {
          this.#again = false;
          await this.#tick();
        } while (this.#again && this.#active);
      } finally {
        this.#running = null;
        this.#schedule();
      }
    })();
    return this.#running;
  }

  #schedule() {
    this.#clear();
    if (this.#active && !document.hidden) this.#timer = setTimeout(() => void this.now(), this.#intervalMs);
  }

  #clear() {
    if (this.#timer !== null) clearTimeout(this.#timer);
    this.#timer = null;
  }
}
