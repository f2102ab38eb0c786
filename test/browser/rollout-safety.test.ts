/**
 * Rollout safety on the Firmwares page (issue 13), in real headless Chromium against the real system: PBX `halt`
 * with seven simulated Yealink T54W phones over loopback SIP/HTTP. The first phone by account order (so in the
 * canary, which takes registered idle phones in account order) comes back on its old version — the simulator plays
 * the vendor's behaviour, the edge's code is not imported — so the canary fails (any failure in the canary halts) and the rollout
 * halts by itself. The admin sees it "angehalten" with its reason on the German page, previews the next update,
 * resumes on the page (the two phones of block 2 are updated), and finds the halted rollout in Temporal by its
 * `RolloutStatus` search attribute while it was halted.
 */
import { and, eq } from 'drizzle-orm';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApiToken } from '../../api/tokens.ts';
import { phoneAccounts, rollouts } from '../../db/schema.ts';
import { launchChromium, screenshotPath } from '../support/browser.ts';
import { type Site, type SitePhone, startSite } from '../support/site.ts';
import { type System, startSystem } from '../support/system.ts';
import { connectDevServer } from '../support/temporal.ts';
import { until } from '../support/until.ts';

const PBX = 'halt';
const OLD = '96.86.0.45';
const NEW = '96.86.0.70';
const T54W = 'yealink-t54w';

const PHONES: SitePhone[] = Array.from({ length: 7 }, (_, i) => ({
  mac: `805ec03000${String(i + 1).padStart(2, '0')}`,
  vendor: 'yealink',
  model: 'T54W',
  extension: `${301 + i}`,
  version: OLD,
  ...(i === 0 ? { failure: 'returns-old-version' as const } : {}),
}));

let system: System;
let site: Site;
let browser: Browser;
let token: string;
let startedAt: number;
let rolloutId: string;

beforeAll(async () => {
  startedAt = Date.now();
  system = await startSystem();
  browser = await launchChromium();
  site = await startSite(system, {
    pbxId: PBX,
    name: 'Halt Hamburg',
    timeZone: 'Europe/Berlin',
    phones: PHONES,
  });
  const base = `/api/pbxes/${PBX}`;
  expect((await system.call('POST', `${base}/download-now`, {})).status).toBe(200);
  await until('T54W firmware stored', async () => {
    const o = await system.call('GET', `${base}/overview`);
    return o.body.types.find((t: { modelId: string }) => t.modelId === T54W)?.newestLocal === NEW;
  });
  token = (await createApiToken(system.database.db, { name: 'alice', pbxId: PBX })).token;
}, 300_000);

afterAll(async () => {
  await browser?.close();
  await site?.close();
  await system?.close();
});

async function openPage(
  lang: 'en' | 'de',
): Promise<{ page: Page; errors: string[]; close: () => Promise<void> }> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto(`${system.url}/pbx/${PBX}/firmwares?lang=${lang}`);
  await page.locator('#token').fill(token);
  await page.locator('#sign-in button[type=submit]').click();
  return { page, errors, close: () => context.close() };
}

const row = (page: Page) => page.locator(`#rollouts tr[data-model="${T54W}"]`);

describe('issue 13 on the page, in real Chromium', () => {
  it('issue 13: the preview shows the canary (registered phones in account order) and the block after it, with expected starts', async () => {
    const { page, errors, close } = await openPage('en');
    await page.locator('#preview-now').click();
    const type = page.locator(`#preview .preview-type[data-model="${T54W}"]`);
    await expect.poll(() => type.count()).toBe(1);
    const blocks = type.locator('tbody tr');
    expect(await blocks.count()).toBe(2);
    expect(await blocks.nth(0).getAttribute('data-canary')).toBe('true');
    // Each block says when it is expected to start (in the PBX zone): the canary now, block 2 after it.
    const starts = await blocks.locator('td:nth-child(2)').allTextContents();
    expect(starts).toHaveLength(2);
    expect(starts.every((t) => /\d{2}:\d{2}/.test(t))).toBe(true);
    expect(starts[1]).not.toBe(starts[0]);
    expect(await blocks.nth(0).textContent()).toContain('Block 1 (canary)');
    // The canary: the first five accounts, the failing phone 301 among them; block 2: the last two.
    const canaryPhones = await blocks.nth(0).locator('.preview-phones').textContent();
    for (const ext of ['301', '302', '303', '304', '305']) expect(canaryPhones).toContain(ext);
    const rest = await blocks.nth(1).locator('.preview-phones').textContent();
    expect(rest).toContain('306');
    expect(rest).toContain('307');
    expect(rest).not.toContain('301');
    expect(await type.locator('p').textContent()).toContain(`${NEW}: 7 phones in 2 blocks (canary 5)`);
    expect(errors).toEqual([]);
    await close();
  }, 60_000);

  it('issue 13: a canary that fails halts the rollout — "angehalten" with its reason on the German page; it is found in Temporal by RolloutStatus = "halted"; the admin resumes it on the page and block 2 runs', async () => {
    const { page, errors, close } = await openPage('de');
    page.on('dialog', (d) => void d.accept());
    await page.locator('#update-now').click();
    await until(
      'the rollout to halt',
      () => system.database.db.select().from(rollouts).where(eq(rollouts.pbxId, PBX)),
      (rows) => rows.length === 1 && rows[0]?.status === 'halted',
      180_000,
    );
    const [halted] = await system.database.db.select().from(rollouts).where(eq(rollouts.pbxId, PBX));
    rolloutId = halted?.id as string;
    // No phone beyond the canary was touched: block 2's phones still run the old version and were never offered it.
    const untouched = await system.database.db
      .select()
      .from(phoneAccounts)
      .where(and(eq(phoneAccounts.pbxId, PBX), eq(phoneAccounts.installedVersion, OLD)));
    expect(untouched.map((p) => p.extension).sort()).toEqual(['301', '306', '307']);

    // The page: the status word and the reason in German, the buttons the state allows.
    await expect.poll(() => row(page).getAttribute('data-status'), { timeout: 15_000 }).toBe('halted');
    expect(await row(page).locator('.state .status').textContent()).toBe('angehalten');
    expect(await row(page).locator('.state .reason').textContent()).toBe(
      `der Kanarienblock war nicht erfolgreich: 1 von 5 Kanarien-Telefonen sind mit ${NEW} gescheitert`,
    );
    const controls = row(page).locator('.rollout-controls');
    expect(await controls.getAttribute('data-rollout-id')).toBe(rolloutId);
    expect(await controls.locator('[data-control="pause"]').isHidden()).toBe(true);
    expect(await controls.locator('[data-control="resume"]').textContent()).toBe('Fortsetzen');
    expect(await controls.locator('[data-control="cancel"]').isVisible()).toBe(true);
    await page.screenshot({ path: screenshotPath('rollout-halted-de.png'), fullPage: true });

    // Temporal: the halted rollout by its search attribute (what the Temporal UI's query box runs).
    const env = await connectDevServer();
    try {
      const since = `StartTime > "${new Date(startedAt).toISOString()}"`;
      const found = await until(
        'visibility to list the halted rollout',
        async () => {
          const ids: Array<{ workflowId: string; runId: string }> = [];
          for await (const w of env.client.workflow.list({
            query: `RolloutStatus = "halted" AND PbxId = "${PBX}" AND ${since}`,
          }))
            ids.push({ workflowId: w.workflowId, runId: w.runId });
          return ids;
        },
        (l) => l.length === 1,
        30_000,
      );
      expect(found).toEqual([{ workflowId: `pbx/${PBX}/rollout/${T54W}`, runId: rolloutId }]);
    } finally {
      await env.teardown();
    }

    // Resume on the page: block 2 (phones 306, 307) runs and they reach the target.
    await controls.locator('[data-control="resume"]').click();
    await expect
      .poll(() => page.locator('#action-result').textContent(), { timeout: 20_000 })
      .toContain('Fortsetzen');
    await until(
      'block 2 to update its phones',
      () =>
        system.database.db
          .select()
          .from(phoneAccounts)
          .where(and(eq(phoneAccounts.pbxId, PBX), eq(phoneAccounts.installedVersion, NEW))),
      (rows) => ['306', '307'].every((e) => rows.some((r) => r.extension === e)),
      180_000,
    );
    await expect.poll(() => row(page).getAttribute('data-status'), { timeout: 15_000 }).not.toBe('halted');
    const journal = await system.call('GET', `/api/pbxes/${PBX}/journal?limit=100`);
    const actions = (journal.body.entries as Array<{ action: string; who: string }>).map(
      (e) => `${e.action}:${e.who}`,
    );
    expect(actions).toEqual(expect.arrayContaining(['rollout.halted:system', 'rollout.resumed:alice']));
    expect(errors).toEqual([]);
    await close();
  }, 420_000);
});
