import { defineProject } from "vitest/config"

export default defineProject({
  test: {
    name: "@doltdb-op/operator",
    include: ["test/**/*.test.ts"]
  }
})
