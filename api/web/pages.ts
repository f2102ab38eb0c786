/**
 * R15: the admin's "Firmwares" page of one PBX and the operator's fleet view (R16), served by the app with no
 * build step: server-rendered HTML in the admin's language plus small vanilla ES modules that talk to the admin API
 * with the token the admin typed in (kept in sessionStorage, sent as a bearer header; no cookies, so no CSRF
 * surface). The pages themselves hold no tenant data.
 */
import { readFileSync } from 'node:fs';
import { type Context, Hono } from 'hono';
import { html, raw } from 'hono/html';
import { PBX_ID_PATTERN } from '../../domain/pbx-id.ts';
import { WEEKDAYS } from '../../domain/timing.ts';
import type { AppEnv } from '../env.ts';
import { LOG_FILES } from '../routes/logs/logs.routes.ts';
import { JOURNAL_KINDS, LABELS, type Labels, pickLanguage } from './labels.ts';

/** The page's files, read once: the scripts import each other by these names. */
const ASSETS = new Map(
  ['firmwares.css', 'client.js', 'i18n.js', 'firmwares.js', 'fleet.js'].map((name) => [
    name,
    {
      body: readFileSync(new URL(`./assets/${name}`, import.meta.url), 'utf8'),
      type: name.endsWith('.css') ? 'text/css; charset=utf-8' : 'text/javascript; charset=utf-8',
    },
  ]),
);

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
  script: 'firmwares.js' | 'fleet.js',
) {
  const otherLang = l.lang === 'de' ? 'en' : 'de';
  return html`<!doctype html>
<html lang="${l.lang}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${title}</title>
<link rel="stylesheet" href="/assets/firmwares.css">
<script type="application/json" id="labels">${labelsJson(l)}</script>
<script type="module" src="/assets/${script}"></script>
</head>
<body>
<header>
  <a href="/?lang=${l.lang}" class="brand">${l.fleet}</a>
  <nav>
    <a href="?lang=${otherLang}" hreflang="${otherLang}" lang="${otherLang}">${l.language}</a>
    <button type="button" id="sign-out" hidden>${l.signOut}</button>
  </nav>
</header>
<main id="page" data-pbx="${pbxId ?? ''}" data-lang="${l.lang}">
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

/** A table whose rows the script fills in place; on narrow screens each row becomes a card (firmwares.css). */
function table(id: string, columns: string[], hidden = false) {
  return html`<table id="${id}" class="cards" ${hidden ? raw('hidden') : ''}>
      <thead><tr>${columns.map((c) => html`<th scope="col">${c}</th>`)}</tr></thead>
      <tbody></tbody>
    </table>`;
}

function firmwaresBody(l: Labels) {
  const weekdayOptions = l.weekdays.map((d, i) => html`<option value="${WEEKDAYS[i]}">${d}</option>`);
  const sections: Array<[string, string]> = [
    ['overview-section', l.overview],
    ['next-section', l.next],
    ['rollouts-section', l.rollouts],
    ['phones-section', l.phones],
    ['journal-section', l.journal],
    ['models-section', l.models],
  ];
  return html`<div id="content" hidden>
  <h1>${l.title} <span id="pbx-name"></span></h1>
  <p class="hint" id="pbx-zone"></p>
  <nav class="sections" aria-label="${l.sections}">
    ${sections.map(([id, name]) => html`<a href="#${id}">${name}</a>`)}
  </nav>
  <section id="overview-section" aria-labelledby="overview-title">
    <h2 id="overview-title">${l.overview}</h2>
    ${table('overview', [l.vendor, l.model, l.inUse, l.newestLocal, l.newestAvailable, l.autoUpdate, l.phones, l.holdColumn])}
    <p id="no-accounts" hidden>${l.noAccounts}</p>
  </section>
  <section id="next-section" aria-labelledby="next-title">
    <h2 id="next-title">${l.next}</h2>
    <dl class="next">
      <dt>${l.nextWeeklyCheck}</dt><dd id="next-check"></dd>
      <dt>${l.pendingDownload}</dt><dd id="next-download"></dd>
      <dt>${l.nextUpdate}</dt><dd id="next-update"></dd>
      <dt>${l.nowDoing}</dt><dd id="next-phase"></dd>
    </dl>
    <p id="status-unavailable" class="hint" hidden>${l.statusUnavailable}</p>
    <ul id="outlook" class="notes"></ul>
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
      <button type="button" id="preview-now" class="secondary">${l.preview}</button>
    </p>
    <div id="action-result" role="status" aria-live="polite"></div>
    <div id="preview" class="panel" hidden>
      <h3 id="preview-title" tabindex="-1">${l.previewTitle}</h3>
      <p>${l.previewHint}</p>
      <div id="preview-types"></div>
    </div>
  </section>
  <section id="rollouts-section" aria-labelledby="rollouts-title">
    <h2 id="rollouts-title">${l.rollouts}</h2>
    ${table('rollouts', [l.model, l.target, l.status, l.progress, l.when, ''])}
    <p id="no-rollouts">${l.noRollouts}</p>
    <div id="rollout-detail" class="panel" hidden>
      <h3 id="rollout-detail-title" tabindex="-1"></h3>
      <p id="rollout-detail-summary"></p>
      ${table('rollout-results', [l.mac, l.extension, l.fromTo, l.outcome, l.reason])}
      <button type="button" id="rollout-results-more" class="secondary" hidden>${l.loadMore}</button>
    </div>
    <div id="rollout-history" class="panel" hidden>
      <h3 id="rollout-history-title" tabindex="-1"></h3>
      ${table('history', [l.when, l.target, l.status, l.progress, ''])}
      <p id="no-history" hidden>${l.noHistory}</p>
    </div>
  </section>
  <section id="phones-section" aria-labelledby="phones-title">
    <h2 id="phones-title">${l.phones}</h2>
    <p><label for="phone-type">${l.phoneType}</label> <select id="phone-type"></select></p>
    ${table('phones', [l.mac, l.extension, l.version, l.lastContact, l.registration, l.lastRollout], true)}
    <p id="no-phones" hidden>${l.noPhones}</p>
    <button type="button" id="phones-more" class="secondary" hidden>${l.loadMore}</button>
  </section>
  <section id="journal-section" aria-labelledby="journal-title">
    <h2 id="journal-title">${l.journal}</h2>
    <p class="hint">${l.journalHint}</p>
    <p class="filters">
      <span><label for="journal-type">${l.phoneType}</label>
        <select id="journal-type"><option value="">${l.allTypes}</option></select></span>
      <span><label for="journal-kind">${l.kind}</label>
        <select id="journal-kind"><option value="">${l.allKinds}</option>
        ${JOURNAL_KINDS.map((k) => html`<option value="${k}">${l.kinds[k]}</option>`)}</select></span>
      <span><label for="journal-why">${l.occasion}</label>
        <select id="journal-why"><option value="">${l.allOccasions}</option>
        ${(['manual', 'schedule', 'trigger', 'system'] as const).map((w) => html`<option value="${w}">${l.why[w]}</option>`)}</select></span>
    </p>
    ${table('journal', [l.at, l.what, l.phoneType, l.who, l.occasion], true)}
    <p id="no-entries" hidden>${l.noEntries}</p>
    <button type="button" id="journal-older" class="secondary" hidden>${l.older}</button>
    <h3>${l.logs}</h3>
    <p>${l.logsHint}</p>
    <p class="buttons">
      ${LOG_FILES.map((f) => html`<button type="button" class="secondary" data-log="${f}">${f}</button>`)}
    </p>
  </section>
  <section id="models-section" aria-labelledby="models-title">
    <h2 id="models-title">${l.models}</h2>
    <p class="hint">${l.modelsHint}</p>
    <p id="firmware-server" class="hint"></p>
    ${table('models', [l.vendor, l.model, l.source, l.newestOffered, l.imageVersion, l.accountsHere])}
  </section>
</div>`;
}

function fleetBody(l: Labels) {
  const sortable: Array<[string, string]> = [
    ['name', l.pbx],
    ['timeZone', l.timeZone],
    ['phones', l.phones],
    ['behind', l.typesBehind],
    ['running', l.runningRollouts],
    ['failures', l.failuresWeek],
    ['nextUpdate', l.nextUpdate],
  ];
  return html`<div id="content" hidden>
  <h1>${l.fleet}</h1>
  <p class="hint">${l.fleetHint}</p>
  <form id="fleet-filter" class="filters">
    <label>${l.search} <input id="fleet-q" name="q" type="search" maxlength="100"></label>
    <span><label for="fleet-model">${l.filterModel}</label>
      <select id="fleet-model" name="modelId"><option value="">${l.anyModel}</option></select></span>
    <label>${l.filterBelow} <input id="fleet-below" name="below" maxlength="64" size="12"></label>
    <label><input type="checkbox" id="fleet-behind" name="behind"> ${l.filterBehind}</label>
    <label><input type="checkbox" id="fleet-running" name="running"> ${l.filterRunning}</label>
    <label><input type="checkbox" id="fleet-failed" name="failed"> ${l.filterFailed}</label>
    <button type="submit">${l.apply}</button>
    <button type="reset" class="secondary">${l.reset}</button>
  </form>
  <p id="fleet-summary" role="status"></p>
  <table id="fleet" class="cards">
    <thead><tr>
      ${sortable.map(
        ([key, name]) =>
          html`<th scope="col" data-sort="${key}" aria-sort="none"><button type="button" class="sort" data-sort="${key}" aria-label="${l.sortBy.replace('{column}', name)}">${name}</button></th>`,
      )}
      <th scope="col">${l.switches}</th>
    </tr></thead>
    <tbody></tbody>
  </table>
  <p id="no-pbxes" hidden>${l.noPbxes}</p>
  <nav class="pager" aria-label="${l.pages}">
    <button type="button" id="fleet-prev" class="secondary">${l.previous}</button>
    <span id="fleet-page"></span>
    <button type="button" id="fleet-next" class="secondary">${l.nextPage}</button>
  </nav>
  <section id="fleet-rollouts-section" aria-labelledby="fleet-rollouts-title" hidden>
    <h2 id="fleet-rollouts-title">${l.fleetRollouts}</h2>
    <p class="hint">${l.fleetRolloutsHint}</p>
    <form id="fleet-start" class="fleet-start">
      <strong>${l.startFleet}</strong>
      <span><label for="fleet-start-model">${l.fleetModel}</label>
        <select id="fleet-start-model" required></select></span>
      <span><label for="fleet-start-version">${l.fleetVersion}</label>
        <input id="fleet-start-version" required maxlength="64" size="12"></span>
      <span><label for="fleet-start-waves">${l.fleetWaves}</label>
        <input id="fleet-start-waves" value="1, 10%, rest" size="14" aria-describedby="fleet-waves-hint"></span>
      <fieldset>
        <legend>${l.fleetWhich}</legend>
        <label><input type="radio" name="fleet-which" value="shown" checked> <span id="fleet-which-shown"></span></label>
        <label><input type="radio" name="fleet-which" value="filtered"> <span id="fleet-which-filtered"></span></label>
      </fieldset>
      <button type="submit">${l.fleetStartButton}</button>
      <span class="hint" id="fleet-waves-hint">${l.fleetWavesHint}</span>
    </form>
    <p id="fleet-rollout-result" role="status"></p>
    ${table('fleet-rollouts', [l.fleetTarget, l.status, l.wave, l.fleetPbxes, l.when, ''])}
    <p id="no-fleet-rollouts" hidden>${l.noFleetRollouts}</p>
  </section>
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
  const fleet = (c: Context<AppEnv>) => {
    const l = LABELS[pickLanguage(c.req.query('lang'), c.req.header('accept-language'))];
    return c.html(layout(l, l.fleet, null, fleetBody(l), 'fleet.js'));
  };
  web.get('/', fleet);
  web.get('/fleet', fleet);
  web.get('/pbx/:pbxId/firmwares', (c) => {
    const pbxId = c.req.param('pbxId');
    const l = LABELS[pickLanguage(c.req.query('lang'), c.req.header('accept-language'))];
    if (!PBX_ID_PATTERN.test(pbxId))
      return c.html(html`<!doctype html><title>404</title><p>Not found</p>`, 404);
    return c.html(layout(l, `${l.title} – ${pbxId}`, pbxId, firmwaresBody(l), 'firmwares.js'));
  });
  web.get('/favicon.ico', (c) => c.body(null, 204));
  web.get('/assets/:name', (c) => {
    const a = ASSETS.get(c.req.param('name'));
    if (!a) return c.json({ error: `no asset ${c.req.param('name')}` }, 404);
    return c.body(a.body, 200, { 'content-type': a.type, 'cache-control': 'no-cache' });
  });
  return web;
}
