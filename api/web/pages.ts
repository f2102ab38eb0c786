/**
 * R15: the admin's "Firmwares" page, served by the app with no build step: server-rendered HTML in the admin's
 * language plus one small vanilla script that talks to the admin API with the token the admin typed in (kept in
 * sessionStorage, sent as a bearer header; no cookies, so no CSRF surface). The page itself holds no tenant data.
 */
import { readFileSync } from 'node:fs';
import { Hono } from 'hono';
import { html, raw } from 'hono/html';
import { PBX_ID_PATTERN } from '../../domain/pbx-id.ts';
import { WEEKDAYS } from '../../domain/timing.ts';
import type { AppEnv } from '../env.ts';
import { LABELS, type Labels, pickLanguage } from './labels.ts';

const asset = (name: string) => readFileSync(new URL(`./assets/${name}`, import.meta.url), 'utf8');
const SCRIPT = asset('firmwares.js');
const STYLE = asset('firmwares.css');

const CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "connect-src 'self'",
  "img-src 'self' data:",
  "form-action 'self'",
  "frame-ancestors 'none'",
  "base-uri 'none'",
].join('; ');

/** Labels go to the script as JSON; `<` is escaped so no label can end the script element. */
function labelsJson(labels: Labels) {
  return raw(JSON.stringify(labels).replace(/</g, '\\u003c'));
}

function layout(
  l: Labels,
  title: string,
  pbxId: string | null,
  body: ReturnType<typeof html>,
  otherLang: string,
) {
  return html`<!doctype html>
<html lang="${l.lang}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${title}</title>
<link rel="stylesheet" href="/assets/firmwares.css">
<script type="application/json" id="labels">${labelsJson(l)}</script>
<script type="module" src="/assets/firmwares.js"></script>
</head>
<body>
<header>
  <a href="/?lang=${l.lang}" class="brand">${l.pbxes}</a>
  <nav>
    <a href="?lang=${otherLang}" hreflang="${otherLang}" lang="${otherLang}">${l.language}</a>
    <button type="button" id="sign-out" hidden>${l.signOut}</button>
  </nav>
</header>
<main id="page" data-pbx="${pbxId ?? ''}">
  <form id="sign-in" hidden>
    <label for="token">${l.token}</label>
    <input id="token" name="token" type="password" autocomplete="off" required>
    <button type="submit">${l.signIn}</button>
    <p class="hint">${l.signInHint}</p>
  </form>
  <p id="error" role="alert" hidden></p>
  ${body}
</main>
</body>
</html>`;
}

function firmwaresBody(l: Labels) {
  const weekdayOptions = l.weekdays.map((d, i) => html`<option value="${WEEKDAYS[i]}">${d}</option>`);
  return html`<div id="content" hidden>
  <h1>${l.title} <span id="pbx-name"></span></h1>
  <section aria-labelledby="overview-title">
    <h2 id="overview-title">${l.overview}</h2>
    <table id="overview">
      <thead><tr>
        <th scope="col">${l.vendor}</th><th scope="col">${l.model}</th><th scope="col">${l.inUse}</th>
        <th scope="col">${l.newestLocal}</th><th scope="col">${l.newestAvailable}</th>
        <th scope="col">${l.autoUpdate}</th>
      </tr></thead>
      <tbody></tbody>
    </table>
    <p id="no-accounts" hidden>${l.noAccounts}</p>
  </section>
  <section aria-labelledby="settings-title">
    <h2 id="settings-title">${l.settings}</h2>
    <p><label><input type="checkbox" id="auto-download-install"> ${l.globalSwitch}</label></p>
    <form id="update-moment">
      <fieldset>
        <legend>${l.updateMoment}</legend>
        <label for="update-day">${l.day}</label>
        <select id="update-day" name="day">
          <option value="">${l.noUpdateMoment}</option>
          ${weekdayOptions}
        </select>
        <label for="update-time">${l.time}</label>
        <input id="update-time" name="time" type="time" step="60">
        <button type="submit">${l.save}</button>
        <span id="update-moment-status" role="status"></span>
      </fieldset>
    </form>
    <p>${l.weeklyCheck}: <span id="weekly-check"></span></p>
  </section>
  <section aria-labelledby="actions-title">
    <h2 id="actions-title">${l.actions}</h2>
    <p class="buttons">
      <button type="button" id="check-now" data-action="check-now">${l.checkNow}</button>
      <button type="button" id="download-now" data-action="download-now">${l.downloadNow}</button>
      <button type="button" id="update-now" data-action="update-now">${l.updateNow}</button>
    </p>
    <div id="action-result" role="status" aria-live="polite"></div>
  </section>
  <section aria-labelledby="rollouts-title">
    <h2 id="rollouts-title">${l.rollouts}</h2>
    <table id="rollouts">
      <thead><tr>
        <th scope="col">${l.model}</th><th scope="col">${l.target}</th><th scope="col">${l.status}</th>
        <th scope="col">${l.progress}</th><th scope="col">Temporal</th>
      </tr></thead>
      <tbody></tbody>
    </table>
    <p id="no-rollouts">${l.noRollouts}</p>
  </section>
</div>`;
}

function pbxListBody(l: Labels) {
  return html`<div id="content" hidden>
  <h1>${l.pbxes}</h1>
  <ul id="pbx-list"></ul>
</div>`;
}

export function createWebRoutes() {
  const web = new Hono<AppEnv>();
  web.use('*', async (c, next) => {
    await next();
    c.header('Content-Security-Policy', CSP);
    c.header('X-Content-Type-Options', 'nosniff');
    c.header('Referrer-Policy', 'no-referrer');
  });
  web.get('/', (c) => {
    const lang = pickLanguage(c.req.query('lang'), c.req.header('accept-language'));
    const l = LABELS[lang];
    return c.html(layout(l, l.pbxes, null, pbxListBody(l), lang === 'de' ? 'en' : 'de'));
  });
  web.get('/pbx/:pbxId/firmwares', (c) => {
    const pbxId = c.req.param('pbxId');
    const lang = pickLanguage(c.req.query('lang'), c.req.header('accept-language'));
    const l = LABELS[lang];
    if (!PBX_ID_PATTERN.test(pbxId))
      return c.html(html`<!doctype html><title>404</title><p>Not found</p>`, 404);
    return c.html(layout(l, `${l.title} – ${pbxId}`, pbxId, firmwaresBody(l), lang === 'de' ? 'en' : 'de'));
  });
  web.get('/favicon.ico', (c) => c.body(null, 204));
  web.get('/assets/firmwares.js', (c) =>
    c.body(SCRIPT, 200, { 'content-type': 'text/javascript; charset=utf-8', 'cache-control': 'no-cache' }),
  );
  web.get('/assets/firmwares.css', (c) =>
    c.body(STYLE, 200, { 'content-type': 'text/css; charset=utf-8', 'cache-control': 'no-cache' }),
  );
  return web;
}
