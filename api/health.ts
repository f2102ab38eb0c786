import type { Client } from '@temporalio/client';
import type postgres from 'postgres';

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

export async function checkHealth(deps: { sql: postgres.Sql; temporal: Client; namespace: string }) {
  const [postgresState, temporalState] = await Promise.all([
    probe(() => deps.sql`select 1`),
    probe(() => deps.temporal.connection.workflowService.describeNamespace({ namespace: deps.namespace })),
  ]);
  return {
    ok: postgresState.ok && temporalState.ok,
    postgres: postgresState,
    temporal: { ...temporalState, namespace: deps.namespace },
  };
}
