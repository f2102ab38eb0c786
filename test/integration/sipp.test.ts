/**
 * SIPp (Debian sip-tester), an independent SIP implementation, as the phone:
 *  - for each vendor, the phone's provisioning file is fetched and read the way that phone reads it, and SIPp
 *    registers with exactly the credentials, domain and server found in it (issue 10 defect 2: a provisioned
 *    phone must be able to register);
 *  - a block update against SIPp phones (R12): one registers, answers the check-sync NOTIFY (a SIPp UAS on its
 *    registered contact), fetches provisioning and firmware the Yealink way and registers again with the new
 *    version → updated; one registers and never answers → unreachable, and the block still completes.
 */
import { spawn } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { join } from 'node:path';
import { MockActivityEnvironment } from '@temporalio/testing';
import { DefaultLogger } from '@temporalio/worker';
import { eq } from 'drizzle-orm';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BlockResult } from '../../activities/contracts.ts';
import { createBlockUpdateActivities } from '../../activities/update-block.ts';
import { phoneAccounts } from '../../db/schema.ts';
import { repoRoot } from '../../lib/config.ts';
import { sippPath } from '../../scripts/system-packages.ts';
import { createSimulatedFleet, type SimulatedFleetAccounts } from '../../simulator/accounts.ts';
import { versionOfImage } from '../../simulator/firmware-image.ts';
import { cfgValue, findAll, findFirst, parseXml, parseYealinkCfg } from '../../simulator/formats.ts';
import { httpUserAgent, sipUserAgent } from '../../simulator/identity.ts';
import { createTestDatabase, type TestDatabase } from '../support/db.ts';
import {
  type EdgeFixture,
  openTestRollout,
  seedFirmware,
  seedModels,
  seedPbx,
  startEdgeFixture,
} from '../support/phone-fixtures.ts';

const SCENARIOS = join(repoRoot, 'test/fixtures/sipp');

interface Credentials {
  user: string;
  authUser: string;
  password: string;
  domain: string;
  server: { host: string; port: number };
}

function sipp(
  args: string[],
  timeoutS = 20,
): { done: Promise<{ code: number | null; output: string }>; kill(): void } {
  const bin = sippPath();
  if (!bin)
    throw new Error('sipp is missing: npm test installs Debian sip-tester (scripts/system-packages.ts)');
  const child = spawn(bin, [...args, '-nostdin', '-m', '1', '-timeout', `${timeoutS}s`, '-timeout_error'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (d) => {
    output += String(d);
  });
  child.stderr.on('data', (d) => {
    output += String(d);
  });
  return {
    done: new Promise((resolve) =>
      child.on('exit', (code) => resolve({ code, output: output.slice(-2000) })),
    ),
    kill: () => child.kill('SIGKILL'),
  };
}

/** REGISTER with digest from a fixed local port, with the credentials given; resolves with SIPp's exit code. */
async function sippRegister(c: Credentials, localPort: number, ua: string) {
  const run = sipp([
    `${c.server.host}:${c.server.port}`,
    '-sf',
    join(SCENARIOS, 'register.xml'),
    '-i',
    '127.0.0.1',
    '-p',
    String(localPort),
    '-au',
    c.authUser,
    '-ap',
    c.password,
    '-key',
    'aor_user',
    c.user,
    '-key',
    'domain',
    c.domain,
    '-key',
    'ua',
    ua,
    '-key',
    'expires',
    '300',
  ]);
  return run.done;
}

async function freeUdpPort(): Promise<number> {
  const s = createSocket('udp4');
  await new Promise<void>((r) => s.bind(0, '127.0.0.1', () => r()));
  const port = s.address().port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

describe('SIPp as the phone', () => {
  let t: TestDatabase;
  let fx: EdgeFixture;
  let pbx: Awaited<ReturnType<typeof seedPbx>>;
  let fleet: SimulatedFleetAccounts;
  let base: string;
  const auth = () =>
    `Basic ${Buffer.from(`${pbx.provisioningUser}:${pbx.provisioningPassword}`).toString('base64')}`;
  const getText = async (url: string, ua: string) => {
    const res = await request(url, { headers: { authorization: auth(), 'user-agent': ua } });
    expect(res.statusCode, url).toBe(200);
    return res.body.text();
  };

  beforeAll(async () => {
    t = await createTestDatabase();
    fx = await startEdgeFixture(t.db, { t1Ms: 100, t2Ms: 800 });
    pbx = await seedPbx(t.db, 'sipp');
    await seedModels(t.db);
    fleet = await createSimulatedFleet(t.db, {
      pbxId: 'sipp',
      models: { 'yealink-t54w': 3, 'snom-d785': 1, 'grandstream-ht802': 1, 'gigaset-n670': 1 },
    });
    base = fx.edge.provisioningUrlFor('sipp');
  });
  afterAll(async () => {
    await fx?.close();
    await t?.drop();
  });

  /** The SIP line of a phone, read from its provisioning file the way that vendor's phone reads it. */
  async function credentialsFromFile(p: SimulatedFleetAccounts['phones'][number]): Promise<Credentials> {
    const ua = httpUserAgent(p, p.version);
    switch (p.vendor) {
      case 'yealink': {
        const cfg = parseYealinkCfg(await getText(`${base}${p.mac}.cfg`, ua));
        const v = (k: string) => cfgValue(cfg, k) as string;
        return {
          user: v('account.1.user_name'),
          authUser: v('account.1.auth_name'),
          password: v('account.1.password'),
          domain: v('account.1.sip_server.1.address'),
          server: { host: v('account.1.outbound_host'), port: Number(v('account.1.outbound_port')) },
        };
      }
      case 'snom': {
        const doc = parseXml(await getText(`${base}${p.mac.toUpperCase()}.xml`, ua));
        const s = new Map(findFirst(doc, 'phone-settings')!.children.map((c) => [c.name, c.text]));
        const [host, port] = s.get('user_outbound')!.split(':');
        return {
          user: s.get('user_name')!,
          authUser: s.get('user_pname')!,
          password: s.get('user_pass')!,
          domain: s.get('user_host')!,
          server: { host: host!, port: Number(port) },
        };
      }
      case 'grandstream': {
        const doc = parseXml(await getText(`${base}cfg${p.mac}.xml`, ua));
        const v = new Map(findFirst(doc, 'config')!.children.map((c) => [c.name, c.text]));
        const [host, port] = v.get('P48')!.split(':');
        return {
          user: v.get('P35')!,
          authUser: v.get('P36')!,
          password: v.get('P34')!,
          domain: v.get('P47')!,
          server: { host: host!, port: Number(port) },
        };
      }
      case 'gigaset': {
        const doc = parseXml(await getText(`${base}${p.mac.toUpperCase()}.xml`, ua));
        const v = new Map(findAll(doc, 'param').map((e) => [e.attrs.name!, e.attrs.value ?? '']));
        const provider = v.get('SipAccount.00001.ProviderId');
        return {
          user: v.get('SipAccount.00001.UserName')!,
          authUser: v.get('SipAccount.00001.AuthName')!,
          password: v.get('SipAccount.00001.AuthPassword')!,
          domain: v.get(`SipProvider.${provider}.Domain`)!,
          server: {
            host: v.get(`SipProvider.${provider}.ProxyServerAddress`)!,
            port: Number(v.get(`SipProvider.${provider}.ProxyServerPort`)),
          },
        };
      }
    }
  }

  it.each(['yealink-t54w', 'snom-d785', 'grandstream-ht802', 'gigaset-n670'])(
    'issue 10 defect 2: SIPp registers with exactly the credentials read from the %s provisioning file',
    async (modelId) => {
      const phone = fleet.phones.find((p) => p.modelId === modelId)!;
      const creds = await credentialsFromFile(phone);
      expect(creds.password).toBe(phone.sipPassword);
      const port = await freeUdpPort();
      const { code, output } = await sippRegister(creds, port, sipUserAgent(phone, phone.version));
      expect(code, output).toBe(0);
      const [row] = await t.db.select().from(phoneAccounts).where(eq(phoneAccounts.id, phone.id));
      expect(row?.sipContact).toBe(`sip:${creds.user}@127.0.0.1:${port}`);
      expect(row?.installedVersion).toBe(phone.version);
    },
  );

  it('SIPp with a password other than the file says is refused (the test can fail)', async () => {
    const phone = fleet.phones.find((p) => p.modelId === 'yealink-t54w')!;
    const creds = await credentialsFromFile(phone);
    const { code } = await sippRegister(
      { ...creds, password: `${creds.password}x` },
      await freeUdpPort(),
      'x',
    );
    expect(code).not.toBe(0);
  });

  it('R12: a block updates a SIPp phone that answers the NOTIFY and marks a silent one unreachable', async () => {
    const target = { version: '96.86.0.70', fileName: 'T54W(T57W,T53W,T53,T53C,T54,T57)-96.86.0.70.rom' };
    await seedFirmware(t.db, fx, { pbxId: 'sipp', modelId: 'yealink-t54w', ...target });
    const [answering, silent] = fleet.phones.filter((p) => p.modelId === 'yealink-t54w').slice(1);
    const answeringCreds = await credentialsFromFile(answering!);
    const port = await freeUdpPort();
    expect(
      (await sippRegister(answeringCreds, port, sipUserAgent(answering!, answering!.version))).code,
    ).toBe(0);
    const silentCreds = await credentialsFromFile(silent!);
    expect(
      (await sippRegister(silentCreds, await freeUdpPort(), sipUserAgent(silent!, silent!.version))).code,
    ).toBe(0);

    // The phone now listens on its registered contact for the NOTIFY.
    const uas = sipp(
      ['-sf', join(SCENARIOS, 'answer-notify.xml'), '-i', '127.0.0.1', '-p', String(port)],
      30,
    );
    await new Promise((r) => setTimeout(r, 500));
    const env = new MockActivityEnvironment({}, { logger: new DefaultLogger('ERROR') });
    const rolloutId = await openTestRollout(t.db, {
      pbxId: 'sipp',
      modelId: 'yealink-t54w',
      targetVersion: target.version,
    });
    const block = env.run(createBlockUpdateActivities(fx.deps, fx.edge).updatePhoneBlock, {
      pbxId: 'sipp',
      modelId: 'yealink-t54w',
      targetVersion: target.version,
      phoneIds: [answering!.id, silent!.id],
      rolloutId,
      block: 0,
      why: 'manual' as const,
      who: 'alice',
      timeoutMs: 20_000,
    }) as Promise<BlockResult>;
    try {
      const notified = await uas.done;
      expect(notified.code, notified.output).toBe(0);

      // What a Yealink does after check-sync: the common file, its own file, the firmware it names.
      const ua = httpUserAgent(answering!, answering!.version);
      await getText(`${base}y000000000096.cfg`, ua);
      const cfg = parseYealinkCfg(await getText(`${base}${answering!.mac}.cfg`, ua));
      const url = cfgValue(cfg, 'static.firmware.url');
      expect(url).toBe(`${base}firmware/${answering!.mac}/${encodeURIComponent(target.fileName)}`);
      const image = await request(url!, { headers: { authorization: auth(), 'user-agent': ua } });
      expect(image.statusCode).toBe(200);
      expect(versionOfImage(Buffer.from(await image.body.arrayBuffer()))).toBe(target.version);
      // It reboots on the new version and registers again.
      const back = await sippRegister(answeringCreds, port, sipUserAgent(answering!, target.version));
      expect(back.code, back.output).toBe(0);

      const { results } = await block;
      const byId = new Map(results.map((r) => [r.phoneId, r]));
      expect(byId.get(answering!.id)).toMatchObject({ outcome: 'updated', reportedVersion: target.version });
      expect(byId.get(silent!.id)).toMatchObject({ outcome: 'unreachable' });
      expect(byId.get(silent!.id)?.detail).toMatch(/NOTIFY unanswered/);
    } finally {
      uas.kill();
    }
  }, 60_000);
});
