/**
 * The simulator is an independent witness of the phone edge: it plays phones as the vendors document them, so it
 * must not borrow the edge's understanding of them. No module under simulator/ imports from phones/ (the vendor
 * renderers in phones/provisioning/vendors above all).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { repoRoot } from '../../lib/config.ts';

const IMPORT =
  /(?:^|\n)\s*(?:import|export)\s[^'"]*?from\s+['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/g;

describe('the simulator is an independent witness', () => {
  it('no simulator module imports the phone edge (phones/), vendor modules included', () => {
    const dir = join(repoRoot, 'simulator');
    const offending: string[] = [];
    const files = readdirSync(dir).filter((f) => f.endsWith('.ts'));
    expect(files.length).toBeGreaterThan(5);
    for (const f of files) {
      const text = readFileSync(join(dir, f), 'utf8');
      for (const m of text.matchAll(IMPORT)) {
        const spec = (m[1] ?? m[2]) as string;
        if (!spec.startsWith('.')) continue;
        const target = resolve(dir, spec);
        if (target.startsWith(join(repoRoot, 'phones'))) offending.push(`${f} → ${spec}`);
      }
    }
    expect(offending).toEqual([]);
  });
});
