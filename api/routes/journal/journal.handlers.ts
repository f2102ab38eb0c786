import { listJournal } from '../../../db/queries/journal.ts';
import { reasonFromText } from '../../../domain/reasons.ts';
import { pbxForCaller } from '../../auth.ts';
import type { AppRouteHandler } from '../../env.ts';
import { requireKnownModelFilter } from '../../known-models.ts';
import type * as routes from './journal.routes.ts';

/** Journal details keep a reason's English text (and mostly its code); the parameters are read back from the text. */
function reasonOf(details: Record<string, unknown>) {
  const text = details.reason;
  if (typeof text !== 'string') return null;
  const code = typeof details.reasonCode === 'string' ? details.reasonCode : undefined;
  return reasonFromText(text, code) ?? null;
}

export const list: AppRouteHandler<typeof routes.list> = async (c) => {
  const pbx = await pbxForCaller(c, c.req.valid('param').pbxId);
  const q = c.req.valid('query');
  await requireKnownModelFilter(c.var.deps, q.modelId);
  const rows = await listJournal(c.var.deps.db, { pbxId: pbx.id, ...q });
  return c.json(
    {
      entries: rows.map((r) => ({
        id: r.id,
        at: r.at.toISOString(),
        action: r.action,
        why: r.why,
        who: r.who,
        modelId: r.modelId,
        details: r.details,
        reason: reasonOf(r.details),
      })),
      nextBeforeId: rows.length === q.limit ? (rows.at(-1)?.id ?? null) : null,
    },
    200,
  );
};
