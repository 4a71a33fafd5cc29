import { defineProject } from "vitest/config"

export default defineProject({
  test: {
    name: "@doltdb-op/dolt",
    include: ["test/**/*.test.ts"]
  }
})
