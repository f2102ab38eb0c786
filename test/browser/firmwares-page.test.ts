/**
 * R15 end to end in real headless Chromium: the admin opens the "Firmwares" page, switches Auto-Update off for a
 * type and presses "Update now" (R7: refused, and the page says so), switches it on again, presses "Update now"
 * and watches the rollout of 60 simulated phones in blocks of 50 (R12) reach 100 %. Every part is real: Postgres,
 * Temporal with the real workflows, the firmware server, the phone edge over loopback SIP/HTTP, simulated phones.
 * The run leaves a screenshot in test-results/.
 */
import { and, count, eq, isNotNull } from 'drizzle-orm';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApiToken } from '../../api/tokens.ts';
import { listJournal } from '../../db/queries/journal.ts';
import { phoneAccounts, rolloutResults, rollouts } from '../../db/schema.ts';
import { type Fleet, startFleet } from '../../simulator/fleet.ts';
import type { SimPhoneSpec } from '../../simulator/types.ts';
import { launchChromium, screenshotPath } from '../support/browser.ts';
import { SIP_TIMERS, type System, startSystem } from '../support/system.ts';
import { until } from '../support/until.ts';

const PBX = 'demo';
const T54W_PHONES = 60;
const OLD = '96.86.0.45';
const NEW = '96.86.0.70';

let system: System;
let browser: Browser;
let fleet: Fleet | undefined;

beforeAll(async () => {
  system = await startSystem();
  browser = await launchChromium();
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await fleet?.close();
  await system?.close();
});

describe('the Firmwares page in real Chromium (R15, R7, R12)', () => {
  it('R7: Update now is refused while Auto-Update is off; with it on the rollout reaches 100 %', async () => {
    // The admin's deployment: a PBX, its phone accounts (through the API), and the phones themselves.
    const registered = await system.call('POST', '/api/pbxes', {
      id: PBX,
      name: 'Demo GmbH',
      timeZone: 'Europe/Berlin',
    });
    expect(registered.status).toBe(201);
    // R8 off: the R13 (c) trigger of the first accounts only checks; the admin drives download and update here.
    expect(
      (await system.call('PATCH', `/api/pbxes/${PBX}/settings`, { autoDownloadInstall: false })).status,
    ).toBe(200);
    const accounts = [
      ...Array.from({ length: T54W_PHONES }, (_, i) => ({
        mac: `80:5e:c0:10:${(i >> 8).toString(16).padStart(2, '0')}:${(i & 255).toString(16).padStart(2, '0')}`,
        model: 'Yealink T54W',
        extension: String(2000 + i),
        displayName: `Desk ${i + 1}`,
      })),
      { mac: '000413200001', model: 'snom-d785', extension: '3001' },
      { mac: '000413200002', model: 'snom-d785', extension: '3002' },
    ];
    const created = await system.call('POST', `/api/pbxes/${PBX}/accounts/bulk`, { accounts });
    expect(created.status).toBe(201);

    const [t54w, d785] = await Promise.all(
      ['yealink-t54w', 'snom-d785'].map(async (id) => {
        const models = (await system.call('GET', '/api/phone-models')).body.models as Array<{ id: string }>;
        return models.find((m) => m.id === id);
      }),
    );
    expect(t54w && d785).toBeTruthy();
    const phones: SimPhoneSpec[] = created.body.accounts.map(
      (c: { account: { mac: string; modelId: string; extension: string }; sipPassword: string }) => {
        const yealink = c.account.modelId === 'yealink-t54w';
        return {
          mac: c.account.mac,
          vendor: yealink ? 'yealink' : 'snom',
          model: yealink ? 'T54W' : 'D785',
          provisioningKey: yealink ? '096' : 'snomD785',
          extension: c.account.extension,
          sipPassword: c.sipPassword,
          version: yealink ? OLD : '10.1.184.15',
        } satisfies SimPhoneSpec;
      },
    );
    fleet = await startFleet(
      {
        pbxId: PBX,
        provisioning: {
          url: system.edge.provisioningUrlFor(PBX),
          user: registered.body.pbx.provisioningUser,
          password: registered.body.provisioning.password,
        },
        sip: { host: '127.0.0.1', port: system.edge.sipPort, domain: registered.body.pbx.sipDomain },
        phones,
      },
      { flashMs: 300, bootSpreadMs: 500, sipTimers: SIP_TIMERS },
    );
    await fleet.booted;
    await until('every phone registered with the API-made credentials and reported its version', async () => {
      const [row] = await system.database.db
        .select({ n: count() })
        .from(phoneAccounts)
        .where(
          and(
            eq(phoneAccounts.pbxId, PBX),
            isNotNull(phoneAccounts.sipContact),
            isNotNull(phoneAccounts.installedVersion),
          ),
        );
      return row?.n === phones.length;
    });

    // The admin of this PBX signs in on the page with a token scoped to it.
    const { token } = await createApiToken(system.database.db, { name: 'alice', pbxId: PBX });
    const page = await browser.newPage({ viewport: { width: 1280, height: 1000 } });
    const pageErrors: string[] = [];
    page.on('pageerror', (e) => pageErrors.push(e.message));
    await page.goto(`${system.url}/pbx/${PBX}/firmwares?lang=en`);
    await page.getByLabel('Admin token').fill(token);
    await page.getByRole('button', { name: 'Sign in' }).click();

    const row = page.locator('#overview tr[data-model="yealink-t54w"]');
    await expect.poll(() => row.locator('.in-use').textContent()).toBe(OLD);
    await expect.poll(() => row.locator('.newest-available').textContent()).toBe(NEW);
    await expect.poll(() => row.locator('.newest-local').textContent()).toBe('');

    // Download now: the firmware comes to the PBX; the overview shows it as newest local.
    await page.getByRole('button', { name: 'Download now' }).click();
    await expect
      .poll(() => page.locator('#action-result').textContent(), { timeout: 20_000 })
      .toContain(`T54W ${NEW}: started`);
    await expect.poll(() => row.locator('.newest-local').textContent(), { timeout: 60_000 }).toBe(NEW);

    // R7: Auto-Update off → Update now is refused for the type, and the page shows why.
    const autoUpdate = page.getByRole('checkbox', { name: 'Auto-Update for T54W' });
    await autoUpdate.uncheck();
    await expect.poll(() => autoUpdate.isEnabled()).toBe(true);
    await page.getByRole('button', { name: 'Update now' }).click();
    // The button's answer needs the lifecycle's Update (seconds under load), not a fixed 1 s.
    await expect
      .poll(() => page.locator('#action-result li.refused').textContent(), { timeout: 20_000 })
      .toBe('T54W: refused – Auto-Update is off for T54W');
    const [none] = await system.database.db
      .select({ n: count() })
      .from(rollouts)
      .where(eq(rollouts.pbxId, PBX));
    expect(none?.n).toBe(0);

    // Auto-Update on → Update now starts the rollout; the page follows it live to 100 %.
    await page.getByRole('checkbox', { name: 'Auto-Update for T54W' }).check();
    await expect
      .poll(() => page.getByRole('checkbox', { name: 'Auto-Update for T54W' }).isEnabled())
      .toBe(true);
    await page.getByRole('button', { name: 'Update now' }).click();
    await expect
      .poll(() => page.locator('#action-result li.started').textContent(), { timeout: 20_000 })
      .toBe(`T54W: started → ${NEW}`);
    const progress = page.locator('#rollouts tr[data-model="yealink-t54w"]');
    await expect
      .poll(() => progress.getAttribute('data-status'), { timeout: 180_000, interval: 500 })
      .toBe('completed');
    await expect
      .poll(() => progress.textContent())
      .toContain(
        `100 % · ${T54W_PHONES} updated · 0 failed · 0 not contacted · 0 skipped — of ${T54W_PHONES} phones`,
      );
    const link = await progress.getByRole('link', { name: 'Open in Temporal UI' }).getAttribute('href');
    expect(link).toContain(
      `/namespaces/default/workflows/${encodeURIComponent(`pbx/${PBX}/rollout/yealink-t54w`)}/`,
    );
    await expect.poll(() => row.locator('.in-use').textContent(), { timeout: 30_000 }).toBe(NEW);
    await page.screenshot({ path: screenshotPath('firmwares-page.png'), fullPage: true });
    expect(pageErrors).toEqual([]);

    // What the page showed is what happened.
    const [run] = await system.database.db.select().from(rollouts).where(eq(rollouts.pbxId, PBX));
    expect(run).toMatchObject({
      status: 'completed',
      total: T54W_PHONES,
      updated: T54W_PHONES,
      failed: 0,
      blocks: 3, // issue 13: a canary of 5, then 50 and 5
      who: 'alice',
    });
    const results = await system.database.db
      .select()
      .from(rolloutResults)
      .where(eq(rolloutResults.rolloutId, run!.id));
    expect(results.filter((r) => r.outcome === 'updated')).toHaveLength(T54W_PHONES);
    const refusals = await listJournal(system.database.db, {
      pbxId: PBX,
      action: 'rollout.refused',
      limit: 5,
    });
    expect(refusals.map((j) => [j.modelId, j.who])).toEqual([['yealink-t54w', 'alice']]);
  }, 300_000);

  it('R15: in German, the start page leads a deployment admin to the PBX; a wrong token is asked for again', async () => {
    const page = await browser.newPage();
    const pageErrors: string[] = [];
    page.on('pageerror', (e) => pageErrors.push(e.message));
    await page.goto(`${system.url}/`, { waitUntil: 'load' });
    await page.evaluate(() => sessionStorage.clear());
    await page.goto(`${system.url}/?lang=de`);
    await page.getByLabel('Admin-Token').fill('pfd_this-token-does-not-exist');
    await page.getByRole('button', { name: 'Anmelden' }).click();
    await expect.poll(() => page.getByLabel('Admin-Token').isVisible()).toBe(true);
    await page.getByLabel('Admin-Token').fill(system.adminToken);
    await page.getByRole('button', { name: 'Anmelden' }).click();
    // One PBX in the deployment: the start page goes straight to its Firmwares page.
    await page.waitForURL(`${system.url}/pbx/${PBX}/firmwares?lang=de`);
    await expect.poll(() => page.getByRole('heading', { name: 'Firmware-Übersicht' }).isVisible()).toBe(true);
    await expect.poll(() => page.getByRole('button', { name: 'Jetzt aktualisieren' }).isVisible()).toBe(true);
    await expect
      .poll(() => page.getByRole('checkbox', { name: 'Automatischer Download und Installation' }).isChecked())
      .toBe(false);
    expect(pageErrors).toEqual([]);
    await page.close();
  });
});
