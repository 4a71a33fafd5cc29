import { defineProject } from "vitest/config"

export default defineProject({
  test: {
    name: "@doltdb-op/core",
    include: ["test/**/*.test.ts"]
  }
})
