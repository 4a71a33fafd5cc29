#!/usr/bin/env node
// Runs the TypeScript entry point directly: Node >= 22.18 strips types from files outside node_modules,
// and npm workspaces link this package by its real path.
await import("../src/main.ts")
