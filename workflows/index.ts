// Workflow entry point (bundled by the worker). Each export is a workflow type.
export {};
