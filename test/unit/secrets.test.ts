import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { generateSecret, hashGeneratedSecret, hashSecret, verifySecret } from '../../lib/secrets.ts';

describe('stored secrets', () => {
  it('a generated secret (provisioning password) verifies against its fast salted hash, nothing else does', async () => {
    await fc.assert(
      fc.asyncProperty(fc.string({ minLength: 1, maxLength: 64 }), async (other) => {
        const secret = generateSecret(24);
        const stored = hashGeneratedSecret(secret);
        expect(stored).toMatch(/^hmac-sha256\$[A-Za-z0-9+/=]+\$[A-Za-z0-9+/=]+$/);
        expect(stored).not.toContain(secret);
        expect(await verifySecret(secret, stored)).toBe(true);
        if (other !== secret) expect(await verifySecret(other, stored)).toBe(false);
      }),
      { numRuns: 50 },
    );
  });

  it('the same secret hashed twice is stored differently (salted)', () => {
    const secret = generateSecret(24);
    expect(hashGeneratedSecret(secret)).not.toBe(hashGeneratedSecret(secret));
  });

  it('PBXes registered before keep working: scrypt hashes still verify', async () => {
    const stored = await hashSecret('an older provisioning password');
    expect(await verifySecret('an older provisioning password', stored)).toBe(true);
    expect(await verifySecret('another one', stored)).toBe(false);
  });

  it('an unknown or malformed stored form never verifies', async () => {
    const stored = hashGeneratedSecret('x');
    for (const bad of [stored.replace('hmac-sha256', 'md5'), 'hmac-sha256$$', 'plain', '']) {
      expect(await verifySecret('x', bad)).toBe(false);
    }
  });
});
