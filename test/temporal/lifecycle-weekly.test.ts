import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { BlockInput, CheckInput, DownloadInput } from '../../activities/contracts.ts';
import { atLocalMinute, toLocal, weekdayOf } from '../../domain/timing.ts';
import { downloadNowUpdate, statusQuery, updateNowUpdate } from '../../workflows/messages.ts';
import { FakePbx } from '../support/fake-pbx.ts';
import { runLifecycle } from '../support/lifecycle.ts';
import { createTimeSkippingEnv } from '../support/temporal.ts';
import { weeklyMomentAfter } from '../support/test-clock.ts';

const TZ = 'Europe/Berlin';
const localMoment = (ms: number, tz = TZ) => {
  const l = toLocal(ms, tz);
  return {
    day: weekdayOf(l.year, l.month, l.day),
    minute: l.hour * 60 + l.minute,
    date: `${l.year}-${l.month}-${l.day}`,
    l,
  };
};
const scheduled = <T>(pbx: FakePbx, name: string) =>
  pbx.callsOf(name).filter((c) => (c.input as { why?: string }).why === 'schedule') as Array<{
    at: number;
    input: T;
  }>;

describe('lifecycle timing under time skipping (R9, R10, R11, R8)', () => {
  // A fresh test server per test: a test that ends mid-workflow must not leave the next one's clock locked.
  let env: TestWorkflowEnvironment;
  let now: number;
  /** Local `minute` that many days after the test server's now, as a weekly moment (never a fixed weekday). */
  const at = (days: number, minute: number, tz = TZ) => weeklyMomentAfter(now, tz, days, minute);
  beforeEach(async () => {
    env = await createTimeSkippingEnv();
    now = await env.currentTimeMs();
  });
  afterEach(async () => {
    await env?.teardown();
  });

  it('R9: the weekly check fires at the stored moment every week for 3 weeks (22 simulated days)', async () => {
    const pbx = new FakePbx('weekly');
    pbx.addPhones('yealink-t54w', 'T54W', 3, '96.86.0.45');
    const weeklyCheck = at(2, 9 * 60 + 15);
    const wallStart = Date.now();
    await runLifecycle(env, pbx, { weeklyCheck }, async () => {
      await env.sleep('22 days');
    });
    const wallSeconds = (Date.now() - wallStart) / 1000;
    const checks = scheduled<CheckInput>(pbx, 'checkFirmware');
    expect(checks.length).toBeGreaterThanOrEqual(3);
    for (const c of checks) expect(localMoment(c.at)).toMatchObject(weeklyCheck);
    for (let i = 1; i < checks.length; i++) {
      const hours = ((checks[i]?.at ?? 0) - (checks[i - 1]?.at ?? 0)) / 3_600_000;
      expect([167, 168, 169]).toContain(Math.round(hours));
    }
    // Not a timing assertion of the product: it proves the server skipped time instead of waiting.
    expect(wallSeconds).toBeLessThan(60);
  });

  it('R9: the check moment is the one stored for the PBX, in the PBX time zone (New York)', async () => {
    const pbx = new FakePbx('nyc');
    pbx.settings.timeZone = 'America/New_York';
    pbx.addPhones('snom-d785', 'D785', 1, '10.1.33.33');
    const weeklyCheck = at(5, 6 * 60, 'America/New_York');
    await runLifecycle(env, pbx, { weeklyCheck }, async () => {
      await env.sleep('15 days');
    });
    const checks = scheduled<CheckInput>(pbx, 'checkFirmware');
    expect(checks.length).toBeGreaterThanOrEqual(2);
    for (const c of checks) expect(localMoment(c.at, 'America/New_York')).toMatchObject(weeklyCheck);
  });

  it('R10: new firmware found by the weekly check is downloaded between 20:00 and 23:00 that same day', async () => {
    const pbx = new FakePbx('evening');
    pbx.addPhones('yealink-t54w', 'T54W', 2, '96.86.0.45');
    pbx.catalog.push({
      releaseId: 'yealink-t5x-96.86.0.70',
      modelIds: ['yealink-t54w'],
      version: '96.86.0.70',
    });
    await runLifecycle(env, pbx, { weeklyCheck: at(1, 8 * 60) }, async () => {
      await env.sleep('8 days');
    });
    const [check] = scheduled<CheckInput>(pbx, 'checkFirmware');
    const downloads = scheduled<DownloadInput>(pbx, 'downloadFirmware');
    expect(check).toBeDefined();
    expect(downloads).toHaveLength(1);
    const d = localMoment(downloads[0]?.at as number);
    expect(d.date).toBe(localMoment(check?.at as number).date);
    expect(d.minute).toBeGreaterThanOrEqual(20 * 60);
    expect(d.minute).toBeLessThan(23 * 60);
    expect(downloads[0]?.input).toMatchObject({
      modelId: 'yealink-t54w',
      releaseId: 'yealink-t5x-96.86.0.70',
    });
    expect(pbx.journal.map((j) => j.action)).toContain('download.scheduled');
  });

  it('R10: a drawn download moment survives continue-as-new unchanged (carried, not re-drawn)', async () => {
    const pbx = new FakePbx('carried');
    pbx.addPhones('yealink-t54w', 'T54W', 1, '96.86.0.45');
    pbx.catalog.push({ releaseId: 'r70', modelIds: ['yealink-t54w'], version: '96.86.0.70' });
    const downloadAt = atLocalMinute(now, TZ, 21 * 60 + 17, 1); // tomorrow 21:17

    await runLifecycle(
      env,
      pbx,
      {
        // Ahead of the two simulated days: a weekly check in between would draw a download moment of its own.
        weeklyCheck: at(4, 60),
        carried: {
          cycle: 4,
          lastWeeklyCheckAt: now,
          pendingDownload: {
            at: downloadAt,
            checkedAt: now,
            items: [{ modelId: 'yealink-t54w', releaseId: 'r70', version: '96.86.0.70' }],
          },
        },
      },
      async (handle) => {
        expect((await handle.query(statusQuery)).pendingDownloadAt).toBe(new Date(downloadAt).toISOString());
        await env.sleep('2 days');
      },
    );
    const downloads = scheduled<DownloadInput>(pbx, 'downloadFirmware');
    expect(downloads).toHaveLength(1);
    expect(Math.abs((downloads[0]?.at as number) - downloadAt)).toBeLessThan(1000);
  });

  it('R11: phones are updated at the weekly moment the admin chose; R12 + issue 13: 120 phones go out as a canary of 5, then blocks of 50, 50, 15', async () => {
    const pbx = new FakePbx('update');
    pbx.addPhones('yealink-t54w', 'T54W', 120, '96.86.0.45');
    pbx.local.set('yealink-t54w', ['96.86.0.70']);
    pbx.settings.updateMoment = at(2, 3 * 60);
    await runLifecycle(env, pbx, { weeklyCheck: at(4, 600) }, async () => {
      await env.sleep('8 days');
    });
    const blocks = pbx.callsOf('updatePhoneBlock') as Array<{ at: number; input: BlockInput }>;
    expect(blocks.map((b) => b.input.phoneIds.length)).toEqual([5, 50, 50, 15]);
    expect(localMoment(blocks[0]?.at as number)).toMatchObject(pbx.settings.updateMoment);
    // One block after another: each starts only after the previous one was recorded.
    const order = pbx.calls.map((c) => c.name).filter((n) => n === 'updatePhoneBlock' || n === 'recordBlock');
    expect(order).toEqual(Array(4).fill(['updatePhoneBlock', 'recordBlock']).flat());
    expect(new Set(blocks.flatMap((b) => b.input.phoneIds)).size).toBe(120);
    expect([...pbx.phones.values()].every((p) => p.version === '96.86.0.70')).toBe(true);
    expect(pbx.callsOf('finishRollout')[0]?.input).toMatchObject({ why: 'schedule' });
    expect([...pbx.rollouts.values()].map((r) => r.status)).toEqual(['completed']);
  });

  it('R8: switched off, the weekly check still runs but nothing is downloaded or installed automatically; manual buttons still work', async () => {
    const pbx = new FakePbx('switch-off');
    pbx.settings.autoDownloadInstall = false;
    pbx.settings.updateMoment = at(3, 2 * 60);
    pbx.addPhones('yealink-t54w', 'T54W', 5, '96.86.0.45');
    pbx.catalog.push({ releaseId: 'r70', modelIds: ['yealink-t54w'], version: '96.86.0.70' });
    await runLifecycle(env, pbx, { weeklyCheck: at(1, 9 * 60) }, async (handle) => {
      await env.sleep('8 days');
      expect(scheduled(pbx, 'checkFirmware').length).toBeGreaterThanOrEqual(1);
      expect(pbx.callsOf('downloadFirmware')).toHaveLength(0);
      expect(pbx.callsOf('updatePhoneBlock')).toHaveLength(0);
      const status = await handle.query(statusQuery);
      expect(status.lastCheck?.types[0]).toMatchObject({
        newestAvailable: '96.86.0.70',
        needsDownload: true,
      });
      expect(pbx.journal.map((j) => j.action)).toEqual(
        expect.arrayContaining(['download.skipped', 'update.skipped']),
      );
      // Nothing was even scheduled: no evening download is pending, none was journaled as scheduled.
      expect(pbx.journal.map((j) => j.action)).not.toContain('download.scheduled');
      expect(status.pendingDownloadAt).toBeNull();

      const dl = await handle.executeUpdate(downloadNowUpdate, { args: [{ who: 'alice' }] });
      expect(dl.started).toEqual([{ modelId: 'yealink-t54w', model: 'T54W', version: '96.86.0.70' }]);
      await env.sleep('1 minute');
      expect(pbx.callsOf('downloadFirmware')).toHaveLength(1);
      const up = await handle.executeUpdate(updateNowUpdate, { args: [{ who: 'alice' }] });
      expect(up.decisions[0]).toMatchObject({ status: 'started', targetVersion: '96.86.0.70', phones: 5 });
      await env.sleep('1 minute');
    });
    expect(pbx.callsOf('updatePhoneBlock')).toHaveLength(1);
  });
});
