import { defineProject } from "vitest/config"

export default defineProject({
  test: {
    name: "@doltdb-op/dolt",
    include: ["test/**/*.test.ts"],
    // A test that passes in 4 s alone can take 6 s while the suite saturates both cores of a 2-core machine:
    // vitest's 5 s default turned load into failures. Timeouts bound hangs; nothing here asserts speed.
    testTimeout: 60_000,
    // Starts the MariaDB of the adapter tests unless DOLTDB_TEST_MYSQL_URL names one.
    globalSetup: ["test/live/globalSetup.ts"]
  }
})
