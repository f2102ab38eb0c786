/**
 * Who polls a task queue, from Temporal's own task-queue description (DescribeTaskQueue): a role without a live
 * poller does no work, whatever else is up. Used by /health (api/health.ts); a workflow-side check of "is there an
 * edge for this block's queue" can use the same function through an activity.
 * Temporal keeps a poller in the description for a few minutes after its last poll; a live worker re-polls at least
 * every ~70 s (long polls end after about a minute), so a poller counts as live when it polled within `freshMs`.
 */
import type { Client } from '@temporalio/client';

export interface Poller {
  identity: string;
  lastAccessTime: string | null;
  /** Polled within freshMs. */
  live: boolean;
}

export interface TaskQueuePollers {
  taskQueue: string;
  type: 'workflow' | 'activity';
  pollers: Poller[];
  live: number;
}

export const POLLER_FRESH_MS = 90_000;

export async function taskQueuePollers(
  client: Pick<Client, 'workflowService'>,
  namespace: string,
  taskQueue: string,
  type: 'workflow' | 'activity',
  freshMs = POLLER_FRESH_MS,
): Promise<TaskQueuePollers> {
  const res = await client.workflowService.describeTaskQueue({
    namespace,
    // temporal.api.enums.v1: TASK_QUEUE_KIND_NORMAL = 1; TASK_QUEUE_TYPE_WORKFLOW = 1, _ACTIVITY = 2
    taskQueue: { name: taskQueue, kind: 1 },
    taskQueueType: type === 'workflow' ? 1 : 2,
  });
  const now = Date.now();
  const pollers = (res.pollers ?? []).map((p): Poller => {
    const seconds = Number(p.lastAccessTime?.seconds ?? 0);
    const ms = seconds * 1000 + Math.floor((p.lastAccessTime?.nanos ?? 0) / 1e6);
    return {
      identity: p.identity ?? '',
      lastAccessTime: seconds > 0 ? new Date(ms).toISOString() : null,
      live: seconds > 0 && now - ms <= freshMs,
    };
  });
  return { taskQueue, type, pollers, live: pollers.filter((p) => p.live).length };
}

/** Whether `taskQueue` has at least one live poller of `type`. */
export async function hasLivePollers(
  client: Pick<Client, 'workflowService'>,
  namespace: string,
  taskQueue: string,
  type: 'workflow' | 'activity',
): Promise<boolean> {
  return (await taskQueuePollers(client, namespace, taskQueue, type)).live > 0;
}
