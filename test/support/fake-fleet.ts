/**
 * Many in-memory PBXes behind one set of activities, for fleet rollouts under time skipping: each call goes to the
 * PBX its input names (or that owns the rollout it names), each PBX behaving as test/support/fake-pbx.ts models it.
 */
import type { RecordFleetInput } from '../../activities/contracts.ts';
import { FakePbx } from './fake-pbx.ts';

export class FakeFleet {
  readonly pbxes = new Map<string, FakePbx>();
  /** What the fleet workflow recorded, in order. */
  readonly records: RecordFleetInput[] = [];

  add(pbxId: string): FakePbx {
    const pbx = new FakePbx(pbxId);
    this.pbxes.set(pbxId, pbx);
    return pbx;
  }

  get(pbxId: string): FakePbx {
    const pbx = this.pbxes.get(pbxId);
    if (!pbx) throw new Error(`no fake PBX ${pbxId}`);
    return pbx;
  }

  private owner(input: unknown): FakePbx {
    if (typeof input === 'string') return this.get(input);
    const o = input as { pbxId?: string; rolloutId?: string };
    if (o.pbxId) return this.get(o.pbxId);
    for (const pbx of this.pbxes.values()) if (o.rolloutId && pbx.rollouts.has(o.rolloutId)) return pbx;
    throw new Error(`no fake PBX for ${JSON.stringify(input)}`);
  }

  allActivities() {
    const any = [...this.pbxes.values()][0] ?? new FakePbx();
    const names = Object.keys(any.allActivities()) as Array<keyof ReturnType<FakePbx['allActivities']>>;
    const routed: Record<string, (input: unknown) => Promise<unknown>> = {};
    for (const name of names) {
      routed[name] = (input: unknown) =>
        (this.owner(input).allActivities()[name] as (i: unknown) => Promise<unknown>)(input);
    }
    routed.recordFleet = async (input: unknown) => {
      this.records.push(structuredClone(input as RecordFleetInput));
    };
    return routed as unknown as ReturnType<FakePbx['allActivities']>;
  }
}
