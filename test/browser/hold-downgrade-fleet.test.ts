/**
 * Issue 13 on the pages, in real headless Chromium against the real system (Temporal dev server, Postgres, the
 * phone edge and simulated phones over loopback SIP/HTTP): every safety feature is visible and usable on the page.
 *  - Firmwares page: an admin holds a type at a version in its overview row (who and why on hover), Update now
 *    leaves the type alone, the admin releases the hold; a downgrade started on the page holds the type at the
 *    older version and starts its rollout; a Gigaset downgrade is refused with the reason in German.
 *  - Fleet view: an operator starts a fleet rollout over the PBXes the filter shows, pauses and resumes it, and
 *    sees its status, wave and each PBX's state in words.
 */
import { eq } from 'drizzle-orm';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApiToken } from '../../api/tokens.ts';
import { localFirmware, phoneAccounts, rollouts, typeHolds } from '../../db/schema.ts';
import { launchChromium, screenshotPath } from '../support/browser.ts';
import { type Site, type SitePhone, startSite } from '../support/site.ts';
import { type System, startSystem } from '../support/system.ts';
import { until } from '../support/until.ts';

const PBX = 'hold13';
const OLD = '96.86.0.45';
const OLDER = '96.86.0.40';
const NEW = '96.86.0.70';
const T54W = 'yealink-t54w';
const N670 = 'gigaset-n670';

const phones = (prefix: string, n: number, extra: Partial<SitePhone> = {}): SitePhone[] =>
  Array.from({ length: n }, (_, i) => ({
    mac: `${prefix}${String(i + 1).padStart(2, '0')}`,
    vendor: 'yealink',
    model: 'T54W',
    extension: `${401 + i}`,
    version: OLD,
    ...extra,
  }));

let system: System;
let sites: Site[] = [];
let browser: Browser;
let admin: string;
let operator: string;

beforeAll(async () => {
  system = await startSystem();
  browser = await launchChromium();
  sites = [
    await startSite(system, {
      pbxId: PBX,
      name: 'Hold Hamburg',
      timeZone: 'Europe/Berlin',
      phones: phones('805ec04000', 3),
    }),
    await startSite(system, {
      pbxId: 'fleet13a',
      name: 'Fleet A',
      timeZone: 'Europe/Berlin',
      phones: phones('805ec04100', 1),
    }),
    await startSite(system, {
      pbxId: 'fleet13b',
      name: 'Fleet B',
      timeZone: 'Europe/Vienna',
      phones: phones('805ec04200', 1),
    }),
  ];
  const base = `/api/pbxes/${PBX}`;
  expect((await system.call('POST', `${base}/download-now`, {})).status).toBe(200);
  await until('T54W firmware stored', async () => {
    const o = await system.call('GET', `${base}/overview`);
    return o.body.types.find((t: { modelId: string }) => t.modelId === T54W)?.newestLocal === NEW;
  });
  // An older T54W release the PBX stored before (what a downgrade can go back to), and a Gigaset N670 account with
  // two stored releases (Gigaset only upgrades: the API refuses its downgrade).
  const gigaset = await system.call('POST', `${base}/accounts/bulk`, {
    accounts: [{ mac: '7c2f80aabb01', model: N670, extension: '499' }],
  });
  expect(gigaset.status).toBe(201);
  await system.database.db.insert(localFirmware).values([
    { pbxId: PBX, modelId: T54W, version: OLDER, fileName: `${T54W}-${OLDER}.rom`, source: 'download' },
    { pbxId: PBX, modelId: N670, version: '2.60.0', fileName: `${N670}-2.60.0.bin`, source: 'download' },
    { pbxId: PBX, modelId: N670, version: '2.65.0', fileName: `${N670}-2.65.0.bin`, source: 'download' },
  ]);
  // The fleet's first wave waits for fleet13a's maintenance window (closed now: it opens in two hours), so its
  // rollout stays open while the operator pauses, resumes and cancels it.
  const berlin = (hoursAhead: number) =>
    new Intl.DateTimeFormat('en-GB', {
      timeZone: 'Europe/Berlin',
      hour: '2-digit',
      minute: '2-digit',
      hourCycle: 'h23',
    }).format(new Date(Date.now() + hoursAhead * 3_600_000));
  const window = await system.call('PATCH', '/api/pbxes/fleet13a/rollout-settings', {
    maintenanceWindow: { start: berlin(2), end: berlin(3) },
  });
  expect(window.status).toBe(200);
  expect(window.body.windowNow).toMatchObject({ open: false });
  // R8: a fleet rollout is an automatic installation for each PBX; test sites start with it off, so the fleet's
  // PBXes switch it on (with it off each PBX is skipped and the fleet rollout ends `failed`: nothing installed).
  for (const pbxId of ['fleet13a', 'fleet13b']) {
    const on = await system.call('PATCH', `/api/pbxes/${pbxId}/settings`, { autoDownloadInstall: true });
    expect(on.status).toBe(200);
  }
  admin = (await createApiToken(system.database.db, { name: 'alice', pbxId: PBX })).token;
  operator = (await createApiToken(system.database.db, { name: 'olga' })).token;
}, 300_000);

afterAll(async () => {
  await browser?.close();
  for (const site of sites) await site.close();
  await system?.close();
});

async function openPage(
  path: string,
  token: string,
  width = 1280,
): Promise<{ page: Page; errors: string[]; close: () => Promise<void> }> {
  const context = await browser.newContext({ viewport: { width, height: 900 } });
  const page = await context.newPage();
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  page.on('dialog', (d) => void d.accept());
  await page.goto(`${system.url}${path}`);
  await page.locator('#token').fill(token);
  await page.locator('#sign-in button[type=submit]').click();
  return { page, errors, close: () => context.close() };
}

const overviewRow = (page: Page, modelId: string) => page.locator(`#overview tr[data-model="${modelId}"]`);

async function holdForm(page: Page, modelId: string) {
  const row = overviewRow(page, modelId);
  await expect.poll(() => row.count()).toBe(1);
  await row.locator('.hold-details summary').click();
  return row.locator('form.hold-form');
}

async function holdOf(modelId: string) {
  const [h] = await system.database.db.select().from(typeHolds).where(eq(typeHolds.modelId, modelId));
  return h ?? null;
}

describe('issue 13: holds, downgrades and fleet rollouts on the pages, in real Chromium', () => {
  it('issue 13 hold: an admin holds T54W at the version in use on the page — the overview says "held at" with who and why, Update now leaves the type alone; the admin releases the hold', async () => {
    const { page, errors, close } = await openPage(`/pbx/${PBX}/firmwares?lang=en`, admin);
    const form = await holdForm(page, T54W);
    // The versions the form offers: the stored ones and the one in use, newest first.
    expect(await form.locator('select option').allTextContents()).toEqual([NEW, OLD, OLDER]);
    await form.locator('select').selectOption(OLD);
    await form.locator('input[name="reason"]').fill('audio bug in .70');
    await form.locator('button[data-hold="hold"]').click();
    const held = overviewRow(page, T54W).locator('.held');
    await expect.poll(() => held.textContent()).toBe(`held at ${OLD}`);
    expect(await held.getAttribute('title')).toMatch(
      /^held by alice \(.+\(Europe\/Berlin\)\): audio bug in \.70$/,
    );
    expect(await holdOf(T54W)).toMatchObject({ version: OLD, who: 'alice', why: 'audio bug in .70' });
    // The overview the API serves says the same.
    const overview = await system.call('GET', `/api/pbxes/${PBX}/overview`);
    expect(overview.body.types.find((t: { modelId: string }) => t.modelId === T54W).hold).toMatchObject({
      version: OLD,
    });

    await page.locator('#update-now').click();
    await expect
      .poll(() => page.locator('#action-result').textContent(), { timeout: 60_000 })
      .toContain(`T54W is held at ${OLD}: no update beyond it`);
    // Nothing ran: no rollout of the type beyond a refusal.
    const ran = await system.database.db.select().from(rollouts).where(eq(rollouts.pbxId, PBX));
    expect(ran.filter((r) => r.status !== 'refused')).toEqual([]);
    const versions = await system.database.db
      .select({ v: phoneAccounts.installedVersion })
      .from(phoneAccounts)
      .where(eq(phoneAccounts.modelId, T54W));
    expect(versions.filter((x) => x.v === NEW)).toEqual([]);
    await page.screenshot({ path: screenshotPath('type-held-en.png'), fullPage: true });

    await form.locator('button[data-hold="release"]').click();
    await expect.poll(() => held.textContent()).toBe('');
    expect(await form.locator('button[data-hold="release"]').isHidden()).toBe(true);
    expect(await holdOf(T54W)).toBeNull();
    const journal = await system.call('GET', `/api/pbxes/${PBX}/journal?limit=50`);
    expect(journal.body.entries.map((e: { action: string; who: string }) => `${e.action}:${e.who}`)).toEqual(
      expect.arrayContaining(['type.held:alice', 'type.released:alice']),
    );
    expect(errors).toEqual([]);
    await close();
  }, 180_000);

  it('issue 13 downgrade: on the German page an admin downgrades T54W to an older stored version — held there ("gehalten bei"), its rollout started with that target; a Gigaset downgrade is refused with the reason in German and changes nothing', async () => {
    const { page, errors, close } = await openPage(`/pbx/${PBX}/firmwares?lang=de`, admin, 390);
    const gigaset = await holdForm(page, N670);
    await gigaset.locator('select').selectOption('2.60.0');
    await gigaset.locator('input[name="reason"]').fill('Test');
    await gigaset.locator('button[data-hold="downgrade"]').click();
    await expect
      .poll(() => page.locator('#error').textContent())
      .toBe('Telefone von gigaset lassen sich nur aktualisieren: ein Downgrade auf 2.60.0 ist nicht möglich');
    expect(await holdOf(N670)).toBeNull();
    expect(await overviewRow(page, N670).locator('.held').textContent()).toBe('');

    const form = await holdForm(page, T54W);
    await form.locator('select').selectOption(OLDER);
    await form.locator('input[name="reason"]').fill('Gespräche brechen ab');
    await form.locator('button[data-hold="downgrade"]').click();
    await expect
      .poll(() => page.locator('#action-result').textContent())
      .toBe(`Yealink T54W: Downgrade auf ${OLDER}: gestartet`);
    await expect
      .poll(() => overviewRow(page, T54W).locator('.held').textContent())
      .toBe(`gehalten bei ${OLDER}`);
    expect(await holdOf(T54W)).toMatchObject({ version: OLDER, who: 'alice', why: 'Gespräche brechen ab' });
    const row = page.locator(`#rollouts tr[data-model="${T54W}"]`);
    await expect.poll(() => row.locator('.version').textContent()).toBe(OLDER);
    const [rollout] = (
      await system.database.db.select().from(rollouts).where(eq(rollouts.pbxId, PBX))
    ).filter((r) => r.status !== 'refused');
    expect(rollout).toMatchObject({ modelId: T54W, targetVersion: OLDER, direction: 'downgrade' });
    // At 390 px the row and its form stay on the screen.
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
    await page.screenshot({ path: screenshotPath('type-downgrade-de-390.png'), fullPage: true });
    // The phones of this test cannot fetch the older file (only its row was stored): the rollout is ended here.
    await system.call('POST', `/api/pbxes/${PBX}/rollouts/${rollout?.id}/cancel`, {});
    expect(errors).toEqual([]);
    await close();
  }, 180_000);

  it('issue 13 fleet rollouts: on the fleet view an operator starts a fleet rollout over the PBXes the filter shows (waves "1, rest"), pauses it ("pausiert") and resumes it; status, wave and each PBX in words; cancelled on the page, it ends as the API has it', async () => {
    const { page, errors, close } = await openPage('/?lang=de&q=fleet13', operator);
    await expect.poll(() => page.locator('#fleet tbody tr').count()).toBe(2);
    await expect.poll(() => page.locator('#fleet-rollouts-section').isVisible()).toBe(true);
    expect(await page.locator('#no-fleet-rollouts').textContent()).toBe('Noch keine Flotten-Rollouts.');
    expect(await page.locator('#fleet-which-shown').textContent()).toBe(
      'die auf dieser Seite gezeigten Anlagen (2)',
    );
    await page.locator('#fleet-start-model').selectOption(T54W);
    await page.locator('#fleet-start-version').fill(NEW);
    await page.locator('#fleet-start-waves').fill('1, rest');
    await page.locator('#fleet-start button[type=submit]').click();
    // Creating it plans the waves and fetches the firmware for them first: it may take a while under load.
    await expect
      .poll(
        async () =>
          `${await page.locator('#fleet-rollout-result').textContent()}${await page.locator('#error').textContent()}`,
        { timeout: 90_000 },
      )
      .toBe(`Yealink T54W → ${NEW}: in 2 Wellen gestartet.`);
    const row = page.locator('#fleet-rollouts tbody tr');
    expect(await row.count()).toBe(1);
    expect(await row.locator('.type').textContent()).toBe(`Yealink T54W → ${NEW}`);
    expect(await row.locator('.wave').textContent()).toBe('Welle 1 von 2');
    expect(await row.locator('.state .status').textContent()).toBe('läuft');
    expect(await row.locator('.fleet-pbxes li[data-pbx="fleet13b"]').textContent()).toBe(
      'fleet13b (Welle 2): wartet',
    );
    const id = await row.getAttribute('data-fleet-rollout');
    const api = await system.call('GET', `/api/fleet-rollouts/${id}`);
    expect(api.body.fleetRollout).toMatchObject({
      who: 'olga',
      wavePbxIds: [['fleet13a'], ['fleet13b']],
    });

    await row.locator('[data-control="pause"]').click();
    await expect.poll(() => row.getAttribute('data-status')).toBe('paused');
    expect(await row.locator('.state .status').textContent()).toBe('pausiert');
    expect(await row.locator('.state .reason').first().textContent()).not.toBe('');
    expect(await row.locator('[data-control="pause"]').isHidden()).toBe(true);
    expect(await row.locator('[data-control="resume"]').textContent()).toBe('Fortsetzen');
    expect((await system.call('GET', `/api/fleet-rollouts/${id}`)).body.fleetRollout.status).toBe('paused');
    await page.screenshot({ path: screenshotPath('fleet-rollout-paused-de.png'), fullPage: true });

    await row.locator('[data-control="resume"]').click();
    await expect.poll(() => row.getAttribute('data-status')).toBe('running');
    expect(await row.locator('.state .status').textContent()).toBe('läuft');
    expect((await system.call('GET', `/api/fleet-rollouts/${id}`)).body.fleetRollout.status).toBe('running');

    // Cancel on the page: the fleet rollout ends `cancelled` (its first wave was waiting for fleet13a's window), and
    // the page shows it as the API has it.
    await row.locator('[data-control="cancel"]').click();
    const end = await until(
      'the fleet rollout to end',
      async () => (await system.call('GET', `/api/fleet-rollouts/${id}`)).body.fleetRollout,
      (f) => !['running', 'paused', 'halted'].includes(f.status),
      120_000,
    );
    expect(end.status).toBe('cancelled');
    await expect.poll(() => row.getAttribute('data-status'), { timeout: 30_000 }).toBe(end.status);
    expect(await row.locator('.state .status').textContent()).toBe(
      { cancelled: 'abgebrochen', failed: 'fehlgeschlagen' }[end.status as string] ?? end.status,
    );
    expect(await row.locator('[data-control]:visible').count()).toBe(0);
    expect(errors).toEqual([]);
    await close();
  }, 400_000);
});
