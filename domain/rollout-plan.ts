/**
 * Which phone goes in which block, and when (R12, issue 13). The same functions make the preview an admin sees and
 * the plan the rollout then runs, so the two agree unless the phones changed in between — and then the rollout says
 * which phones and why (`differencesFromPreview`).
 *
 *   block 1      the canary: up to `canarySize` phones, registered and idle ones first
 *   blocks 2..   the other phones, 50 at a time (R12), in account order
 *   retries      a failed phone is tried again in a block of retries of its own once its backoff has passed and
 *                the planned blocks have run (the backoff is the least wait)
 *   late joiners phones of the type that report an older version while the rollout runs fill the last block not
 *                yet started (never the canary), else a new one at the end
 */
import { BLOCK_SIZE, BLOCK_TIMEOUT_MS } from './blocks.ts';
import { type MaintenanceWindow, nextOpenAt } from './maintenance-window.ts';
import { type Reason, reason } from './reasons.ts';
import type { PhoneOutcome } from './rollout.ts';

/** A phone as the planner sees it, in account order. */
export interface PlanPhone {
  id: number;
  /** A live SIP registration now. */
  registered: boolean;
  /** Not fetching firmware or rebooting right now (the PBX knows no call state). */
  idle: boolean;
}

export interface PlannedBlock {
  /** 0-based index among the planned blocks. */
  index: number;
  canary: boolean;
  phoneIds: number[];
}

/** The canary: registered and idle phones first, then registered ones, then the rest; account order within each. */
export function chooseCanary(phones: readonly PlanPhone[], size: number): number[] {
  const rank = (p: PlanPhone) => (p.registered && p.idle ? 0 : p.registered ? 1 : 2);
  return [...phones]
    .map((p, order) => ({ p, order }))
    .sort((a, b) => rank(a.p) - rank(b.p) || a.order - b.order)
    .slice(0, Math.max(0, size))
    .map(({ p }) => p.id);
}

/** The blocks a rollout of these phones runs when nothing fails: the canary, then blocks of 50 in account order. */
export function planBlocks(
  phones: readonly PlanPhone[],
  canarySize: number,
  blockSize = BLOCK_SIZE,
): PlannedBlock[] {
  if (phones.length === 0) return [];
  const canary = chooseCanary(phones, canarySize);
  const inCanary = new Set(canary);
  const rest = phones.filter((p) => !inCanary.has(p.id)).map((p) => p.id);
  const blocks: PlannedBlock[] = [{ index: 0, canary: true, phoneIds: canary }];
  for (let i = 0; i < rest.length; i += blockSize) {
    blocks.push({ index: blocks.length, canary: false, phoneIds: rest.slice(i, i + blockSize) });
  }
  return blocks;
}

/**
 * When each planned block is expected to start: one after another, each given at most the block timeout (so the
 * times are the latest expected, without halts or retries), and never outside the maintenance window.
 */
export function expectedStarts(
  blocks: number,
  startAt: number,
  timeZone: string,
  window: MaintenanceWindow | null,
  blockMs = BLOCK_TIMEOUT_MS,
): number[] {
  const starts: number[] = [];
  let at = startAt;
  for (let i = 0; i < blocks; i++) {
    at = nextOpenAt(at, timeZone, window);
    starts.push(at);
    at += blockMs;
  }
  return starts;
}

// ---- the running rollout's queue -----------------------------------------------------------------

export interface RolloutQueue {
  /** Planned blocks not started yet, in order. */
  planned: PlannedBlock[];
  /** Failed phones waiting for their next attempt. */
  retries: Array<{ phoneId: number; dueAt: number }>;
}

export type NextStep =
  | { kind: 'block'; canary: boolean; retry: boolean; plannedIndex: number | null; phoneIds: number[] }
  | { kind: 'wait'; until: number }
  | { kind: 'done' };

/**
 * What the rollout does next: the next planned block (so a resumed rollout goes on with the block that had not
 * started, and the blocks keep the composition the preview showed); once none is left, the retries that are due
 * (in blocks of ≤ 50, the longest waiting first); else it waits for the next retry.
 */
export function nextStep(q: RolloutQueue, now: number, blockSize = BLOCK_SIZE): NextStep {
  const next = q.planned[0];
  if (next) {
    return {
      kind: 'block',
      canary: next.canary,
      retry: false,
      plannedIndex: next.index,
      phoneIds: next.phoneIds,
    };
  }
  const due = q.retries
    .filter((r) => r.dueAt <= now)
    .sort((a, b) => a.dueAt - b.dueAt || a.phoneId - b.phoneId);
  if (due.length > 0) {
    return {
      kind: 'block',
      canary: false,
      retry: true,
      plannedIndex: null,
      phoneIds: due.slice(0, blockSize).map((r) => r.phoneId),
    };
  }
  if (q.retries.length > 0) return { kind: 'wait', until: Math.min(...q.retries.map((r) => r.dueAt)) };
  return { kind: 'done' };
}

/** The queue once `step`'s block has started. */
export function startStep(q: RolloutQueue, step: Extract<NextStep, { kind: 'block' }>): RolloutQueue {
  const taken = new Set(step.phoneIds);
  return step.retry
    ? { planned: q.planned, retries: q.retries.filter((r) => !taken.has(r.phoneId)) }
    : { planned: q.planned.slice(1), retries: q.retries };
}

/** Failed phones that get another attempt. */
export function scheduleRetries(
  q: RolloutQueue,
  retries: Array<{ phoneId: number; dueAt: number }>,
): RolloutQueue {
  const again = new Set(retries.map((r) => r.phoneId));
  return { planned: q.planned, retries: [...q.retries.filter((r) => !again.has(r.phoneId)), ...retries] };
}

/** Parked phones an admin wants tried again: due at once. */
export function retryNow(q: RolloutQueue, phoneIds: number[], now: number): RolloutQueue {
  return scheduleRetries(
    q,
    phoneIds.map((phoneId) => ({ phoneId, dueAt: now })),
  );
}

/**
 * Late joiners: they fill the last planned block not yet started (not the canary) up to 50, then new blocks.
 * Returns the queue and the planned index each phone went to.
 */
export function admitJoiners(
  q: RolloutQueue,
  phoneIds: number[],
  nextIndex: number,
  blockSize = BLOCK_SIZE,
): { queue: RolloutQueue; placed: Map<number, number> } {
  const queued = new Set([...q.planned.flatMap((b) => b.phoneIds), ...q.retries.map((r) => r.phoneId)]);
  const planned = q.planned.map((b) => ({ ...b, phoneIds: [...b.phoneIds] }));
  const placed = new Map<number, number>();
  let index = nextIndex;
  for (const id of phoneIds) {
    if (queued.has(id)) continue;
    queued.add(id);
    let last = planned.at(-1);
    if (!last || last.canary || last.phoneIds.length >= blockSize) {
      last = { index: index++, canary: false, phoneIds: [] };
      planned.push(last);
    }
    last.phoneIds.push(id);
    placed.set(id, last.index);
  }
  return { queue: { planned, retries: q.retries }, placed };
}

// ---- the preview beside the rollout that ran -------------------------------------------------------

/** One phone of a rollout as its record holds it. */
export interface RanPhone {
  phoneId: number;
  /** Its planned block when the rollout started, or when it joined (0-based). */
  plannedBlock: number | null;
  /** The block (0-based, in the order blocks ran) of its last attempt; null if it was never in a block. */
  block: number | null;
  outcome: PhoneOutcome | null;
  /** Attempts made so far (0 before its first block). */
  attempts: number;
  /** It joined while the rollout ran. */
  joined: boolean;
}

export type DifferenceKind = 'added' | 'removed' | 'moved' | 'offline' | 'retried';

export interface PreviewDifference {
  phoneId: number;
  change: DifferenceKind;
  /** Its block in the preview (0-based), if it was there. */
  previewBlock: number | null;
  /** The block it last ran in (0-based, run order), if any. */
  block: number | null;
  reason: Reason;
}

/**
 * How the rollout that ran differs from the preview made before it: phones added (reported an older version after
 * the preview, or joined while it ran), removed (in the preview, not in the rollout: `whyRemoved` says why), put in
 * another block than the preview showed, offline when their block ran, or tried again after a failure. Empty when
 * it ran as previewed. Blocks are numbered 1-based in reasons, as the page shows them.
 */
export function differencesFromPreview(
  preview: readonly PlannedBlock[],
  ran: readonly RanPhone[],
  whyRemoved: (phoneId: number) => string,
): PreviewDifference[] {
  const previewBlock = new Map<number, number>();
  for (const b of preview) for (const id of b.phoneIds) previewBlock.set(id, b.index);
  const inRollout = new Set<number>();
  const out: PreviewDifference[] = [];
  for (const p of ran) {
    if (p.outcome === 'not-contacted') continue;
    inRollout.add(p.phoneId);
    const shownBlock = previewBlock.get(p.phoneId);
    const base = { phoneId: p.phoneId, previewBlock: shownBlock ?? null, block: p.block };
    if (shownBlock === undefined) {
      out.push({
        ...base,
        change: 'added',
        reason: p.joined
          ? reason('joined-late', { block: (p.plannedBlock ?? 0) + 1 })
          : reason('added-since-preview'),
      });
    } else if (p.plannedBlock !== shownBlock) {
      out.push({
        ...base,
        change: 'moved',
        reason: reason('moved-block', {
          planned: shownBlock + 1,
          block: (p.plannedBlock ?? shownBlock) + 1,
          why: 'the phones of the type changed between the preview and the start',
        }),
      });
    } else if (p.outcome === 'unreachable' && p.block !== null) {
      out.push({ ...base, change: 'offline', reason: reason('offline-at-block', { block: p.block + 1 }) });
    } else if (p.attempts > 1) {
      out.push({
        ...base,
        change: 'retried',
        reason: reason('retried-in-block', { attempts: p.attempts, block: (p.block ?? 0) + 1 }),
      });
    }
  }
  for (const [phoneId, shownBlock] of previewBlock) {
    if (inRollout.has(phoneId)) continue;
    out.push({
      phoneId,
      change: 'removed',
      previewBlock: shownBlock,
      block: null,
      reason: reason('removed-since-preview', { why: whyRemoved(phoneId) }),
    });
  }
  return out.sort((a, b) => a.phoneId - b.phoneId);
}
