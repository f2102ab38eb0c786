import { fileURLToPath } from 'node:url';

/** Entry point of the workflow code; the worker bundles it (or loads a prebuilt bundle). */
export const workflowsPath = fileURLToPath(new URL('../workflows/index.ts', import.meta.url));
