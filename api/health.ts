import type { Client } from '@temporalio/client';
import type postgres from 'postgres';
import { type Liveness, parseEdgeIdentity, probeHttp, probeSip } from '../lib/edge-identity.ts';
import { type TaskQueuePollers, taskQueuePollers } from '../lib/task-queue-pollers.ts';

export interface Reachability {
  ok: boolean;
  latencyMs: number;
  error?: string;
}

async function probe(fn: () => Promise<unknown>, timeoutMs = 3000): Promise<Reachability> {
  const started = performance.now();
  try {
    await Promise.race([
      fn(),
      new Promise((_, reject) =>
        setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs).unref(),
      ),
    ]);
    return { ok: true, latencyMs: Math.round(performance.now() - started) };
  } catch (err) {
    return {
      ok: false,
      latencyMs: Math.round(performance.now() - started),
      error: err instanceof Error ? err.message : String(err),
    };
  }
}

export interface HealthQueues {
  lifecycle: string;
  downloads: string;
  /** The default phones queue; the PBXes' own (phonesTaskQueue) are read from the database. */
  phones: string;
}

interface EdgeState {
  identity: string;
  sip: Liveness;
  http: Liveness;
}

async function pollers(
  deps: { temporal: Client; namespace: string },
  taskQueue: string,
  type: 'workflow' | 'activity',
): Promise<TaskQueuePollers & { ok: boolean; error?: string }> {
  try {
    const p = await taskQueuePollers(deps.temporal, deps.namespace, taskQueue, type);
    return { ...p, ok: p.live > 0 };
  } catch (err) {
    return {
      taskQueue,
      type,
      pollers: [],
      live: 0,
      ok: false,
      error: err instanceof Error ? err.message : String(err),
    };
  }
}

/**
 * `serving`: this replica can answer (Postgres and Temporal reachable): the HTTP status follows it (200/503), so a
 * load balancer keeps a replica that works. `ok`: the whole system can do its work: besides, every role's task queue
 * has a live poller (Temporal's task-queue description) and every phone edge polling a phones queue answers SIP
 * OPTIONS and HTTP where phones reach it (it advertises both in its worker identity, lib/edge-identity.ts).
 */
export async function checkHealth(deps: {
  sql: postgres.Sql;
  temporal: Client;
  namespace: string;
  queues?: HealthQueues;
}) {
  const [postgresState, temporalState] = await Promise.all([
    probe(() => deps.sql`select 1`),
    probe(() => deps.temporal.connection.workflowService.describeNamespace({ namespace: deps.namespace })),
  ]);
  const serving = postgresState.ok && temporalState.ok;
  const base = {
    serving,
    postgres: postgresState,
    temporal: { ...temporalState, namespace: deps.namespace },
  };
  if (!deps.queues || !temporalState.ok) return { ok: false, ...base, roles: null };
  const q = deps.queues;
  const own = postgresState.ok
    ? await deps.sql<
        Array<{ q: string }>
      >`select distinct phones_task_queue as q from pbxes where phones_task_queue is not null`.catch(() => [])
    : [];
  const phoneQueues = [...new Set([q.phones, ...own.map((r) => r.q)])].sort();
  const [lifecycleWf, lifecycleAct, downloads, ...phones] = await Promise.all([
    pollers(deps, q.lifecycle, 'workflow'),
    pollers(deps, q.lifecycle, 'activity'),
    pollers(deps, q.downloads, 'activity'),
    ...phoneQueues.map((name) => pollers(deps, name, 'activity')),
  ]);
  const phoneRoles = await Promise.all(
    phones.map(async (p) => {
      const edges: EdgeState[] = await Promise.all(
        p.pollers
          .filter((x) => x.live)
          .flatMap((x) => {
            const at = parseEdgeIdentity(x.identity);
            return at ? [{ identity: x.identity, at }] : [];
          })
          .map(async ({ identity, at }) => ({
            identity,
            sip: await probeSip(at.sip),
            http: await probeHttp(at.http),
          })),
      );
      // A queue nobody polls is only a problem when a PBX uses it (the default one may be unused).
      const used = p.taskQueue !== q.phones || own.length === 0 || phoneQueues.length === 1;
      const liveEdges = edges.filter((e) => e.sip.ok && e.http.ok).length;
      return {
        ...p,
        edges,
        ok: (!used && p.live === 0) || (p.live > 0 && liveEdges > 0 && liveEdges === edges.length),
      };
    }),
  );
  const roles = {
    lifecycle: { workflow: lifecycleWf, activity: lifecycleAct, ok: lifecycleWf.ok && lifecycleAct.ok },
    downloads: { ...downloads },
    phones: phoneRoles,
  };
  const ok = serving && roles.lifecycle.ok && roles.downloads.ok && phoneRoles.every((p) => p.ok);
  return { ok, ...base, roles };
}
