#!/usr/bin/env bash
# The Kube and Dolt contract suites (the same behaviours the in-memory models are tested for) against the real
# servers the e2e harness builds: dolt sql-servers started by the Dolt suite, and a local kube-apiserver.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=e2e/versions.env
source e2e/versions.env
CACHE="${DOLTDB_E2E_CACHE:-$HOME/.cache/doltdb-operator-e2e}"
DOLT_BIN="$CACHE/dolt-$DOLT_VERSION/dolt"
[[ -x "$DOLT_BIN" ]] || DOLT_BIN="$CACHE/dolt-$DOLT_FALLBACK_VERSION/dolt"
[[ -x "$DOLT_BIN" ]] || { echo "no dolt binary in $CACHE: run npm run e2e:build" >&2; exit 1; }
DOLTDB_E2E_DOLT_BIN="$DOLT_BIN" vitest run --project @doltdb-op/dolt test/contract test/live/TlsRealDolt.test.ts
e2e/cluster.sh up
trap 'e2e/cluster.sh down' EXIT
DOLTDB_E2E_KUBECONFIG="$PWD/e2e/.work/kubeconfig" vitest run --project @doltdb-op/k8s test/KubeContract.test.ts
