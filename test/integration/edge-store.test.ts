/**
 * The phone edge's batched statements (phones/edge-store.ts, db/queries/phones.ts) against a real Postgres: calls
 * made together go out as one statement, and each caller still gets exactly what the single-row statement gave
 * it — its own phone, its own approval (R7/R11), its own registration and download record (R6, R12).
 */
import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findApprovedFirmware, setFirmwareTargets } from '../../db/queries/phones.ts';
import { phoneAccounts } from '../../db/schema.ts';
import { EdgeStore } from '../../phones/edge-store.ts';
import { createTestDatabase, type TestDatabase } from '../support/db.ts';
import {
  approve,
  type EdgeFixture,
  seedFirmware,
  seedModels,
  seedPbx,
  startEdgeFixture,
} from '../support/phone-fixtures.ts';

let t: TestDatabase;
let fx: EdgeFixture;
const PBX = 'batch';
const ids: number[] = [];
const macs = ['805ec0aa0001', '805ec0aa0002', '805ec0aa0003'];

const row = async (id: number) =>
  (
    await t.db.select().from(phoneAccounts).where(eq(phoneAccounts.id, id))
  )[0] as typeof phoneAccounts.$inferSelect;

beforeAll(async () => {
  t = await createTestDatabase();
  fx = await startEdgeFixture(t.db);
  await seedPbx(t.db, PBX);
  await seedModels(t.db);
  await seedFirmware(t.db, fx, {
    pbxId: PBX,
    modelId: 'yealink-t54w',
    version: '96.86.0.70',
    fileName: 'T54W-96.86.0.70.rom',
  });
  const inserted = await t.db
    .insert(phoneAccounts)
    .values(
      macs.map((mac, i) => ({
        pbxId: PBX,
        modelId: 'yealink-t54w',
        mac,
        extension: `30${i}`,
        installedVersion: '96.86.0.45',
        userAgent: 'old UA',
      })),
    )
    .returning({ id: phoneAccounts.id });
  ids.push(...inserted.map((r) => r.id));
});

afterAll(async () => {
  await fx?.close();
  await t?.drop();
});

describe('edge statements batched under load', () => {
  it('R6: lookups made together are one statement, and each caller gets its own phone (or none)', async () => {
    const store = new EdgeStore(t.db);
    const [a, b, unknown, byExtension] = await Promise.all([
      store.phoneByMac(PBX, macs[0] as string),
      store.phoneByMac(PBX, (macs[1] as string).toUpperCase()),
      store.phoneByMac(PBX, '805ec0ffffff'),
      store.phoneByExtension(PBX, '302'),
    ]);
    expect([a?.id, b?.id, unknown, byExtension?.id]).toEqual([ids[0], ids[1], undefined, ids[2]]);
    expect(a).toMatchObject({ vendor: 'yealink', model: 'T54W', installedVersion: '96.86.0.45' });
    expect(typeof a?.id).toBe('number');
    expect(store.stats.byMac).toEqual({ statements: 1, items: 3 });
  });

  it('R7/R11: provisioning fetches written together answer each phone its own approval after its report', async () => {
    const [p1, p2, p3] = ids as [number, number, number];
    await approve(t.db, PBX, [p1, p2], '96.86.0.70');
    // p2's approval has expired (its block was killed): no firmware for it.
    await setFirmwareTargets(t.db, PBX, [p2], {
      version: '96.86.0.70',
      at: new Date(),
      rolloutId: null,
      expiresAt: new Date(Date.now() - 1000),
    });
    const store = new EdgeStore(t.db);
    const at = new Date();
    const [a1, a2, a3] = await Promise.all([
      store.recordProvisioningFetch(p1, { userAgent: 'Yealink SIP-T54W 96.86.0.45', version: null, at }),
      store.recordProvisioningFetch(p2, { userAgent: null, version: null, at }),
      store.recordProvisioningFetch(p3, { userAgent: null, version: '96.86.0.46', at }),
    ]);
    expect(store.stats.provisioning).toEqual({ statements: 1, items: 3 });
    expect(a1).toMatchObject({ version: '96.86.0.70', fileName: 'T54W-96.86.0.70.rom', source: 'download' });
    expect(a1?.storedAt).toBeInstanceOf(Date);
    expect(a1).toEqual(await findApprovedFirmware(t.db, p1));
    expect([a2, a3]).toEqual([undefined, undefined]);
    expect(await row(p1)).toMatchObject({ userAgent: 'Yealink SIP-T54W 96.86.0.45', lastProvisionedAt: at });
    // A null User-Agent keeps the one known; a trusted version is recorded.
    expect(await row(p2)).toMatchObject({ userAgent: 'old UA', installedVersion: '96.86.0.45' });
    expect(await row(p3)).toMatchObject({ installedVersion: '96.86.0.46' });

    // Reporting the approved version ends the approval in the same statement that records it.
    const after = await store.recordProvisioningFetch(p1, { userAgent: null, version: '96.86.0.70', at });
    expect(after).toBeUndefined();
    expect(await row(p1)).toMatchObject({ installedVersion: '96.86.0.70', firmwareTargetVersion: null });
  });

  it('R6: registrations written together keep each phone its contact, and a new Call-ID marks a boot', async () => {
    const [p1, p2] = ids as [number, number];
    const store = new EdgeStore(t.db);
    const t0 = new Date(Date.now() - 10_000);
    const reg = (contact: string, callId: string, at: Date, version: string | null = null) => ({
      contact,
      registeredUntil: new Date(at.getTime() + 3_600_000),
      userAgent: null,
      version,
      callId,
      at,
    });
    await Promise.all([
      store.recordRegistration(p1, reg('sip:p1@127.0.0.1:5001', 'call-1', t0)),
      store.recordRegistration(p2, reg('sip:p2@127.0.0.1:5002', 'call-2', t0, '96.86.0.70')),
    ]);
    expect(store.stats.registrations).toEqual({ statements: 1, items: 2 });
    expect(await row(p1)).toMatchObject({
      sipContact: 'sip:p1@127.0.0.1:5001',
      lastBootAt: t0,
      sipCallId: 'call-1',
    });
    expect(await row(p2)).toMatchObject({
      sipContact: 'sip:p2@127.0.0.1:5002',
      installedVersion: '96.86.0.70',
    });
    // The same phone twice at once: two statements, in order; the re-registration (same Call-ID) is no boot,
    // the one with a new Call-ID is.
    const t1 = new Date(t0.getTime() + 1000);
    const t2 = new Date(t0.getTime() + 2000);
    await Promise.all([
      store.recordRegistration(p1, reg('sip:p1@127.0.0.1:5001', 'call-1', t1)),
      store.recordRegistration(p1, reg('sip:p1@127.0.0.1:5003', 'call-1b', t2)),
    ]);
    expect(await row(p1)).toMatchObject({
      sipContact: 'sip:p1@127.0.0.1:5003',
      sipCallId: 'call-1b',
      lastBootAt: t2,
      lastContactAt: t2,
    });
  });

  it('R12: firmware fetch records of several phones in one statement keep each phase apart', async () => {
    const [p1, p2] = ids as [number, number];
    const store = new EdgeStore(t.db);
    const at = new Date();
    await Promise.all([
      store.recordFirmwareFetch(p1, { phase: 'started', file: 'a.rom', bytes: 0, at }),
      store.recordFirmwareFetch(p2, { phase: 'aborted', file: 'b.rom', bytes: 4096, at }),
    ]);
    await store.recordFirmwareFetch(p1, { phase: 'completed', file: 'a.rom', bytes: 131072, at });
    expect(await row(p1)).toMatchObject({
      firmwareFetchFile: 'a.rom',
      firmwareFetchStartedAt: at,
      firmwareFetchCompletedAt: at,
      firmwareFetchBytes: 131072,
    });
    expect(await row(p2)).toMatchObject({ firmwareFetchAbortedAt: at, firmwareFetchBytes: 4096 });
    expect((await row(p2)).firmwareFetchFile).not.toBe('b.rom');
  });

  it('a value Postgres refuses fails only its own call, not the phones batched with it', async () => {
    const [p1, p2] = ids as [number, number];
    const store = new EdgeStore(t.db);
    const at = new Date();
    const results = await Promise.allSettled([
      store.recordProvisioningFetch(p1, { userAgent: 'fine', version: null, at }),
      store.recordProvisioningFetch(p2, { userAgent: 'nul\u0000byte', version: null, at }),
    ]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected']);
    expect((await row(p1)).userAgent).toBe('fine');
  });
});
