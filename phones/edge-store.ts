/**
 * The phone rows the edge reads and writes on every phone contact, through group commit (lib/batch.ts): lookups
 * and contact records that arrive while earlier ones are on their way go to Postgres as one statement each. A
 * caller still awaits its own row (a REGISTER is answered, a file served, only once its record is written); at
 * low load every call is a statement of its own, as before. Statements per kind: db/queries/phones.ts.
 */
import type { Db } from '../db/client.ts';
import {
  type EdgePhone,
  type FirmwareFetchPhase,
  findApprovedFirmwares,
  findPhonesByExtension,
  findPhonesByMac,
  type LocalFirmwareRow,
  type RegistrationReport,
  recordFirmwareFetches,
  recordProvisioningFetches,
  recordRegistrations,
} from '../db/queries/phones.ts';
import { Batcher } from '../lib/batch.ts';

type Lookup = { pbxId: string; value: string };
type Registration = RegistrationReport & { phoneId: number };
type ProvisioningFetch = { phoneId: number; userAgent: string | null; version: string | null; at: Date };
type FirmwareFetch = { phoneId: number; phase: FirmwareFetchPhase; file: string; bytes: number; at: Date };

/** A batched lookup by (PBX, value): one statement for all, each caller gets its own row. */
function lookups(
  find: (keys: Lookup[]) => Promise<EdgePhone[]>,
  lookedUp: (p: EdgePhone) => string,
): Batcher<Lookup, EdgePhone | undefined> {
  return new Batcher({
    async run(keys) {
      const rows = await find(keys);
      const byKey = new Map(rows.map((r) => [`${r.pbxId}\0${lookedUp(r)}`, r]));
      return keys.map((k) => byKey.get(`${k.pbxId}\0${k.value}`));
    },
  });
}

export class EdgeStore {
  readonly #byMac: Batcher<Lookup, EdgePhone | undefined>;
  readonly #byExtension: Batcher<Lookup, EdgePhone | undefined>;
  readonly #approvals: Batcher<number, LocalFirmwareRow | undefined>;
  readonly #registrations: Batcher<Registration, void>;
  readonly #provisioning: Batcher<ProvisioningFetch, LocalFirmwareRow | undefined>;
  readonly #firmware: Batcher<FirmwareFetch, void>;

  constructor(db: Db) {
    this.#byMac = lookups(
      (keys) =>
        findPhonesByMac(
          db,
          keys.map((k) => ({ pbxId: k.pbxId, mac: k.value })),
        ),
      (p) => p.mac,
    );
    this.#byExtension = lookups(
      (keys) =>
        findPhonesByExtension(
          db,
          keys.map((k) => ({ pbxId: k.pbxId, extension: k.value })),
        ),
      (p) => p.extension,
    );
    this.#approvals = new Batcher({
      async run(ids) {
        const found = await findApprovedFirmwares(db, ids);
        return ids.map((id) => found.get(id));
      },
    });
    // Writes of one phone never share a statement and keep their order (key = the phone).
    const byPhone = (r: { phoneId: number }) => r.phoneId;
    this.#registrations = new Batcher<Registration, void>({
      key: byPhone,
      run: async (reports) => {
        await recordRegistrations(db, reports);
        return reports.map(() => undefined);
      },
    });
    this.#provisioning = new Batcher<ProvisioningFetch, LocalFirmwareRow | undefined>({
      key: byPhone,
      run: async (reports) => {
        const approvals = await recordProvisioningFetches(db, reports);
        return reports.map((r) => approvals.get(r.phoneId));
      },
    });
    this.#firmware = new Batcher<FirmwareFetch, void>({
      key: byPhone,
      run: async (fetches) => {
        await recordFirmwareFetches(db, fetches);
        return fetches.map(() => undefined);
      },
    });
  }

  phoneByMac(pbxId: string, mac: string): Promise<EdgePhone | undefined> {
    return this.#byMac.add({ pbxId, value: mac.toLowerCase() });
  }

  phoneByExtension(pbxId: string, extension: string): Promise<EdgePhone | undefined> {
    return this.#byExtension.add({ pbxId, value: extension });
  }

  /** findApprovedFirmware. */
  approvedFirmware(phoneId: number): Promise<LocalFirmwareRow | undefined> {
    return this.#approvals.add(phoneId);
  }

  recordRegistration(phoneId: number, report: RegistrationReport): Promise<void> {
    return this.#registrations.add({ ...report, phoneId });
  }

  /** Records the fetch and answers the approval that stands after it (reporting the approved version ends it). */
  recordProvisioningFetch(
    phoneId: number,
    r: Omit<ProvisioningFetch, 'phoneId'>,
  ): Promise<LocalFirmwareRow | undefined> {
    return this.#provisioning.add({ ...r, phoneId });
  }

  recordFirmwareFetch(phoneId: number, r: Omit<FirmwareFetch, 'phoneId'>): Promise<void> {
    return this.#firmware.add({ ...r, phoneId });
  }

  /** Statements sent and calls served, per kind (benchmarks). */
  get stats(): Record<string, { statements: number; items: number }> {
    return {
      byMac: this.#byMac.stats,
      byExtension: this.#byExtension.stats,
      approvals: this.#approvals.stats,
      registrations: this.#registrations.stats,
      provisioning: this.#provisioning.stats,
      firmware: this.#firmware.stats,
    };
  }
}
