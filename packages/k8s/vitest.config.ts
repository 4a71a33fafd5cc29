import { defineProject } from "vitest/config"

export default defineProject({
  test: {
    name: "@doltdb-op/k8s",
    include: ["test/**/*.test.ts"]
  }
})
