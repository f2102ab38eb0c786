/**
 * The demo `npm start` sets up (DEMO=0 switches it off): a PBX "demo" in Berlin with 36 phone accounts of all four
 * vendors plus two image-managed Snom M900 bases, created through the real API (so R13 fires for every new type:
 * Temporal shows the trigger workflows checking and downloading), and a simulated fleet speaking the vendors'
 * protocols to the phone edge. Its admin token and the PBX's provisioning secret are kept in .data/demo/demo.json
 * (local demo only) so a second start reuses them.
 */
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createApiToken } from '../api/tokens.ts';
import { connectDb } from '../db/client.ts';
import { getPbx } from '../db/queries/pbxes.ts';
import { VENDOR_OUI } from '../simulator/identity.ts';

export const DEMO_PBX = 'demo';

/** model id → how many phones, and the vendor for MAC prefixes. */
export const DEMO_FLEET: Array<{ model: string; vendor: keyof typeof VENDOR_OUI; count: number }> = [
  { model: 'yealink-t54w', vendor: 'yealink', count: 12 },
  { model: 'yealink-t46u', vendor: 'yealink', count: 6 },
  { model: 'snom-d785', vendor: 'snom', count: 8 },
  { model: 'grandstream-ht802', vendor: 'grandstream', count: 4 },
  { model: 'gigaset-n670', vendor: 'gigaset', count: 4 },
  { model: 'snom-m900', vendor: 'snom', count: 2 },
];

export interface DemoState {
  pbxId: string;
  token: string;
  provisioningPassword: string;
}

async function api<T>(
  apiUrl: string,
  token: string,
  method: string,
  path: string,
  body?: unknown,
): Promise<T> {
  const res = await fetch(new URL(path, apiUrl), {
    method,
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`${method} ${path} → ${res.status} ${text}`);
  return JSON.parse(text) as T;
}

export async function prepareDemo(opts: {
  apiUrl: string;
  databaseUrl: string;
  dataDir: string;
  say: (msg: string) => void;
}): Promise<DemoState> {
  const dir = join(opts.dataDir, 'demo');
  const file = join(dir, 'demo.json');
  const { db, close } = connectDb(opts.databaseUrl, { max: 2 });
  try {
    if (existsSync(file) && (await getPbx(db, DEMO_PBX))) {
      return JSON.parse(readFileSync(file, 'utf8')) as DemoState;
    }
    opts.say('demo: registering PBX "demo" and its phone accounts through the API');
    const { token } = await createApiToken(db, { name: 'demo-admin' });
    // Phone models come from the firmware server's catalog, which the worker syncs at start.
    const wanted = DEMO_FLEET.map((f) => f.model);
    for (let attempt = 0; ; attempt++) {
      const { models } = await api<{ models: Array<{ id: string }> }>(
        opts.apiUrl,
        token,
        'GET',
        '/api/phone-models',
      );
      if (wanted.every((m) => models.some((x) => x.id === m))) break;
      if (attempt >= 120)
        throw new Error(`demo: phone models ${wanted.join(', ')} not known after 60 s (catalog sync?)`);
      await new Promise((r) => setTimeout(r, 500));
    }
    const registered = await api<{ provisioning: { user: string; password: string } }>(
      opts.apiUrl,
      token,
      'POST',
      '/api/pbxes',
      {
        id: DEMO_PBX,
        name: 'Demo PBX (Berlin)',
        timeZone: 'Europe/Berlin',
        softwareVersion: '9.0.1',
      },
    );
    let extension = 101;
    let serial = 1;
    const accounts = DEMO_FLEET.flatMap(({ model, vendor, count }) =>
      Array.from({ length: count }, () => ({
        mac: `${VENDOR_OUI[vendor]}${(0xd00000 + serial++).toString(16)}`,
        model,
        extension: String(extension++),
      })),
    );
    await api(opts.apiUrl, token, 'POST', `/api/pbxes/${DEMO_PBX}/accounts/bulk`, { accounts });
    const state: DemoState = {
      pbxId: DEMO_PBX,
      token,
      provisioningPassword: registered.provisioning.password,
    };
    mkdirSync(dir, { recursive: true });
    writeFileSync(file, `${JSON.stringify(state, null, 2)}\n`);
    chmodSync(file, 0o600);
    return state;
  } finally {
    await close();
  }
}
