/**
 * R6 against public User-Agent strings (test/fixtures/user-agents/corpus.json): every string with its source, as
 * phones of the four vendors send them in HTTP provisioning requests and SIP REGISTERs. A phone whose version is
 * never learned stays "not yet contacted" and is never updated, so each string must give the vendor, a model the
 * catalog entry accepts, the version and the MAC the string carries.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { matchesModel, parseUserAgent, trustedVersion } from '../../domain/user-agent.ts';
import { SEED_MODELS } from '../../firmware-server/seed.ts';

interface CorpusEntry {
  ua: string;
  channel: 'http' | 'sip';
  vendor: string;
  model: string | null;
  catalogModel?: string;
  version: string | null;
  mac: string | null;
  kind: 'captured' | 'format';
  source: string;
}

const corpus = JSON.parse(
  readFileSync(new URL('../fixtures/user-agents/corpus.json', import.meta.url), 'utf8'),
) as { entries: CorpusEntry[] };

describe('R6: the public User-Agent corpus', () => {
  it('holds at least 40 strings, each with its source, and at least one per R1 model family', () => {
    expect(corpus.entries.length).toBeGreaterThanOrEqual(40);
    expect(corpus.entries.filter((e) => e.kind === 'captured').length).toBeGreaterThanOrEqual(40);
    for (const e of corpus.entries) expect(e.source.length).toBeGreaterThan(10);
    const covered = new Set(corpus.entries.map((e) => `${e.vendor} ${e.catalogModel ?? ''}`));
    // One firmware family per provisioning key: every key of the seeded catalog has a string.
    const families = new Map<string, string[]>();
    for (const m of SEED_MODELS) {
      const key = `${m.vendor} ${m.provisioningKey}`;
      families.set(key, [...(families.get(key) ?? []), `${m.vendor} ${m.model}`]);
    }
    const uncovered = [...families.entries()].filter(([, models]) => !models.some((m) => covered.has(m)));
    // Snom D3x5 and D7xx, D86x share a format; the corpus names one model of each generation.
    const allowed = new Set(
      ['D315', 'D345', 'D712', 'D717', 'D725', 'D735', 'D862'].map((m) => `snom snom${m}`),
    );
    expect(uncovered.map(([k]) => k).filter((k) => !allowed.has(k))).toEqual([]);
  });

  it.each(corpus.entries.map((e) => [e.ua, e] as const))('R6: %s', (_ua, e) => {
    const parsed = parseUserAgent(e.ua);
    if (e.model === null) {
      expect(parsed).toBeNull();
      return;
    }
    expect(parsed).not.toBeNull();
    expect(parsed?.vendor).toBe(e.vendor);
    expect(parsed?.version).toBe(e.version);
    expect(parsed?.mac).toBe(e.mac);
    const model = { vendor: e.vendor, model: e.catalogModel ?? e.model };
    expect(matchesModel(parsed!, model)).toBe(true);
    expect(trustedVersion(parsed, model)).toBe(e.version);
  });
});
