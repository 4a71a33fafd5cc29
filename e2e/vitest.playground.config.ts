import { defineConfig } from "vitest/config"

// Only for `npm run playground:test`: the playground brings up its own cluster (the e2e suite's must be down), so
// it is not part of `npm run e2e`, whose global setup starts the test cluster.
export default defineConfig({
  test: {
    root: import.meta.dirname,
    include: ["playground/**/*.test.ts"],
    fileParallelism: false,
    testTimeout: 1_200_000,
    hookTimeout: 300_000
  }
})
