import { configDefaults, defineProject } from "vitest/config"

export default defineProject({
  test: {
    name: "@doltdb-op/dolt",
    include: ["test/**/*.test.ts"],
    // The live layer's TLS needs a real dolt binary and has nothing to run without one: it runs where the binary
    // is (e2e/contracts.sh sets DOLTDB_E2E_DOLT_BIN), and fails loudly there if it cannot start dolt.
    exclude: [...configDefaults.exclude, ...(process.env.DOLTDB_E2E_DOLT_BIN ? [] : ["test/live/TlsRealDolt.test.ts"])],
    // A test that passes in 4 s alone can take 6 s while the suite saturates both cores of a 2-core machine:
    // vitest's 5 s default turned load into failures. Timeouts bound hangs; nothing here asserts speed.
    testTimeout: 60_000,
    // Starts the MariaDB of the adapter tests unless DOLTDB_TEST_MYSQL_URL names one.
    globalSetup: ["test/live/globalSetup.ts"]
  }
})
