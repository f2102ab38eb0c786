/**
 * A PBX as an admin finds it on the Firmwares page, built through the real system (test/support/system.ts): the
 * PBX and its accounts through the API, simulated phones that boot, provision and register over loopback, and
 * (optionally) a real rollout in which some phones fail the way the simulator's failure injection plays them.
 */
import { and, count, eq, gte, isNotNull } from 'drizzle-orm';
import { syncImageFirmware, writeDemoImageFirmware } from '../../activities/image-firmware.ts';
import { phoneAccounts } from '../../db/schema.ts';
import { type Fleet, startFleet } from '../../simulator/fleet.ts';
import type { Failure, SimPhoneSpec } from '../../simulator/types.ts';
import { SIP_TIMERS, type System } from './system.ts';
import { until } from './until.ts';

/** A phone of the site: its account (made through the API) and how the simulated phone behaves. */
export interface SitePhone {
  mac: string;
  /** Catalog model as the simulator plays it. */
  vendor: 'yealink' | 'snom';
  model: 'T54W' | 'T31' | 'D785' | 'M900';
  extension: string;
  version: string;
  failure?: Failure;
  displayName?: string;
}

const MODEL_IDS = { T54W: 'yealink-t54w', T31: 'yealink-t31', D785: 'snom-d785', M900: 'snom-m900' } as const;
/** Yealink common-file codes and Snom model tokens (PHONES.md). */
const PROVISIONING_KEYS = { T54W: '096', T31: '123', D785: 'snomD785', M900: 'snomM900' } as const;

export interface Site {
  pbxId: string;
  fleet: Fleet;
  /** Account ids by MAC. */
  accounts: Map<string, number>;
  /** Switches every phone off and on again (new SIP registrations, no memory of firmware offered before). */
  powerCycle(): Promise<void>;
  close(): Promise<void>;
}

/**
 * Registers the PBX (R8 off: the R13 (c) runs of the first accounts only check, the test drives the rest),
 * creates the accounts through the API, boots the phones and waits until every phone that is not `offline`
 * has registered and reported its version.
 */
export async function startSite(
  system: System,
  options: {
    pbxId: string;
    name: string;
    timeZone: string;
    phones: SitePhone[];
    /** R2: the demo PBX image (Snom M900 and a legacy Yealink) is registered before the accounts. */
    imageFirmware?: boolean;
  },
): Promise<Site> {
  if (options.imageFirmware) {
    await writeDemoImageFirmware(system.deps.config.imageFirmwareDir);
    await syncImageFirmware(system.deps);
  }
  const registered = await system.call('POST', '/api/pbxes', {
    id: options.pbxId,
    name: options.name,
    timeZone: options.timeZone,
  });
  if (registered.status !== 201) throw new Error(`register: ${JSON.stringify(registered.body)}`);
  const off = await system.call('PATCH', `/api/pbxes/${options.pbxId}/settings`, {
    autoDownloadInstall: false,
  });
  if (off.status !== 200) throw new Error(`settings: ${JSON.stringify(off.body)}`);
  const created = await system.call('POST', `/api/pbxes/${options.pbxId}/accounts/bulk`, {
    accounts: options.phones.map((p) => ({
      mac: p.mac,
      model: MODEL_IDS[p.model],
      extension: p.extension,
      ...(p.displayName ? { displayName: p.displayName } : {}),
    })),
  });
  if (created.status !== 201) throw new Error(`accounts: ${JSON.stringify(created.body)}`);
  // The image's copy becomes the PBX's local firmware of its image-managed types (as at a restart).
  if (options.imageFirmware) await syncImageFirmware(system.deps, { pbxId: options.pbxId });
  const byMac = new Map(options.phones.map((p) => [p.mac.replace(/[^0-9a-f]/gi, '').toLowerCase(), p]));
  const accounts = new Map<string, number>();
  const phones: SimPhoneSpec[] = created.body.accounts.map(
    (c: { account: { id: number; mac: string; extension: string }; sipPassword: string }) => {
      const p = byMac.get(c.account.mac) as SitePhone;
      accounts.set(c.account.mac, c.account.id);
      return {
        mac: c.account.mac,
        vendor: p.vendor,
        model: p.model,
        provisioningKey: PROVISIONING_KEYS[p.model],
        extension: c.account.extension,
        sipPassword: c.sipPassword,
        version: p.version,
        failure: p.failure,
      } satisfies SimPhoneSpec;
    },
  );
  const spec = {
    pbxId: options.pbxId,
    provisioning: {
      url: system.edge.provisioningUrlFor(options.pbxId),
      user: registered.body.pbx.provisioningUser,
      password: registered.body.provisioning.password,
    },
    sip: { host: '127.0.0.1', port: system.edge.sipPort, domain: registered.body.pbx.sipDomain },
  };
  const reachable = phones.filter((p) => p.failure !== 'offline').length;
  const boot = async (specs: SimPhoneSpec[]) => {
    const since = new Date();
    const started = await startFleet(
      { ...spec, phones: specs },
      { flashMs: 300, bootSpreadMs: 300, sipTimers: SIP_TIMERS },
    );
    await started.booted;
    await until('every phone that is not offline registered and reported its version', async () => {
      const [row] = await system.database.db
        .select({ n: count() })
        .from(phoneAccounts)
        .where(
          and(
            eq(phoneAccounts.pbxId, options.pbxId),
            isNotNull(phoneAccounts.sipContact),
            isNotNull(phoneAccounts.installedVersion),
            gte(phoneAccounts.lastContactAt, since),
          ),
        );
      return row?.n === reachable;
    });
    return started;
  };
  const site: Site = {
    pbxId: options.pbxId,
    fleet: await boot(phones),
    accounts,
    async powerCycle() {
      // Each phone boots again on the firmware it runs now, remembering nothing of earlier offers.
      const now = phones.map((p) => ({ ...p, version: site.fleet.byMac(p.mac)?.version ?? p.version }));
      await site.fleet.close();
      site.fleet = await boot(now);
    },
    close: () => site.fleet.close(),
  };
  return site;
}
