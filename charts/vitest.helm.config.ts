import { defineConfig } from "vitest/config"

// `npm run test:charts`: helm lint and helm template against golden files. Needs the helm binary that
// `npm run e2e:build` builds (or HELM_BIN); fails, never skips, without it.
export default defineConfig({
  test: {
    name: "charts-helm",
    root: import.meta.dirname,
    include: ["test/helm/*.test.ts"],
    testTimeout: 60_000
  }
})
