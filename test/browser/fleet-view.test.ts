/**
 * R16: the operator's fleet view in real headless Chromium over 240 PBXes (the database as the workflows leave it,
 * written in bulk by test/support/fleet-seed.ts): paged, filtered ("PBXes with T54W below 96.86.0.70", "failed
 * rollouts this week") and sorted by the server, every time in its PBX's own zone, in English and German, at
 * desktop width and at 390 px. Screenshots go to test-results/.
 */
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ApiHarness, createApiHarness } from '../support/api.ts';
import { launchChromium, screenshotPath, serveOnLoopback } from '../support/browser.ts';
import { fleetPlan, seedFleet, T54W_NEW } from '../support/fleet-seed.ts';

const PBXES = 240;
let h: ApiHarness;
let server: Awaited<ReturnType<typeof serveOnLoopback>>;
let browser: Browser;
let token: string;

beforeAll(async () => {
  h = await createApiHarness({});
  await seedFleet(h.database.db, PBXES);
  token = await h.token('operator');
  server = await serveOnLoopback(h.app.fetch);
  browser = await launchChromium();
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await server?.close();
  await h?.close();
});

const count = (rule: (i: number) => boolean) =>
  Array.from({ length: PBXES }, (_, i) => i).filter(rule).length;

async function open(
  lang: 'en' | 'de',
  width = 1280,
): Promise<{ context: BrowserContext; page: Page; errors: string[] }> {
  const context = await browser.newContext({ viewport: { width, height: 900 } });
  const page = await context.newPage();
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto(`${server.url}/?lang=${lang}`);
  await page.locator('#token').fill(token);
  await page.locator('#sign-in button[type=submit]').click();
  await expect.poll(() => page.locator('#fleet tbody tr').count()).toBe(50);
  return { context, page, errors };
}

const ids = (page: Page) =>
  page.locator('#fleet tbody tr').evaluateAll((rows) => rows.map((r) => (r as HTMLElement).dataset.pbx));

describe('R16: the fleet view in real Chromium', () => {
  it('R16: 240 PBXes paged by the server, each time in its own zone; filtered and sorted by the server', async () => {
    const { context, page, errors } = await open('en');
    const summary = () => page.locator('#fleet-summary').textContent();
    expect(await summary()).toBe(
      `240 PBXes · ${count(fleetPlan.t54wBehind)} with types behind (${count(fleetPlan.t54wBehind)} phones) · ${count(fleetPlan.running)} with running rollouts · ${count(fleetPlan.failedThisWeek)} with failures this week`,
    );
    expect(await page.locator('#fleet-page').textContent()).toBe('1–50 of 240');
    expect((await ids(page))[0]).toBe('site-0000');

    // Each PBX's next update moment in its own zone (site-0002 is in Tokyo, R8 on, with a moment).
    const api = (await h.call('GET', '/api/fleet?q=site-0002', { token })).body.pbxes[0];
    expect(api.timeZone).toBe('Asia/Tokyo');
    const tokyo = new Intl.DateTimeFormat('en-GB', {
      timeZone: 'Asia/Tokyo',
      weekday: 'short',
      day: 'numeric',
      month: 'short',
      year: 'numeric',
      hour: '2-digit',
      minute: '2-digit',
      hourCycle: 'h23',
    }).format(new Date(api.nextUpdateAt));
    expect(await page.locator('#fleet tr[data-pbx="site-0002"] td.when').textContent()).toBe(
      `${tokyo} (Asia/Tokyo)`,
    );
    expect(await page.locator('#fleet tr[data-pbx="site-0000"] td.failures').textContent()).toMatch(
      /^1 \(last .* \(Europe\/Berlin\)\)$/,
    );
    await page.screenshot({ path: screenshotPath('fleet-en-1280.png'), fullPage: true });

    await page.getByRole('button', { name: 'Next', exact: true }).click();
    await expect.poll(() => page.locator('#fleet-page').textContent()).toBe('51–100 of 240');
    expect((await ids(page))[0]).toBe('site-0050');

    // "PBXes with T54W below 96.86.0.70"
    await page.getByLabel('Phone type').selectOption('yealink-t54w');
    await page.getByLabel('below version').fill(T54W_NEW);
    await page.getByRole('button', { name: 'Apply', exact: true }).click();
    const behind = count(fleetPlan.t54wBehind);
    await expect.poll(() => page.locator('#fleet-page').textContent()).toBe(`1–50 of ${behind}`);
    const cells = await page.locator('#fleet tbody td.behind').allTextContents();
    expect(cells.every((t) => t === `Yealink T54W: 1 below ${T54W_NEW} (oldest 96.86.0.45)`)).toBe(true);
    expect(page.url()).toContain(`modelId=yealink-t54w&below=${T54W_NEW}`);

    // "failed rollouts this week", most failures first, then by running rollouts descending.
    await page.getByRole('button', { name: 'Reset', exact: true }).click();
    await expect.poll(() => page.locator('#fleet-page').textContent()).toBe('1–50 of 240');
    await page.getByLabel('failed rollouts this week').check();
    await page.getByRole('button', { name: 'Apply', exact: true }).click();
    const failed = count(fleetPlan.failedThisWeek);
    await expect.poll(() => page.locator('#fleet-page').textContent()).toBe(`1–${failed} of ${failed}`);
    expect((await ids(page)).every((id) => fleetPlan.failedThisWeek(Number(id?.slice(5))))).toBe(true);
    const sortRunning = page.getByRole('button', { name: 'Sort by Running rollouts' });
    await sortRunning.click();
    await expect
      .poll(() => page.locator('th[data-sort="running"]').getAttribute('aria-sort'))
      .toBe('ascending');
    await sortRunning.click();
    await expect
      .poll(() => page.locator('th[data-sort="running"]').getAttribute('aria-sort'))
      .toBe('descending');
    const running = count((i) => fleetPlan.failedThisWeek(i) && fleetPlan.running(i));
    await expect
      .poll(async () => (await page.locator('#fleet tbody td.rollouts').allTextContents()).slice(0, running))
      .toEqual(Array(running).fill(`T54W → ${T54W_NEW}: 33 %`));

    // A PBX leads to its Firmwares page.
    await page.locator('#fleet tbody tr').first().getByRole('link').click();
    await page.waitForURL(/\/pbx\/site-\d{4}\/firmwares\?lang=en$/);
    expect(errors).toEqual([]);
    await context.close();
  }, 120_000);

  it('R16 in German at 390 px: nothing wider than the screen, words and times in German', async () => {
    const { context, page, errors } = await open('de', 390);
    expect(await page.locator('#fleet-summary').textContent()).toMatch(
      /^240 Anlagen · \d+ mit Typen im Rückstand/,
    );
    expect(await page.locator('#fleet-page').textContent()).toBe('1–50 von 240');
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
    expect(await page.locator('#fleet tr[data-pbx="site-0000"] td.switches').textContent()).toContain(
      'Automatik: aus',
    );
    await page.screenshot({ path: screenshotPath('fleet-de-390.png'), fullPage: false });
    expect(errors).toEqual([]);
    await context.close();
  }, 60_000);
});
