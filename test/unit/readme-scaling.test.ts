/** Issue 15 defect 7: the README's "Scaling out" block is exactly the commands `npm run rehearsal` runs. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { repoRoot } from '../../lib/config.ts';
import { renderTopology, topology } from '../../scripts/rehearsal/topology.ts';

it('the README shows the rehearsal topology verbatim', () => {
  const dirs = { data: '/x/data', server: '/x/server', cli: '/x/cli/temporal' };
  const readme = readFileSync(join(repoRoot, 'README.md'), 'utf8');
  const block = /<!-- scaling-out:begin -->\n```sh\n([\s\S]*?)\n```\n<!-- scaling-out:end -->/.exec(
    readme,
  )?.[1];
  expect(block).toBe(renderTopology(topology(dirs), dirs));
  for (const v of [
    'FIRMWARE_SERVER_URL',
    'CATALOG_PUBLIC_KEY',
    'IMAGE_FIRMWARE_DIR',
    'PROVISIONING_PUBLIC_URL',
    'SIP_PUBLIC_HOST',
    'LOG_DIR',
  ]) {
    expect(readme).toContain(v);
  }
});
