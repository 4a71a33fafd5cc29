import { defineProject } from "vitest/config"

// Chart checks that need no helm binary (run by `npm test`); the helm ones are in vitest.helm.config.ts.
export default defineProject({
  test: {
    name: "charts",
    include: ["test/*.test.ts"]
  }
})
