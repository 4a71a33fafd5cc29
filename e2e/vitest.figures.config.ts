import { defineConfig } from "vitest/config"

// Only for `npm run e2e:figures` (long: 10+ faults per mode); `npm run e2e` and `npm test` never run these.
export default defineConfig({
  test: {
    root: import.meta.dirname,
    include: ["figures/**/*.test.ts"],
    globalSetup: ["./global-setup.ts"],
    // On a failure: the observed state, log tails and log paths (e2e/lib/diagnose.ts).
    setupFiles: ["./test/setup.ts"],
    // One control plane and one node: test files run one after the other.
    fileParallelism: false,
    testTimeout: 300_000,
    hookTimeout: 300_000
  }
})
