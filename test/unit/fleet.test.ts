/**
 * R16: the operator's fleet view as a pure rule (domain/fleet.ts): which types are behind, the next update
 * moment, the filters ("PBXes with T54W below 96.86.0.70", "failed rollouts this week") and the paging.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  FLEET_SORTS,
  type FleetInput,
  type FleetSort,
  fleetPage,
  fleetRows,
  type matchesFleetFilter,
  sortFleet,
} from '../../domain/fleet.ts';
import { registrationState } from '../../domain/registration.ts';
import { nextWeeklyOccurrence } from '../../domain/timing.ts';

const NOW = Date.UTC(2026, 11, 1, 12, 0);
const models = [
  { id: 'yealink-t54w', vendor: 'yealink', model: 'T54W' },
  { id: 'snom-d785', vendor: 'snom', model: 'D785' },
];

function input(over: Partial<FleetInput> = {}): FleetInput {
  return {
    pbxes: [
      {
        id: 'a',
        name: 'Alpha',
        timeZone: 'Europe/Berlin',
        autoDownloadInstall: true,
        updateMoment: { day: 6, minute: 180 },
      },
      {
        id: 'b',
        name: 'Bravo',
        timeZone: 'Asia/Tokyo',
        autoDownloadInstall: false,
        updateMoment: { day: 6, minute: 180 },
      },
      {
        id: 'c',
        name: 'Charlie',
        timeZone: 'America/New_York',
        autoDownloadInstall: true,
        updateMoment: null,
      },
    ],
    models,
    installed: [
      { pbxId: 'a', modelId: 'yealink-t54w', version: '96.86.0.45', phones: 3 },
      { pbxId: 'a', modelId: 'yealink-t54w', version: '96.86.0.70', phones: 2 },
      { pbxId: 'a', modelId: 'yealink-t54w', version: null, phones: 1 },
      { pbxId: 'b', modelId: 'yealink-t54w', version: '96.86.0.70', phones: 4 },
      { pbxId: 'b', modelId: 'snom-d785', version: '10.1.169.12', phones: 1 },
      { pbxId: 'c', modelId: 'snom-d785', version: '10.1.184.15', phones: 2 },
    ],
    localFirmware: [{ pbxId: 'b', modelId: 'snom-d785', version: '10.1.184.15' }],
    offered: [{ modelIds: ['yealink-t54w', 'yealink-t57'], version: '96.86.0.70' }],
    running: [
      {
        pbxId: 'a',
        modelId: 'yealink-t54w',
        rolloutId: 'r1',
        targetVersion: '96.86.0.70',
        total: 3,
        done: 1,
      },
    ],
    failures: [{ pbxId: 'c', rollouts: 2, lastAt: NOW - 3_600_000 }],
    ...over,
  };
}

describe('R16: the fleet view', () => {
  it('a type is behind when a phone reported a version older than the newest stored or offered; unknown ones are counted apart', () => {
    const { rows } = fleetRows(input(), NOW);
    const [a, b, c] = rows;
    expect(a?.typesBehind).toEqual([
      {
        modelId: 'yealink-t54w',
        vendor: 'Yealink',
        model: 'T54W',
        newest: '96.86.0.70',
        phonesBehind: 3,
        oldest: '96.86.0.45',
      },
    ]);
    expect(a).toMatchObject({ phones: 6, phonesUnknown: 1, phonesBehind: 3 });
    // D785: nothing offered for it here, but the PBX stores a newer image than its phone runs.
    expect(b?.typesBehind.map((t) => [t.model, t.newest, t.phonesBehind])).toEqual([
      ['D785', '10.1.184.15', 1],
    ]);
    expect(c?.typesBehind).toEqual([]);
    expect(a?.runningRollouts).toEqual([
      { modelId: 'yealink-t54w', model: 'T54W', rolloutId: 'r1', targetVersion: '96.86.0.70', percent: 33 },
    ]);
    expect(c).toMatchObject({ failedRollouts: 2, lastFailureAt: NOW - 3_600_000 });
  });

  it('R11/R8: the next update moment is the weekly moment in the PBX zone; none without a moment or with R8 off', () => {
    const { rows } = fleetRows(input(), NOW);
    expect(rows[0]?.nextUpdateAt).toBe(nextWeeklyOccurrence({ day: 6, minute: 180 }, 'Europe/Berlin', NOW));
    expect(new Date(rows[0]?.nextUpdateAt ?? 0).toISOString()).toBe('2026-12-06T02:00:00.000Z');
    expect(rows[1]?.nextUpdateAt).toBeNull();
    expect(rows[2]?.nextUpdateAt).toBeNull();
  });

  it('filters: "PBXes with T54W below 96.86.0.70", failed this week, running, behind, automatic, name, zone', () => {
    const ids = (filter: Parameters<typeof matchesFleetFilter>[2]) =>
      fleetPage(input(), NOW, { filter, sort: 'id', order: 'asc', offset: 0, limit: 50 }).rows.map(
        (r) => r.id,
      );
    expect(ids({ below: { modelId: 'yealink-t54w', version: '96.86.0.70' } })).toEqual(['a']);
    expect(ids({ below: { modelId: 'yealink-t54w', version: '96.86.0.71' } })).toEqual(['a', 'b']);
    expect(ids({ modelId: 'yealink-t54w' })).toEqual(['a', 'b']);
    expect(ids({ below: { modelId: 'snom-d785', version: '10.1.184.15' } })).toEqual(['b']);
    expect(ids({ below: { modelId: 'yealink-t31', version: '1' } })).toEqual([]);
    expect(ids({ modelId: 'snom-d785', below: { modelId: 'yealink-t54w', version: '96.86.0.70' } })).toEqual(
      [],
    );
    expect(ids({ failed: true })).toEqual(['c']);
    expect(ids({ failed: false })).toEqual(['a', 'b']);
    expect(ids({ running: true })).toEqual(['a']);
    expect(ids({ behind: true })).toEqual(['a', 'b']);
    expect(ids({ autoDownloadInstall: false })).toEqual(['b']);
    expect(ids({ q: 'BRA' })).toEqual(['b']);
    expect(ids({ q: 'c' })).toEqual(['c']);
    expect(ids({ timeZone: 'Asia/Tokyo' })).toEqual(['b']);
  });

  it('sorts by any key with the PBX id breaking ties; PBXes without a next update moment come last either way', () => {
    const { rows } = fleetRows(input(), NOW);
    expect(sortFleet(rows, 'nextUpdate', 'asc').map((r) => r.id)).toEqual(['a', 'b', 'c']);
    expect(sortFleet(rows, 'nextUpdate', 'desc').map((r) => r.id)).toEqual(['a', 'b', 'c']);
    expect(sortFleet(rows, 'failures', 'desc').map((r) => r.id)).toEqual(['c', 'a', 'b']);
    expect(sortFleet(rows, 'phones', 'desc').map((r) => r.id)).toEqual(['a', 'b', 'c']);
    expect(sortFleet(rows, 'name', 'desc').map((r) => r.id)).toEqual(['c', 'b', 'a']);
  });

  it('pages cover the filtered fleet exactly once, in order, for any sort, order and page size', () => {
    const pbx = fc.record({
      id: fc.stringMatching(/^[a-z][a-z0-9-]{0,8}$/),
      name: fc.string({ maxLength: 8 }),
      timeZone: fc.constantFrom('Europe/Berlin', 'Asia/Tokyo', 'UTC'),
      autoDownloadInstall: fc.boolean(),
      updateMoment: fc.option(
        fc.record({ day: fc.integer({ min: 0, max: 6 }), minute: fc.integer({ min: 0, max: 1439 }) }),
      ),
    });
    fc.assert(
      fc.property(
        fc.uniqueArray(pbx, { selector: (p) => p.id, maxLength: 40 }),
        fc.constantFrom(...FLEET_SORTS),
        fc.constantFrom('asc' as const, 'desc' as const),
        fc.integer({ min: 1, max: 7 }),
        fc.array(
          fc.tuple(
            fc.nat(),
            fc.constantFrom('96.86.0.45', '96.86.0.70', null),
            fc.integer({ min: 1, max: 9 }),
          ),
        ),
        (pbxes, sort: FleetSort, order, limit, phones) => {
          const data = input({
            pbxes,
            installed: phones.flatMap(([i, version, n]) =>
              pbxes.length === 0
                ? []
                : [{ pbxId: pbxes[i % pbxes.length]!.id, modelId: 'yealink-t54w', version, phones: n }],
            ),
            running: [],
            failures: [],
          });
          const all = fleetPage(data, NOW, { filter: {}, sort, order, offset: 0, limit: 1000 });
          expect(all.total).toBe(pbxes.length);
          const paged = [];
          for (let offset = 0; offset < all.total; offset += limit) {
            paged.push(
              ...fleetPage(data, NOW, { filter: {}, sort, order, offset, limit }).rows.map((r) => r.id),
            );
          }
          expect(paged).toEqual(all.rows.map((r) => r.id));
          expect(new Set(paged).size).toBe(pbxes.length);
          const behind = fleetPage(data, NOW, {
            filter: { behind: true },
            sort,
            order,
            offset: 0,
            limit: 1000,
          });
          expect(behind.total).toBe(all.summary.behind);
        },
      ),
    );
  });
});

describe("a phone's registration as the page shows it", () => {
  it('registered while the registration lasts, expired after, unregistered or never contacted otherwise', () => {
    const until = new Date(NOW + 60_000);
    expect(
      registrationState(
        { sipContact: 'sip:p@h', sipRegisteredUntil: until, lastContactAt: new Date(NOW) },
        NOW,
      ),
    ).toBe('registered');
    expect(
      registrationState(
        { sipContact: 'sip:p@h', sipRegisteredUntil: until, lastContactAt: null },
        NOW + 60_000,
      ),
    ).toBe('expired');
    expect(
      registrationState({ sipContact: null, sipRegisteredUntil: null, lastContactAt: new Date(NOW) }, NOW),
    ).toBe('unregistered');
    expect(registrationState({ sipContact: null, sipRegisteredUntil: null, lastContactAt: null }, NOW)).toBe(
      'never',
    );
  });
});
