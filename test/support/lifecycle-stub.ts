import { fileURLToPath } from 'node:url';
import { bundleWorkflowCode } from '@temporalio/worker';
import type { ApiHarness } from './api.ts';
import { stubReceivedQuery } from './lifecycle-stub.workflow.ts';

/** Bundles the contract stub of the lifecycle workflow (a few seconds; once per test file). */
export async function lifecycleStubBundle(): Promise<{ code: string }> {
  const workflowsPath = fileURLToPath(new URL('./lifecycle-stub.workflow.ts', import.meta.url));
  return bundleWorkflowCode({
    workflowsPath,
    logger: { trace() {}, debug() {}, info() {}, warn() {}, error() {}, log() {} },
  });
}

/** What the stub lifecycle workflow of a PBX has received so far (and the args it was started with). */
export async function stubReceived(h: ApiHarness, pbxId: string) {
  return h.env.client.workflow.getHandle(`pbx/${pbxId}`).query(stubReceivedQuery);
}
