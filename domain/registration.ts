/**
 * A phone's SIP registration as the page shows it, from what the registrar recorded (phones/sip-endpoint.ts):
 *   registered    a live registration (its expiry lies ahead)
 *   expired       it registered, and the registration ran out without being renewed
 *   unregistered  it contacted the PBX (provisioning, or a REGISTER with Expires: 0) but holds no registration
 *   never         it has never contacted the PBX
 */
export const REGISTRATION_STATES = ['registered', 'expired', 'unregistered', 'never'] as const;
export type RegistrationState = (typeof REGISTRATION_STATES)[number];

export function registrationState(
  phone: { sipContact: string | null; sipRegisteredUntil: Date | null; lastContactAt: Date | null },
  now: number,
): RegistrationState {
  if (phone.sipContact !== null && phone.sipRegisteredUntil !== null) {
    return phone.sipRegisteredUntil.getTime() > now ? 'registered' : 'expired';
  }
  return phone.lastContactAt === null ? 'never' : 'unregistered';
}
