/**
 * What an admin plans before a rollout (issue 13): the dry-run preview of a type's next rollout (blocks, canary,
 * expected starts), the PBX's canary/threshold/window settings, and how a rollout that ran compares with the
 * preview made before it. Reads the same planner the rollout's start uses (db/queries/rollout-plan.ts).
 */
import { randomUUID } from 'node:crypto';
import type { Db } from '../../db/client.ts';
import { appendJournal } from '../../db/queries/journal.ts';
import type { PbxRow } from '../../db/queries/pbxes.ts';
import { listRolloutResults } from '../../db/queries/rollout-history.ts';
import { loadTypePlan } from '../../db/queries/rollout-plan.ts';
import {
  accountsNow,
  insertPreview,
  type PreviewRow,
  previewBefore,
} from '../../db/queries/rollout-previews.ts';
import {
  changeRolloutSettings,
  getRolloutSettings,
  type RolloutSettingsChange,
} from '../../db/queries/rollout-settings.ts';
import { planRollouts, type RolloutRow } from '../../db/queries/rollouts.ts';
import type { PreviewPhone } from '../../db/schema.ts';
import {
  formatMinute,
  type MaintenanceWindow,
  parseMinute,
  windowAt,
} from '../../domain/maintenance-window.ts';
import { type Reason, reason } from '../../domain/reasons.ts';
import {
  type DifferenceKind,
  differencesFromPreview,
  expectedStarts,
  type RanPhone,
} from '../../domain/rollout-plan.ts';
import { DEFAULT_ROLLOUT_POLICY, resolvePolicy } from '../../domain/rollout-policy.ts';
import { nextWeeklyOccurrence } from '../../domain/timing.ts';
import { compareVersions } from '../../domain/versions.ts';
import type { PbxLogs } from '../../lib/pbx-logs.ts';

type Deps = { db: Db; logs: PbxLogs };

export interface PreviewRequest {
  modelIds?: string[] | undefined;
  canarySize?: number | undefined;
  /** `now`: as Update now would run it; `scheduled`: at the next weekly update moment (R11). */
  when?: 'now' | 'scheduled' | undefined;
}

function windowOut(w: MaintenanceWindow | null, timeZone: string) {
  return w ? { start: formatMinute(w.startMinute), end: formatMinute(w.endMinute), timeZone } : null;
}

/** A stored preview as the API shows it: blocks numbered from 1, phones named, expected starts. */
export function presentPreview(p: PreviewRow, model: string) {
  const byId = new Map(p.phones.map((ph) => [ph.id, ph]));
  const phone = (id: number) => {
    const ph = byId.get(id);
    return {
      phoneAccountId: id,
      mac: ph?.mac ?? '',
      extension: ph?.extension ?? '',
      installedVersion: ph?.installedVersion ?? null,
      registered: ph?.registered ?? false,
    };
  };
  return {
    previewId: p.id,
    pbxId: p.pbxId,
    modelId: p.modelId,
    model,
    targetVersion: p.targetVersion,
    direction: p.direction,
    canarySize: p.canarySize,
    createdAt: p.createdAt.toISOString(),
    who: p.who,
    blocks: p.blocks.map((b, i) => ({
      block: b.index + 1,
      canary: b.canary,
      expectedStartAt: p.starts[i] ?? null,
      phones: b.phoneIds.map(phone),
    })),
  };
}

/**
 * Previews of the next rollout of each type (or of the given ones): which phone goes in which block, the canary,
 * when each block is expected to start — or why no rollout would run. Stored, so the rollout that then runs is
 * compared with it.
 */
export async function makePreviews(
  deps: Deps,
  pbx: PbxRow,
  req: PreviewRequest,
  who: string,
  now = new Date(),
) {
  const settings = await getRolloutSettings(deps.db, pbx.id);
  const timeZone = settings?.timeZone ?? pbx.timeZone;
  const window = settings?.window ?? null;
  let startAt = now.getTime();
  let notScheduled: Reason | null = null;
  if (req.when === 'scheduled') {
    if (!pbx.autoDownloadInstall) notScheduled = reason('automatic-off');
    else if (pbx.updateDay === null || pbx.updateMinute === null) notScheduled = reason('no-update-moment');
    else startAt = nextWeeklyOccurrence({ day: pbx.updateDay, minute: pbx.updateMinute }, timeZone, startAt);
  }
  const plans = await planRollouts(deps.db, pbx.id, req.modelIds ? { modelIds: req.modelIds } : {});
  const out = [];
  for (const plan of plans) {
    const base = {
      modelId: plan.modelId,
      model: plan.model,
      startAt: new Date(startAt).toISOString(),
      window: windowOut(window, timeZone),
    };
    const held =
      plan.heldBack && plan.heldAt ? reason('type-held', { model: plan.model, version: plan.heldAt }) : null;
    const why: Reason | null = !plan.autoUpdate
      ? reason('auto-update-off', { model: plan.model })
      : !plan.targetVersion
        ? (held ?? reason('no-local-firmware'))
        : plan.phonesNeedingUpdate === 0
          ? (held ?? reason('all-current', { version: plan.targetVersion }))
          : notScheduled;
    if (why || !plan.targetVersion) {
      const none: Array<{ phoneAccountId: number; mac: string; extension: string }> = [];
      out.push({ ...base, wouldRun: false, reason: why, preview: null, notContacted: none });
      continue;
    }
    const t = await loadTypePlan(deps.db, {
      pbxId: pbx.id,
      modelId: plan.modelId,
      targetVersion: plan.targetVersion,
      ...(req.canarySize !== undefined ? { canarySize: req.canarySize } : {}),
      now,
    });
    const phones: PreviewPhone[] = t.phones.map((p) => ({
      id: p.id,
      mac: p.mac,
      extension: p.extension,
      installedVersion: p.installedVersion,
      registered: p.registered,
    }));
    const row = await insertPreview(deps.db, {
      id: randomUUID(),
      pbxId: pbx.id,
      modelId: plan.modelId,
      targetVersion: plan.targetVersion,
      direction: 'upgrade',
      canarySize: t.policy.canarySize,
      blocks: t.plan,
      phones,
      starts: expectedStarts(t.plan.length, startAt, timeZone, window).map((s) => new Date(s).toISOString()),
      who,
    });
    out.push({
      ...base,
      wouldRun: true,
      reason: held,
      preview: presentPreview(row, plan.model),
      policy: t.policy,
      notContacted: t.unknown.map((p) => ({ phoneAccountId: p.id, mac: p.mac, extension: p.extension })),
    });
  }
  return out;
}

/**
 * How a rollout ran beside the preview made before it (issue 13): its blocks as run, and every phone that differs
 * with why — added, removed, in another block, offline at its block, tried again. `matchesPreview` is null when
 * no preview was made for it.
 */
export async function rolloutBesidePreview(deps: Deps, row: RolloutRow) {
  const results = await listRolloutResults(deps.db, row.id, { limit: 100_000 });
  const preview = await previewBefore(deps.db, row);
  const ran: RanPhone[] = results.map((r) => ({
    phoneId: r.phoneAccountId,
    plannedBlock: r.plannedBlock,
    block: r.block,
    outcome: r.outcome,
    attempts: r.attempts,
    joined: r.joined,
  }));
  const byBlock = new Map<number, number[]>();
  for (const r of results) {
    if (r.block === null) continue;
    byBlock.set(r.block, [...(byBlock.get(r.block) ?? []), r.phoneAccountId]);
  }
  const named = new Map<number, { mac: string; extension: string | null }>();
  for (const r of results) named.set(r.phoneAccountId, { mac: r.mac, extension: r.extension });
  for (const p of preview?.phones ?? [])
    if (!named.has(p.id)) named.set(p.id, { mac: p.mac, extension: p.extension });
  let differences: Array<{
    phoneAccountId: number;
    mac: string;
    extension: string | null;
    change: DifferenceKind;
    previewBlock: number | null;
    block: number | null;
    reason: Reason;
  }> = [];
  if (preview) {
    const previewed = preview.blocks.flatMap((b) => b.phoneIds);
    const now = await accountsNow(deps.db, row.pbxId, previewed);
    const whyRemoved = (id: number) => {
      const a = now.get(id);
      if (!a) return 'its account was deleted';
      if (a.installedVersion === null) return 'it has not reported its version';
      const c = compareVersions(a.installedVersion, row.targetVersion);
      if (row.direction === 'downgrade' ? c <= 0 : c >= 0) return `it runs ${a.installedVersion} already`;
      return 'it was not chosen for this rollout';
    };
    differences = differencesFromPreview(preview.blocks, ran, whyRemoved).map((d) => ({
      phoneAccountId: d.phoneId,
      mac: named.get(d.phoneId)?.mac ?? '',
      extension: named.get(d.phoneId)?.extension ?? null,
      change: d.change,
      previewBlock: d.previewBlock === null ? null : d.previewBlock + 1,
      block: d.block === null ? null : d.block + 1,
      reason: d.reason,
    }));
  }
  return {
    rolloutId: row.id,
    preview: preview
      ? { previewId: preview.id, createdAt: preview.createdAt.toISOString(), who: preview.who }
      : null,
    matchesPreview: preview ? differences.length === 0 : null,
    blocks: [...byBlock.entries()]
      .sort(([a], [b]) => a - b)
      .map(([block, ids]) => ({ block: block + 1, phoneAccountIds: ids.sort((a, b) => a - b) })),
    differences,
  };
}

/** The PBX's rollout settings as the API shows them: what it sets, what applies, the defaults, the window now. */
export async function presentRolloutSettings(deps: Deps, pbxId: string, now = Date.now()) {
  const s = await getRolloutSettings(deps.db, pbxId);
  if (!s) throw new Error(`no PBX ${pbxId}`);
  return {
    pbxId,
    configured: {
      canarySize: s.policy.canarySize ?? null,
      haltFailedPercent: s.policy.haltFailedPercent ?? null,
      haltFailedBlocksInRow: s.policy.haltFailedBlocksInRow ?? null,
      maxAttempts: s.policy.maxAttempts ?? null,
    },
    effective: resolvePolicy(s.policy),
    defaults: DEFAULT_ROLLOUT_POLICY,
    maintenanceWindow: windowOut(s.window, s.timeZone),
    windowNow: s.window
      ? (() => {
          const w = windowAt(now, s.timeZone, s.window);
          return w.open
            ? { open: true, closesAt: new Date(w.closesAt).toISOString(), opensAt: null }
            : { open: false, closesAt: null, opensAt: new Date(w.opensAt).toISOString() };
        })()
      : null,
    updatedAt: s.updatedAt?.toISOString() ?? null,
    updatedBy: s.updatedBy,
  };
}

export interface SettingsBody {
  canarySize?: number | null | undefined;
  haltFailedPercent?: number | null | undefined;
  haltFailedBlocksInRow?: number | null | undefined;
  maxAttempts?: number | null | undefined;
  maintenanceWindow?: { start: string; end: string } | null | undefined;
}

/** Stores a change of the PBX's rollout settings and journals it (from → to). Running rollouts read the window afresh. */
export async function changeSettings(deps: Deps, pbxId: string, body: SettingsBody, who: string) {
  const before = await presentRolloutSettings(deps, pbxId);
  const change: RolloutSettingsChange = {};
  for (const k of ['canarySize', 'haltFailedPercent', 'haltFailedBlocksInRow', 'maxAttempts'] as const) {
    if (body[k] !== undefined) change[k] = body[k];
  }
  if (body.maintenanceWindow !== undefined) {
    change.window = body.maintenanceWindow
      ? {
          startMinute: parseMinute(body.maintenanceWindow.start),
          endMinute: parseMinute(body.maintenanceWindow.end),
        }
      : null;
  }
  await changeRolloutSettings(deps.db, pbxId, change, who);
  const after = await presentRolloutSettings(deps, pbxId);
  await appendJournal(deps.db, deps.logs, {
    pbxId,
    action: 'settings.rollout',
    why: 'manual',
    who,
    details: {
      from: { ...before.configured, maintenanceWindow: before.maintenanceWindow },
      to: { ...after.configured, maintenanceWindow: after.maintenanceWindow },
    },
  });
  return after;
}
