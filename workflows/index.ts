// Workflow entry point (bundled by the worker). Each export is a workflow type.
export { fleetRollout } from './fleet.ts';
export { pbxLifecycle } from './pbx-lifecycle.ts';
export { phoneRollout } from './rollout.ts';
export { pbxTrigger } from './trigger.ts';
