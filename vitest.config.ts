import { defineConfig } from "vitest/config"

// One vitest project per workspace package (each has its own vitest.config.ts), plus the charts' checks.
export default defineConfig({
  test: {
    projects: ["packages/*", "charts"]
  }
})
