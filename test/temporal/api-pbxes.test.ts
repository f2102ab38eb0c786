import { eq } from 'drizzle-orm';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureLifecycles } from '../../api/lifecycle-client.ts';
import { presentMoment } from '../../api/pbx-registration.ts';
import { listJournal } from '../../db/queries/journal.ts';
import { apiTokens, pbxes } from '../../db/schema.ts';
import { hashToken, verifySecret } from '../../lib/secrets.ts';
import { type ApiHarness, type CallResult, createApiHarness } from '../support/api.ts';
import { lifecycleStubBundle, stubReceived } from '../support/lifecycle-stub.ts';
import { until } from '../support/until.ts';

let h: ApiHarness;
let admin: string;

beforeAll(async () => {
  h = await createApiHarness({ workflowBundle: await lifecycleStubBundle() });
  admin = await h.token('alice');
});
afterAll(async () => {
  await h?.close();
});

describe('admin auth (R16)', () => {
  it('every admin route needs a bearer token; /health does not', async () => {
    const missing = await h.call('GET', '/api/pbxes');
    expect(missing.status).toBe(401);
    expect(missing.headers.get('www-authenticate')).toMatch(/^Bearer/);
    expect(missing.body.field).toBe('authorization');
    expect((await h.call('GET', '/api/pbxes', { token: 'pfd_not-a-real-token-at-all' })).status).toBe(401);
    expect(
      (await h.call('GET', '/api/pbxes', { headers: { authorization: `Basic ${btoa('a:b')}` } })).status,
    ).toBe(401);
    expect((await h.call('GET', '/health')).status).toBe(200);
  });

  it('tokens are stored hashed; a revoked token stops working within API_ANSWER_CACHE_MS', async () => {
    const token = await h.token('bob');
    const [row] = await h.database.db.select().from(apiTokens).where(eq(apiTokens.name, 'bob'));
    expect(row?.tokenHash).toBe(hashToken(token));
    expect(JSON.stringify(row)).not.toContain(token);
    expect((await h.call('GET', '/api/pbxes', { token })).status).toBe(200);
    await h.database.db.update(apiTokens).set({ revokedAt: new Date() }).where(eq(apiTokens.name, 'bob'));
    // The API keeps a live token's lookup for at most API_ANSWER_CACHE_MS (1 s by default, issue 14).
    await expect
      .poll(async () => (await h.call('GET', '/api/pbxes', { token })).status, { timeout: 5_000 })
      .toBe(401);
  });
});

describe('register a PBX (R9, R11, R16)', () => {
  it('R9: draws the weekly check moment once, stores it, starts the lifecycle workflow with it', async () => {
    const res = await h.call('POST', '/api/pbxes', {
      token: admin,
      json: { name: 'ACME Head Office', timeZone: 'Europe/Berlin', softwareVersion: '8.1.0.12' },
    });
    expect(res.status).toBe(201);
    expect(res.body.pbx).toMatchObject({
      id: 'acme-head-office',
      name: 'ACME Head Office',
      timeZone: 'Europe/Berlin',
      softwareVersion: '8.1.0.12',
      sipDomain: 'acme-head-office.pbx.local',
      autoDownloadInstall: true,
    });
    const [row] = await h.database.db.select().from(pbxes).where(eq(pbxes.id, 'acme-head-office'));
    expect(row!.weeklyCheckDay).toBeGreaterThanOrEqual(0);
    expect(row!.weeklyCheckDay).toBeLessThanOrEqual(6);
    expect(row!.weeklyCheckMinute).toBeLessThan(18 * 60);
    // R11: the default update moment, drawn with it: the night after the weekly check, 01:00–04:59.
    expect(row!.updateDay).toBe((row!.weeklyCheckDay + 1) % 7);
    expect(row!.updateMinute).toBeGreaterThanOrEqual(60);
    expect(row!.updateMinute).toBeLessThan(300);
    expect(res.body.pbx.updateMoment).toEqual(
      presentMoment({ day: row!.updateDay as number, minute: row!.updateMinute as number }),
    );
    const { args } = await stubReceived(h, 'acme-head-office');
    expect(args).toEqual({
      pbxId: 'acme-head-office',
      queues: { downloads: h.config.taskQueues.downloads, phones: h.config.taskQueues.phones },
      weeklyCheck: { day: row!.weeklyCheckDay, minute: row!.weeklyCheckMinute },
    });
    // The provisioning secret is shown once and stored only as a hash.
    expect(res.body.provisioning.user).toBe('acme-head-office');
    expect(row!.provisioningSecretHash).not.toContain(res.body.provisioning.password);
    expect(await verifySecret(res.body.provisioning.password, row!.provisioningSecretHash)).toBe(true);
    const journal = await listJournal(h.database.db, { pbxId: 'acme-head-office', limit: 10 });
    expect(journal.map((j) => [j.action, j.who])).toEqual([['pbx.registered', 'alice']]);
  });

  it('R16: a PBX at a site of its own gets its phone edge task queue into the workflow', async () => {
    const res = await h.call('POST', '/api/pbxes', {
      token: admin,
      json: {
        id: 'vienna-site',
        name: 'Vienna site',
        timeZone: 'Europe/Vienna',
        phonesTaskQueue: 'firmware-phones-vienna',
      },
    });
    expect(res.status).toBe(201);
    expect(res.body.pbx.phonesTaskQueue).toBe('firmware-phones-vienna');
    const { args } = await stubReceived(h, 'vienna-site');
    expect(args.queues).toEqual({
      downloads: h.config.taskQueues.downloads,
      phones: 'firmware-phones-vienna',
    });
    const bad = await h.call('POST', '/api/pbxes', {
      token: admin,
      json: { id: 'bad-queue', name: 'Bad', timeZone: 'Europe/Vienna', phonesTaskQueue: 'no spaces allowed' },
    });
    expect(bad.status).toBe(400);
    expect(bad.body.field).toBe('phonesTaskQueue');
  });

  it('R11: every new PBX draws its own default update moment, so PBXes do not all update at the same minute', async () => {
    const moments = new Set<string>();
    for (let i = 0; i < 12; i++) {
      const res = await h.call('POST', '/api/pbxes', {
        token: admin,
        json: { id: `spread-${i}`, name: `Spread ${i}`, timeZone: 'Europe/Berlin' },
      });
      expect(res.status).toBe(201);
      const [row] = await h.database.db
        .select()
        .from(pbxes)
        .where(eq(pbxes.id, `spread-${i}`));
      expect(row!.updateDay).toBe((row!.weeklyCheckDay + 1) % 7);
      expect(row!.updateMinute).toBeGreaterThanOrEqual(60);
      expect(row!.updateMinute).toBeLessThan(300);
      moments.add(`${row!.updateDay}/${row!.updateMinute}`);
      const journal = await listJournal(h.database.db, { pbxId: `spread-${i}`, limit: 1 });
      expect(journal[0]?.details).toMatchObject({ updateMoment: res.body.pbx.updateMoment });
    }
    // 1,680 possible moments: twelve PBXes sharing one would take a broken draw.
    expect(moments.size).toBeGreaterThan(6);
  });

  it('R16: GET /api/pbxes is paged in id order and filtered by id or name in the database', async () => {
    const ids: string[] = [];
    let after: string | null = null;
    do {
      const page: CallResult = await h.call('GET', `/api/pbxes?limit=5${after ? `&after=${after}` : ''}`, {
        token: admin,
      });
      expect(page.status).toBe(200);
      expect(page.body.pbxes.length).toBeLessThanOrEqual(5);
      ids.push(...page.body.pbxes.map((p: { id: string }) => p.id));
      after = page.body.nextAfter;
    } while (after);
    const stored = (await h.database.db.select({ id: pbxes.id }).from(pbxes)).map((r) => r.id).sort();
    expect(ids).toEqual(stored);
    const spread = await h.call('GET', '/api/pbxes?q=SPREAD', { token: admin });
    expect(spread.body.pbxes.map((p: { id: string }) => p.id)).toEqual(
      Array.from({ length: 12 }, (_, i) => `spread-${i}`).sort(),
    );
    expect(spread.body.nextAfter).toBeNull();
    const byName = await h.call('GET', '/api/pbxes?q=head%20office', { token: admin });
    expect(byName.body.pbxes.map((p: { id: string }) => p.id)).toEqual(['acme-head-office']);
    // LIKE's wildcards are plain text here.
    expect((await h.call('GET', '/api/pbxes?q=%25', { token: admin })).body.pbxes).toEqual([]);
    for (const bad of ['limit=0', 'limit=1001', 'after=NOT_AN_ID', 'q=']) {
      const res = await h.call('GET', `/api/pbxes?${bad}`, { token: admin });
      expect(res.status, bad).toBe(400);
    }
  });

  it('R9: the weekly check moment cannot be changed through any route', async () => {
    const [before] = await h.database.db.select().from(pbxes).where(eq(pbxes.id, 'acme-head-office'));
    const res = await h.call('PATCH', '/api/pbxes/acme-head-office/settings', {
      token: admin,
      json: { weeklyCheck: { day: 'monday', time: '01:00' } },
    });
    expect(res.status).toBe(400);
    expect(res.body.field).toBe('weeklyCheck');
    const again = await h.call('POST', '/api/pbxes', {
      token: admin,
      json: { id: 'acme-head-office', name: 'again', timeZone: 'Europe/Berlin' },
    });
    expect(again.status).toBe(409);
    const [after] = await h.database.db.select().from(pbxes).where(eq(pbxes.id, 'acme-head-office'));
    expect([after!.weeklyCheckDay, after!.weeklyCheckMinute]).toEqual([
      before!.weeklyCheckDay,
      before!.weeklyCheckMinute,
    ]);
  });

  it('registering needs a deployment-wide token', async () => {
    const scoped = await h.token('carol', 'acme-head-office');
    const res = await h.call('POST', '/api/pbxes', {
      token: scoped,
      json: { id: 'other', name: 'Other', timeZone: 'Europe/Berlin' },
    });
    expect(res.status).toBe(403);
    expect(await h.database.db.select().from(pbxes).where(eq(pbxes.id, 'other'))).toEqual([]);
  });
});

describe('the Firmwares page (R15) and the API description', () => {
  it('R15: serves the page in English and German without a token, holding no tenant data', async () => {
    const en = await h.app.request('/pbx/acme-head-office/firmwares', {
      headers: { 'accept-language': 'en-US' },
    });
    expect(en.status).toBe(200);
    expect(en.headers.get('content-security-policy')).toContain("script-src 'self'");
    const enHtml = await en.text();
    for (const label of [
      'Firmware overview',
      'Firmware in use',
      'Newest local firmware',
      'Check now',
      'Update now',
    ]) {
      expect(enHtml).toContain(label);
    }
    expect(enHtml).not.toContain('ACME Head Office');
    const de = await (
      await h.app.request('/pbx/acme-head-office/firmwares', {
        headers: { 'accept-language': 'de-DE,de;q=0.9' },
      })
    ).text();
    for (const label of [
      'Firmware-Übersicht',
      'Hersteller',
      'Verwendete FW',
      'Neueste verfügbare FW',
      'Automatischer Download und Installation',
      'Jetzt prüfen',
      'Jetzt herunterladen',
      'Jetzt aktualisieren',
    ]) {
      expect(de).toContain(label);
    }
    const script = await h.app.request('/assets/firmwares.js');
    expect(script.headers.get('content-type')).toContain('text/javascript');
    expect(await script.text()).toContain("from './client.js'");
    // The token goes as a bearer header (client.js, shared by the Firmwares page and the fleet view).
    expect(await (await h.app.request('/assets/client.js')).text()).toContain('Bearer');
    expect((await h.app.request('/assets/secrets.js')).status).toBe(404);
    expect((await h.app.request('/pbx/NOT_AN_ID/firmwares')).status).toBe(404);
  });

  it('serves the OpenAPI document with the bearer scheme on every admin route', async () => {
    const res = await h.call('GET', '/openapi.json');
    expect(res.status).toBe(200);
    expect(res.body.components.securitySchemes.bearer).toMatchObject({ type: 'http', scheme: 'bearer' });
    const operations = Object.values(
      res.body.paths as Record<string, Record<string, { security?: unknown[] }>>,
    ).flatMap((ops) => Object.values(ops));
    expect(operations.length).toBeGreaterThanOrEqual(20);
    for (const op of operations) expect(op.security).toEqual([{ bearer: [] }]);
  });
});

describe('every PBX has its lifecycle workflow (R16)', () => {
  it('ensureLifecycles starts missing workflows with the stored moment and leaves running ones alone', async () => {
    await h.database.db.insert(pbxes).values({
      id: 'restored',
      name: 'Restored from a dump',
      timeZone: 'Asia/Tokyo',
      weeklyCheckDay: 2,
      weeklyCheckMinute: 600,
      provisioningUser: 'restored',
      provisioningSecretHash: 'scrypt$x$y',
      sipDomain: 'restored.pbx.local',
    });
    const running = await h.env.client.workflow.getHandle('pbx/acme-head-office').describe();
    const logger = pino({ level: 'silent' });
    const all = (await h.database.db.select().from(pbxes)).length;
    const first = await ensureLifecycles(h.database.db, h.env.client, h.config, logger);
    expect(first.pbxes).toBe(all);
    expect(first.started).toBeGreaterThanOrEqual(1); // at least the restored one
    // Once Temporal's visibility shows them running, a start (the next API start) starts nothing.
    const again = await until(
      'every lifecycle workflow listed as running',
      () => ensureLifecycles(h.database.db, h.env.client, h.config, logger),
      (r) => r.started === 0,
      30_000,
    );
    expect(again).toEqual({ pbxes: all, started: 0, running: all });
    const { args } = await stubReceived(h, 'restored');
    expect(args.weeklyCheck).toEqual({ day: 2, minute: 600 });
    const after = await h.env.client.workflow.getHandle('pbx/acme-head-office').describe();
    expect(after.runId).toBe(running.runId);
    const restored = await h.env.client.workflow.getHandle('pbx/restored').describe();
    expect(restored.status.name).toBe('RUNNING');
  });
});
