/**
 * Registering a PBX (R9, R11, R16): the one place a weekly check moment and the default update moment are drawn.
 * Used by `POST /api/pbxes` and by anything else that sets up PBXes (a demo, a migration), so every PBX is born
 * the same way.
 */
import { randomInt } from 'node:crypto';
import { appendJournal } from '../db/queries/journal.ts';
import { deletePbx, getPbx, insertPbx, type PbxRow, sipDomainTaken } from '../db/queries/pbxes.ts';
import { pbxIdFromName } from '../domain/pbx-id.ts';
import {
  drawDefaultUpdateMoment,
  drawWeeklyCheckMoment,
  formatWeeklyMoment,
  type WeeklyMoment,
} from '../domain/timing.ts';
import { generateSecret, hashGeneratedSecret } from '../lib/secrets.ts';
import type { ApiDeps } from './env.ts';
import { ApiError, uniqueViolation } from './errors.ts';
import { startLifecycle } from './lifecycle-client.ts';

/** A uniform number in [0, 1) from the OS's cryptographic randomness (R9: the moment must not be guessable). */
const cryptoRandom = () => randomInt(0, 2 ** 47) / 2 ** 47;

/** `{ day: 6, minute: 180 }` → `{ day: 'sunday', time: '03:00' }`, as the API shows moments. */
export function presentMoment(m: WeeklyMoment) {
  const { weekday, time } = formatWeeklyMoment(m);
  return { day: weekday, time };
}

export interface PbxRegistration {
  /** Slug; derived from the name when absent. */
  id?: string | undefined;
  name: string;
  /** A valid IANA zone (the route validates it). */
  timeZone: string;
  softwareVersion?: string | undefined;
  /** Default `<id>.pbx.local`. */
  sipDomain?: string | undefined;
  /** The phone edge of this PBX's site; default TASK_QUEUE_PHONES. */
  phonesTaskQueue?: string | undefined;
}

/**
 * Stores the PBX with its R9 moment and its default R11 moment (both drawn once, here: domain/timing.ts) and fresh
 * provisioning credentials,
 * then starts its lifecycle workflow; if that cannot start, the registration is undone. Returns the provisioning
 * password, which exists nowhere else afterwards.
 */
export async function registerPbx(
  deps: Pick<ApiDeps, 'config' | 'db' | 'temporal' | 'logger' | 'logs'>,
  input: PbxRegistration,
  who: string,
): Promise<{ pbx: PbxRow; provisioningPassword: string }> {
  const id = input.id ?? pbxIdFromName(input.name);
  const sipDomain = input.sipDomain ?? `${id}.pbx.local`;
  if (await getPbx(deps.db, id)) throw new ApiError(409, `a PBX with id ${JSON.stringify(id)} exists`, 'id');
  if (await sipDomainTaken(deps.db, sipDomain)) {
    throw new ApiError(409, `SIP domain ${JSON.stringify(sipDomain)} is taken`, 'sipDomain');
  }

  const weeklyCheck = drawWeeklyCheckMoment(cryptoRandom);
  const updateMoment = drawDefaultUpdateMoment(weeklyCheck, cryptoRandom);
  const provisioningPassword = generateSecret(24);
  let pbx: PbxRow;
  try {
    pbx = await insertPbx(deps.db, {
      id,
      name: input.name,
      timeZone: input.timeZone,
      softwareVersion: input.softwareVersion ?? null,
      weeklyCheckDay: weeklyCheck.day,
      weeklyCheckMinute: weeklyCheck.minute,
      updateDay: updateMoment.day,
      updateMinute: updateMoment.minute,
      provisioningUser: id,
      // Machine-generated, 192 bits: a fast salted hash (lib/secrets.ts hashGeneratedSecret).
      provisioningSecretHash: hashGeneratedSecret(provisioningPassword),
      sipDomain,
      phonesTaskQueue: input.phonesTaskQueue ?? null,
    });
  } catch (err) {
    const constraint = uniqueViolation(err);
    if (!constraint) throw err;
    const field = constraint.includes('sip_domain') ? 'sipDomain' : 'id';
    throw new ApiError(409, `${field} is taken`, field);
  }
  try {
    await startLifecycle(deps, pbx);
  } catch (err) {
    // Without its workflow the PBX would be a half-registered ghost: undo and let the admin retry.
    await deletePbx(deps.db, id);
    deps.logger.error({ err, pbxId: id }, 'could not start the lifecycle workflow; registration undone');
    throw new ApiError(503, `Temporal is not reachable; PBX ${id} was not registered`);
  }
  await appendJournal(deps.db, deps.logs, {
    pbxId: id,
    action: 'pbx.registered',
    why: 'manual',
    who,
    details: {
      name: pbx.name,
      timeZone: pbx.timeZone,
      weeklyCheck: presentMoment(weeklyCheck),
      updateMoment: presentMoment(updateMoment),
      sipDomain,
    },
  });
  return { pbx, provisioningPassword };
}
