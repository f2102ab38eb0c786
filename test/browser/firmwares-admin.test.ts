/**
 * The Firmwares page as an admin runs a site from it (issue 12), in real headless Chromium, English and German.
 * One real site for the whole file: PBX `acme` (Europe/Berlin) with Yealink T54W, T31 and Snom D785 accounts made
 * through the API, simulated phones playing the vendors' behaviour over loopback SIP/HTTP, and one real rollout of
 * T54W in which one phone comes back on its old version, one refuses the NOTIFY and one never contacted the PBX.
 *
 * Defects 1–6 of issue 12 each have a test here that failed on the page before the fix.
 */
import { eq } from 'drizzle-orm';
import type { Browser, BrowserContext, Page, Request } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApiToken } from '../../api/tokens.ts';
import { rollouts } from '../../db/schema.ts';
import { launchChromium } from '../support/browser.ts';
import { type Site, type SitePhone, startSite } from '../support/site.ts';
import { type System, startSystem } from '../support/system.ts';
import { until } from '../support/until.ts';

const PBX = 'acme';
const ZONE = 'Europe/Berlin';
const OLD = '96.86.0.45';
const NEW = '96.86.0.70';

const PHONES: SitePhone[] = [
  { mac: '805ec0200001', vendor: 'yealink', model: 'T54W', extension: '201', version: OLD },
  { mac: '805ec0200002', vendor: 'yealink', model: 'T54W', extension: '202', version: OLD },
  {
    mac: '805ec0200003',
    vendor: 'yealink',
    model: 'T54W',
    extension: '203',
    version: OLD,
    failure: 'returns-old-version',
  },
  {
    mac: '805ec0200004',
    vendor: 'yealink',
    model: 'T54W',
    extension: '204',
    version: OLD,
    failure: 'refuses-notify',
  },
  {
    mac: '805ec0200005',
    vendor: 'yealink',
    model: 'T54W',
    extension: '205',
    version: OLD,
    failure: 'offline',
  },
  {
    mac: '805ec0200011',
    vendor: 'yealink',
    model: 'T31',
    extension: '211',
    version: '124.86.0.50',
    failure: 'offline',
  },
  { mac: '000413200021', vendor: 'snom', model: 'D785', extension: '221', version: '10.1.184.15' },
  {
    mac: '000413200022',
    vendor: 'snom',
    model: 'D785',
    extension: '222',
    version: '10.1.184.15',
    failure: 'offline',
  },
];

let system: System;
let site: Site;
let browser: Browser;
let token: string;

beforeAll(async () => {
  system = await startSystem();
  browser = await launchChromium();
  site = await startSite(system, { pbxId: PBX, name: 'ACME Berlin', timeZone: ZONE, phones: PHONES });
  const base = `/api/pbxes/${PBX}`;
  // The firmware comes to the PBX (Download now), then T54W rolls out and T31 is refused (its Auto-Update is off).
  const download = await system.call('POST', `${base}/download-now`, {});
  expect(download.status).toBe(200);
  await until('T54W firmware stored', async () => {
    const o = await system.call('GET', `${base}/overview`);
    return o.body.types.find((t: { modelId: string }) => t.modelId === 'yealink-t54w')?.newestLocal === NEW;
  });
  expect((await system.call('PUT', `${base}/types/yealink-t31/auto-update`, { enabled: false })).status).toBe(
    200,
  );
  const update = await system.call('POST', `${base}/update-now`, {});
  expect(update.status).toBe(200);
  await until(
    'the T54W rollout ended',
    async () => (await system.database.db.select().from(rollouts).where(eq(rollouts.pbxId, PBX)))[0]?.status,
    (s) => s !== undefined && s !== 'running',
    120_000,
  );
  // From here on Update now changes nothing: T54W's Auto-Update goes off too, so every press is refused.
  expect(
    (await system.call('PUT', `${base}/types/yealink-t54w/auto-update`, { enabled: false })).status,
  ).toBe(200);
  token = (await createApiToken(system.database.db, { name: 'alice', pbxId: PBX })).token;
}, 300_000);

afterAll(async () => {
  await browser?.close();
  await site?.close();
  await system?.close();
});

interface Opened {
  context: BrowserContext;
  page: Page;
  errors: string[];
}

/** A fresh browser context (own sessionStorage), signed in on the page in the given language. */
async function openPage(
  lang: 'en' | 'de',
  options: { width?: number; timezoneId?: string; path?: string; signIn?: string } = {},
): Promise<Opened> {
  const context = await browser.newContext({
    viewport: { width: options.width ?? 1280, height: 900 },
    ...(options.timezoneId ? { timezoneId: options.timezoneId } : {}),
  });
  const page = await context.newPage();
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto(`${system.url}${options.path ?? `/pbx/${PBX}/firmwares`}?lang=${lang}`);
  await page.locator('#token').fill(options.signIn ?? token);
  await page.locator('#sign-in button[type=submit]').click();
  return { context, page, errors };
}

async function overviewLoaded(page: Page) {
  await expect.poll(() => page.locator('#overview tr[data-model="yealink-t54w"]').count()).toBe(1);
}

function countRequests(page: Page, pathPart: string) {
  const seen: Request[] = [];
  const on = (r: Request) => {
    if (new URL(r.url()).pathname.includes(pathPart)) seen.push(r);
  };
  page.on('request', on);
  return {
    get count() {
      return seen.length;
    },
    stop: () => page.off('request', on),
  };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('issue 12 defects, in real Chromium', () => {
  it('defect 1: pressing a button three times leaves one poll timer (progress requests do not multiply)', async () => {
    const { context, page, errors } = await openPage('en');
    await overviewLoaded(page);
    const WINDOW_MS = 8_000;
    const before = countRequests(page, '/rollout-progress');
    await sleep(WINDOW_MS);
    before.stop();
    for (let i = 0; i < 3; i++) {
      const answered = page.waitForResponse((r) => r.url().endsWith('/update-now'));
      await page.getByRole('button', { name: 'Update now' }).click();
      await answered;
      await expect.poll(() => page.getByRole('button', { name: 'Update now' }).isEnabled()).toBe(true);
    }
    const after = countRequests(page, '/rollout-progress');
    await sleep(WINDOW_MS);
    after.stop();
    expect(before.count).toBeGreaterThan(0);
    expect(after.count).toBeLessThanOrEqual(before.count + 1);
    expect(errors).toEqual([]);
    await context.close();
  }, 90_000);

  it('defect 2: a keyboard user keeps focus on an Auto-Update switch while the page refreshes; Space toggles it', async () => {
    const { context, page, errors } = await openPage('en');
    await overviewLoaded(page);
    const name = 'Auto-Update for D785';
    // Keyboard only: Tab through the page to the switch.
    await page.locator('body').focus();
    for (let i = 0; i < 60; i++) {
      await page.keyboard.press('Tab');
      if ((await page.evaluate(() => document.activeElement?.getAttribute('aria-label'))) === name) break;
    }
    expect(await page.evaluate(() => document.activeElement?.getAttribute('aria-label'))).toBe(name);
    // Two refreshes of the overview go by.
    for (let i = 0; i < 2; i++)
      await page.waitForResponse((r) => r.url().includes(`/api/pbxes/${PBX}/overview`));
    await sleep(300);
    expect(await page.evaluate(() => document.activeElement?.getAttribute('aria-label'))).toBe(name);
    await page.keyboard.press('Space');
    await until(
      'D785 Auto-Update off',
      async () => (await system.call('GET', `/api/pbxes/${PBX}/overview`)).body.types,
      (types: Array<{ modelId: string; autoUpdate: boolean }>) =>
        types.find((t) => t.modelId === 'snom-d785')?.autoUpdate === false,
      15_000,
    );
    await expect.poll(() => page.getByRole('checkbox', { name }).isEnabled()).toBe(true);
    expect(await page.evaluate(() => document.activeElement?.getAttribute('aria-label'))).toBe(name);
    await page.keyboard.press('Space');
    await until(
      'D785 Auto-Update on again',
      async () => (await system.call('GET', `/api/pbxes/${PBX}/overview`)).body.types,
      (types: Array<{ modelId: string; autoUpdate: boolean }>) =>
        types.find((t) => t.modelId === 'snom-d785')?.autoUpdate === true,
      15_000,
    );
    expect(errors).toEqual([]);
    await context.close();
  }, 90_000);

  it('defect 3: on the German page every reason from the server is German', async () => {
    const { context, page, errors } = await openPage('de');
    await overviewLoaded(page);
    // The rollout's end, from the database.
    await expect
      .poll(() => page.locator('#rollouts tr[data-model="yealink-t54w"]').textContent())
      .toContain(`3 von 5 Telefonen haben ${NEW} nicht erreicht`);
    // Update now: both Yealink types refused (Auto-Update off), D785's phones current but one never seen.
    await page.getByRole('button', { name: 'Jetzt aktualisieren' }).click();
    const result = page.locator('#action-result');
    await expect
      .poll(() => result.textContent(), { timeout: 20_000 })
      .toContain('Auto-Update ist für T31 ausgeschaltet');
    expect(await result.textContent()).toContain('(1 noch nicht gemeldet)');
    expect(await result.textContent()).not.toMatch(/Auto-Update is off|not yet contacted/);
    // Download now: the newest version is already stored.
    await page.getByRole('button', { name: 'Jetzt herunterladen' }).click();
    await expect
      .poll(() => result.textContent(), { timeout: 20_000 })
      .toContain(`die neueste Version ${NEW} ist bereits gespeichert`);
    expect(await result.textContent()).not.toContain('is already stored');
    // No connection: the browser's "Failed to fetch" is not what the admin reads.
    await context.setOffline(true);
    await expect
      .poll(() => page.getByRole('alert').textContent(), { timeout: 15_000 })
      .toContain('Keine Verbindung');
    expect(await page.getByRole('alert').textContent()).not.toContain('Failed to fetch');
    await context.setOffline(false);
    await context.close();
    // A PBX the token may not see reads like a missing one, in German.
    const other = await openPage('de', { path: '/pbx/demo/firmwares' });
    await expect
      .poll(() => other.page.getByRole('alert').textContent())
      .toContain('Anlage „demo“ nicht gefunden');
    expect(await other.page.getByRole('alert').textContent()).not.toContain('not found');
    expect([...errors, ...other.errors]).toEqual([]);
    await other.context.close();
  }, 90_000);

  it('defect 4: a wrong token is told so on the sign-in form; the offline error goes once the connection is back', async () => {
    const wrong = await openPage('en', { signIn: 'pfd_this-token-does-not-exist' });
    await expect.poll(() => wrong.page.locator('#token').isVisible()).toBe(true);
    await expect
      .poll(() => wrong.page.getByRole('alert').textContent())
      .toContain('This token is unknown or has been revoked');
    await wrong.context.close();

    const { context, page, errors } = await openPage('en');
    await overviewLoaded(page);
    await context.setOffline(true);
    await expect.poll(() => page.getByRole('alert').isVisible(), { timeout: 15_000 }).toBe(true);
    expect(await page.getByRole('alert').textContent()).toContain('No connection to the server');
    await context.setOffline(false);
    await expect.poll(() => page.getByRole('alert').isVisible(), { timeout: 15_000 }).toBe(false);
    expect(errors).toEqual([]);
    await context.close();
  }, 60_000);

  it.each(['en', 'de'] as const)(
    'defect 5: at 390 px (%s) nothing is wider than the screen and every switch is on it',
    async (lang) => {
      const { context, page, errors } = await openPage(lang, { width: 390 });
      await overviewLoaded(page);
      await sleep(500);
      expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
      const boxes = page.locator('#overview input[type=checkbox]');
      expect(await boxes.count()).toBe(3);
      for (const box of await boxes.all()) {
        const b = await box.boundingBox();
        expect(b).not.toBeNull();
        expect((b?.x ?? 0) + (b?.width ?? 0)).toBeLessThanOrEqual(390);
        expect(b?.x ?? -1).toBeGreaterThanOrEqual(0);
      }
      expect(errors).toEqual([]);
      await context.close();
    },
  );

  it('defect 6: the check time is shown in the PBX time zone, labelled, whatever zone the browser is in', async () => {
    const { context, page, errors } = await openPage('de', { timezoneId: 'America/New_York' });
    await overviewLoaded(page);
    const answered = page.waitForResponse((r) => r.url().endsWith('/check-now'));
    await page.getByRole('button', { name: 'Jetzt prüfen' }).click();
    const { checkedAt } = await (await answered).json();
    const inZone = (timeZone: string) =>
      new Intl.DateTimeFormat('de', {
        timeZone,
        hour: '2-digit',
        minute: '2-digit',
        hourCycle: 'h23',
      }).format(new Date(checkedAt));
    const text = () => page.locator('#action-result').textContent();
    await expect.poll(text).toContain('Geprüft um');
    expect(await text()).toContain(inZone(ZONE));
    expect(await text()).toContain(ZONE);
    expect(await text()).not.toContain(inZone('America/New_York'));
    expect(errors).toEqual([]);
    await context.close();
  }, 60_000);
});
