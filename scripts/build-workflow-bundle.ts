/**
 * Bundles the workflow code once for production images (the worker then starts without webpack):
 *   node scripts/build-workflow-bundle.ts [out.js]   →  WORKFLOW_BUNDLE_PATH=out.js node worker/main.ts
 */
import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { bundleWorkflowCode } from '@temporalio/worker';
import { workflowsPath } from '../worker/bundle.ts';

const out = resolve(process.argv[2] ?? 'workflow-bundle.js');
const { code } = await bundleWorkflowCode({ workflowsPath });
writeFileSync(out, code);
console.error(`workflow bundle written to ${out} (${(code.length / 1024).toFixed(0)} KiB)`);
