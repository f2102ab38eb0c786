import type { WorkflowHandle } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import { BLOCK_HEARTBEAT_THROTTLE } from '../../activities/update-block.ts';
import type { LifecycleArgs } from '../../workflows/messages.ts';
import type { pbxLifecycle } from '../../workflows/pbx-lifecycle.ts';
import type { FakePbx } from './fake-pbx.ts';
import { uniqueTaskQueue, workflowBundle } from './temporal.ts';

/**
 * Runs the real lifecycle workflow for a fake PBX on one task queue of its own (all activity groups on it), calls
 * `body` with the handle, and terminates the workflow afterwards.
 */
export async function runLifecycle(
  env: TestWorkflowEnvironment,
  pbx: FakePbx,
  args: Omit<LifecycleArgs, 'pbxId' | 'queues'>,
  body: (handle: WorkflowHandle<typeof pbxLifecycle>, ctx: { taskQueue: string }) => Promise<void>,
): Promise<void> {
  const taskQueue = uniqueTaskQueue('lifecycle');
  const worker = await Worker.create({
    connection: env.nativeConnection,
    taskQueue,
    workflowBundle: workflowBundle(),
    activities: pbx.allActivities(),
    maxHeartbeatThrottleInterval: BLOCK_HEARTBEAT_THROTTLE,
  });
  await worker.runUntil(async () => {
    const handle = await env.client.workflow.start<typeof pbxLifecycle>('pbxLifecycle', {
      workflowId: `pbx/${pbx.pbxId}-${taskQueue}`,
      taskQueue,
      args: [{ pbxId: pbx.pbxId, queues: { downloads: taskQueue, phones: taskQueue }, ...args }],
    });
    try {
      await body(handle, { taskQueue });
    } finally {
      await handle.terminate('test over').catch(() => {});
    }
  });
}
