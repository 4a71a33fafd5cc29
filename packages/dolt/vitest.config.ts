import { defineProject } from "vitest/config"

export default defineProject({
  test: {
    name: "@doltdb-op/dolt",
    include: ["test/**/*.test.ts"],
    // Starts the MariaDB of the adapter tests unless DOLTDB_TEST_MYSQL_URL names one.
    globalSetup: ["test/live/globalSetup.ts"]
  }
})
