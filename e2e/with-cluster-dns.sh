#!/usr/bin/env bash
# Runs a command on the host network (so it reaches the API server on 127.0.0.1 and pods on 10.244.x.y)
# but with /etc/hosts replaced, in a private mount namespace, by the records cluster DNS would serve
# (e2e/.work/hosts, kept current by the node agent). Use it for an operator run outside the cluster:
#   e2e/with-cluster-dns.sh npx doltdb-operator run
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
hosts="${E2E_WORK:-$here/.work}/hosts"
[[ -f "$hosts" ]] || { echo "no $hosts: is the e2e cluster up (npm run e2e:up)?" >&2; exit 1; }
[[ $# -gt 0 ]] || { echo "usage: $0 <command> [args...]" >&2; exit 2; }
# The agent rewrites the file in place, so the bind mount keeps showing the current records.
exec unshare --mount --propagation private -- /bin/sh -c 'mount --bind "$0" /etc/hosts && exec "$@"' "$hosts" "$@"
