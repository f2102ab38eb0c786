/**
 * Phone MAC addresses as admins type them (`80:5e:c0:aa:bb:cc`, `805EC0AABBCC`, `80-5e-c0-aa-bb-cc`,
 * `805e.c0aa.bbcc`) and as the system stores them: 12 lower-case hex digits.
 */
const SEPARATED = /^[0-9a-f]{2}([:-])[0-9a-f]{2}(\1[0-9a-f]{2}){4}$/;
const DOTTED = /^[0-9a-f]{4}\.[0-9a-f]{4}\.[0-9a-f]{4}$/;
const BARE = /^[0-9a-f]{12}$/;

/** The stored form of a MAC address, or undefined when the text is not one. */
export function normalizeMac(text: string): string | undefined {
  const t = text.trim().toLowerCase();
  if (BARE.test(t)) return t;
  if (SEPARATED.test(t) || DOTTED.test(t)) return t.replace(/[:.-]/g, '');
  return undefined;
}

/** `805ec0aabbcc` → `80:5e:c0:aa:bb:cc`, for people. */
export function formatMac(mac: string): string {
  return mac.match(/../g)?.join(':') ?? mac;
}
