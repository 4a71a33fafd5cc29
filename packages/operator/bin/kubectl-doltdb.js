#!/usr/bin/env node
// `kubectl doltdb ...`: kubectl runs any executable named kubectl-<plugin> found on PATH. Runs the TypeScript
// entry point directly (Node >= 22.18 strips types), like bin/doltdb-operator.js.
await import("../src/plugin/main.ts")
