/** Real headless Chromium (Debian `chromium`) driven by playwright-core, and the app on an ephemeral port. */
import { mkdirSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { serve } from '@hono/node-server';
import { type Browser, chromium } from 'playwright-core';
import { repoRoot } from '../../lib/config.ts';
import { chromiumPath } from '../../scripts/system-packages.ts';

export function launchChromium(): Promise<Browser> {
  // The same lookup `npm test` uses when it makes sure Chromium is installed.
  const executablePath = chromiumPath();
  if (!executablePath)
    throw new Error('Chromium is missing: npm test installs Debian "chromium" (or set CHROMIUM_PATH)');
  return chromium.launch({
    executablePath,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}

/** Serves a fetch handler on 127.0.0.1:<ephemeral>. */
export async function serveOnLoopback(fetch: (req: Request) => Response | Promise<Response>) {
  const server = await new Promise<ReturnType<typeof serve>>((resolve) => {
    const s = serve({ fetch, hostname: '127.0.0.1', port: 0 }, () => resolve(s));
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** Where test runs leave screenshots (gitignored). */
export function screenshotPath(name: string): string {
  const dir = join(repoRoot, 'test-results');
  mkdirSync(dir, { recursive: true });
  return join(dir, name);
}
