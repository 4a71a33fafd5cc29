#!/usr/bin/env bash
# Local control plane for the e2e tests: etcd + kube-apiserver + kube-controller-manager on loopback,
# the CRDs from crds/, the VolumeSnapshot CRDs and snapshot-controller (when e2e/build.sh built them), and the
# node agent (e2e/agent) standing in for scheduler + kubelet + the CSI driver's sidecars.
#   e2e/cluster.sh up      start everything (idempotent: a running cluster is left alone)
#   e2e/cluster.sh down    stop everything it started, remove pod namespaces/interfaces and the state
#   e2e/cluster.sh status  print what is running
# Everything lives in $E2E_WORK (default e2e/.work); binaries come from e2e/build.sh's cache.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/.." && pwd)"
# shellcheck source=versions.env
source "$here/versions.env"
CACHE="${DOLTDB_E2E_CACHE:-$HOME/.cache/doltdb-operator-e2e}"
WORK="${E2E_WORK:-$here/.work}"
ETCD_PORT="${E2E_ETCD_PORT:-23790}"
ETCD_PEER_PORT="${E2E_ETCD_PEER_PORT:-23800}"
API_PORT="${E2E_API_PORT:-26443}"
# Nodes, each run by its own agent process: e2e-node-1..N, pods of node i on 10.244.i.0/24.
NODES="${E2E_NODES:-3}"
# Pod network: names and range shared with the agent (e2e/agent/sandbox.ts reads the same env).
BRIDGE="${E2E_BRIDGE:-dolte2e0}"
NETNS_PREFIX="${E2E_NETNS_PREFIX:-dolte2e-}"
# Object stores for the backup scenarios, on the bridge address (pods reach it; dolt's S3 client uses path-style
# addressing only for an IP endpoint). The tests read the endpoints from $RUN/{moto,fake-gcs-server}.endpoint.
BRIDGE_ADDRESS="${E2E_BRIDGE_ADDRESS:-10.244.0.1}"
MOTO_PORT="${E2E_MOTO_PORT:-45123}"
GCS_PORT="${E2E_GCS_PORT:-45124}"
# The API server listens on the bridge address too, so pods reach it (KUBERNETES_SERVICE_HOST) as host processes do.
API_HOST="$BRIDGE_ADDRESS"
PKI="$WORK/pki"
RUN="$WORK/run"
LOGS="$WORK/logs"
KUBECONFIG_OUT="$WORK/kubeconfig"

log() { printf '[e2e-cluster %s] %s\n' "$(date -u +%H:%M:%S.%3N)" "$*" >&2; }
bin() { echo "$CACHE/$1-$2/$1"; }
# $E2E_DOLT_BIN if set, the pinned dolt if it was built, else the fallback the proxy serves (see versions.env).
dolt_release() {
  if [[ -n "${E2E_DOLT_BIN:-}" ]]; then echo "${E2E_DOLT_RELEASE:-unknown}"; return; fi
  if [[ -x "$(bin dolt "$DOLT_VERSION")" ]]; then echo "$DOLT_RELEASE"; else echo "$DOLT_FALLBACK_RELEASE"; fi
}
dolt_bin() {
  if [[ -n "${E2E_DOLT_BIN:-}" ]]; then echo "$E2E_DOLT_BIN"; return; fi
  if [[ -x "$(bin dolt "$DOLT_VERSION")" ]]; then bin dolt "$DOLT_VERSION"; else bin dolt "$DOLT_FALLBACK_VERSION"; fi
}

alive() { [[ -f "$RUN/$1.pid" ]] && kill -0 "$(cat "$RUN/$1.pid")" 2>/dev/null; }

# start <name> <cmd...>: own session (so the whole group can be signalled), pid file, log file.
start() {
  local name="$1"
  shift
  if alive "$name"; then log "$name already running (pid $(cat "$RUN/$name.pid"))"; return; fi
  setsid "$@" >"$LOGS/$name.log" 2>&1 </dev/null &
  echo $! >"$RUN/$name.pid"
  log "$name started (pid $!)"
}

# stop <name> [grace seconds]: TERM the process group, KILL after the grace period.
stop() {
  local name="$1" grace="${2:-10}" pid i
  [[ -f "$RUN/$name.pid" ]] || return 0
  pid="$(cat "$RUN/$name.pid")"
  if kill -0 "$pid" 2>/dev/null; then
    kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
    for ((i = 0; i < grace * 10; i++)); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    if kill -0 "$pid" 2>/dev/null; then
      log "$name did not stop in ${grace}s, killing"
      kill -KILL -- "-$pid" 2>/dev/null || kill -KILL "$pid" 2>/dev/null || true
    fi
    log "$name stopped"
  fi
  rm -f "$RUN/$name.pid"
}

# wait_for <what> <seconds> <cmd...>
wait_for() {
  local what="$1" secs="$2" i
  shift 2
  for ((i = 0; i < secs * 5; i++)); do
    if "$@" >/dev/null 2>&1; then return 0; fi
    sleep 0.2
  done
  log "timed out after ${secs}s waiting for $what"
  return 1
}

gen_pki() {
  # .done-2: the serving certificate names the bridge address (pods' in-cluster config) and the Service IP.
  [[ -f "$PKI/.done-2" ]] && return
  rm -rf "$PKI" && mkdir -p "$PKI"
  (
    cd "$PKI"
    openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.crt -days 30 -subj "/CN=doltdb-e2e-ca" 2>/dev/null
    # Serving cert for the API server: the bridge address it listens on, the kubernetes Service IP, loopback and
    # the in-cluster names clients may use.
    cat >apiserver.ext <<EOF
subjectAltName=IP:$BRIDGE_ADDRESS,IP:10.96.0.1,IP:127.0.0.1,DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.cluster.local
extendedKeyUsage=serverAuth
EOF
    issue() { # issue <name> <subject> [extfile]
      openssl req -newkey rsa:2048 -nodes -keyout "$1.key" -out "$1.csr" -subj "$2" 2>/dev/null
      openssl x509 -req -in "$1.csr" -CA ca.crt -CAkey ca.key -CAcreateserial -out "$1.crt" -days 30 \
        ${3:+-extfile "$3"} 2>/dev/null
      rm -f "$1.csr"
    }
    issue apiserver "/CN=kube-apiserver" apiserver.ext
    issue admin "/O=system:masters/CN=e2e-admin"
    issue controller-manager "/CN=system:kube-controller-manager"
    # Service-account token signing key (the API server signs, the controller manager's token controller too).
    openssl genrsa -out sa.key 2048 2>/dev/null
    openssl rsa -in sa.key -pubout -out sa.pub 2>/dev/null
  )
  touch "$PKI/.done-2"
}

# The pod bridge with the host's address, before the API server binds to it (the agents find it and reuse it).
ensure_bridge() {
  ip link show "$BRIDGE" >/dev/null 2>&1 || ip link add "$BRIDGE" type bridge
  ip -o addr show dev "$BRIDGE" | grep -q " $BRIDGE_ADDRESS/" || ip addr add "$BRIDGE_ADDRESS/16" dev "$BRIDGE"
  ip link set "$BRIDGE" up
}

kubeconfig() { # kubeconfig <file> <client cert name>
  cat >"$1" <<EOF
apiVersion: v1
kind: Config
clusters:
- name: e2e
  cluster:
    server: https://$API_HOST:$API_PORT
    certificate-authority: $PKI/ca.crt
users:
- name: $2
  user:
    client-certificate: $PKI/$2.crt
    client-key: $PKI/$2.key
contexts:
- name: e2e
  context: {cluster: e2e, user: $2}
current-context: e2e
EOF
}

api_ready() {
  curl -sf --cacert "$PKI/ca.crt" --cert "$PKI/admin.crt" --key "$PKI/admin.key" \
    "https://$API_HOST:$API_PORT/readyz" >/dev/null
}

preflight() {
  # Namespaces, veths and mounts need root; say so instead of failing half-way.
  [[ "$(id -u)" == 0 ]] || { log "must run as root (network and mount namespaces)"; exit 1; }
  local t
  for t in ip nsenter unshare chroot openssl curl setsid; do
    command -v "$t" >/dev/null || { log "missing tool: $t (iproute2, util-linux, coreutils, openssl, curl)"; exit 1; }
  done
}

up() {
  local t0 t1
  t0=$(date +%s.%N)
  preflight
  mkdir -p "$WORK" "$RUN" "$LOGS"
  # A fresh cluster starts with fresh pod logs (the previous run's stay until then for post-mortems).
  alive kube-apiserver || rm -rf "$LOGS/pods" "$LOGS/operator.log"
  for b in "$(bin etcd "$ETCD_VERSION")" "$(bin kube-apiserver "$KUBERNETES_VERSION")" \
    "$(bin kube-controller-manager "$KUBERNETES_VERSION")" "$(dolt_bin)"; do
    [[ -x "$b" ]] || { log "missing $b: run npm run e2e:build first"; exit 1; }
  done
  # A half-started cluster is torn down again, so a failed `up` leaves nothing running.
  trap 'rc=$?; if [[ $rc -ne 0 ]]; then log "up failed ($rc), tearing down"; down; fi' EXIT
  gen_pki
  ensure_bridge
  kubeconfig "$KUBECONFIG_OUT" admin
  kubeconfig "$WORK/controller-manager.kubeconfig" controller-manager

  start etcd "$(bin etcd "$ETCD_VERSION")" --name e2e --data-dir "$WORK/etcd" \
    --listen-client-urls "http://127.0.0.1:$ETCD_PORT" --advertise-client-urls "http://127.0.0.1:$ETCD_PORT" \
    --listen-peer-urls "http://127.0.0.1:$ETCD_PEER_PORT" \
    --initial-advertise-peer-urls "http://127.0.0.1:$ETCD_PEER_PORT" \
    --initial-cluster "e2e=http://127.0.0.1:$ETCD_PEER_PORT" \
    --unsafe-no-fsync --quota-backend-bytes 1073741824 --log-level warn
  wait_for etcd 30 curl -sf "http://127.0.0.1:$ETCD_PORT/health"

  start kube-apiserver "$(bin kube-apiserver "$KUBERNETES_VERSION")" \
    --etcd-servers "http://127.0.0.1:$ETCD_PORT" \
    --bind-address "$API_HOST" --advertise-address "$API_HOST" --secure-port "$API_PORT" \
    --tls-cert-file "$PKI/apiserver.crt" --tls-private-key-file "$PKI/apiserver.key" \
    --client-ca-file "$PKI/ca.crt" \
    --authorization-mode RBAC \
    --service-account-issuer https://kubernetes.default.svc.cluster.local \
    --service-account-key-file "$PKI/sa.pub" --service-account-signing-key-file "$PKI/sa.key" \
    --api-audiences https://kubernetes.default.svc.cluster.local \
    --service-cluster-ip-range 10.96.0.0/16 \
    --endpoint-reconciler-type none \
    --kubelet-preferred-address-types InternalIP \
    --allow-privileged=true --profiling=false -v=1
  wait_for kube-apiserver 60 api_ready

  # E2E_KCM_ARGS adds flags, e.g. "--node-monitor-grace-period=20s" for faster node-loss detection.
  # shellcheck disable=SC2086
  start kube-controller-manager "$(bin kube-controller-manager "$KUBERNETES_VERSION")" \
    --kubeconfig "$WORK/controller-manager.kubeconfig" \
    --secure-port 0 --leader-elect=false \
    --use-service-account-credentials=true \
    --service-account-private-key-file "$PKI/sa.key" --root-ca-file "$PKI/ca.crt" \
    --cluster-signing-cert-file "$PKI/ca.crt" --cluster-signing-key-file "$PKI/ca.key" \
    --cluster-name doltdb-e2e -v=1 ${E2E_KCM_ARGS:-}

  # CRDs, default StorageClass, then the node agent; apply.ts waits for the CRDs to be Established.
  local snapshot_crds="$CACHE/snapshot-crds-$SNAPSHOTTER_VERSION" snapshot_controller
  snapshot_controller="$(bin snapshot-controller "$SNAPSHOTTER_VERSION")"
  if [[ -x "$snapshot_controller" && -f "$snapshot_crds/.ready" ]]; then
    (cd "$repo" && KUBECONFIG="$KUBECONFIG_OUT" npx node e2e/apply.ts "${E2E_CRDS:-$repo/crds}" "$snapshot_crds")
    start snapshot-controller "$snapshot_controller" --kubeconfig "$KUBECONFIG_OUT" --leader-election=false \
      --retry-crd-interval-max=5s -v=2
  else
    log "no snapshot-controller $SNAPSHOTTER_VERSION in $CACHE (e2e/build.sh snapshot-controller): VolumeSnapshots unavailable"
    (cd "$repo" && KUBECONFIG="$KUBECONFIG_OUT" npx node e2e/apply.ts "${E2E_CRDS:-$repo/crds}")
  fi
  # Tests give DoltDBs this engineVersion, so the operator's version-gated config matches the binary.
  dolt_release >"$RUN/dolt-release"
  # One agent per node, started one after the other (node 1 also schedules and provisions volumes).
  local i
  for ((i = 1; i <= NODES; i++)); do
    start "node-agent-$i" env KUBECONFIG="$KUBECONFIG_OUT" E2E_WORK="$WORK" E2E_NODE_INDEX="$i" \
      E2E_DOLT_BIN="$(dolt_bin)" E2E_DOLT_RELEASE="$(dolt_release)" E2E_BRIDGE="$BRIDGE" E2E_NETNS_PREFIX="$NETNS_PREFIX" \
      "$repo/node_modules/.bin/node" "$here/agent/main.ts"
    wait_for "node agent $i to register a Ready node" 30 test -f "$RUN/node-agent-$i.ready"
  done
  object_stores
  trap - EXIT
  t1=$(date +%s.%N)
  log "cluster up in $(awk "BEGIN{printf \"%.1f\", $t1 - $t0}") s; KUBECONFIG=$KUBECONFIG_OUT"
}

# moto (S3 + DynamoDB) and fake-gcs-server, when e2e/build.sh installed them (tests that need one fail loudly
# without it: the endpoint file is missing).
object_stores() {
  local moto="$CACHE/moto-$MOTO_VERSION" gcs
  gcs="$(bin fake-gcs-server "$FAKE_GCS_SERVER_VERSION")"
  rm -f "$RUN/moto.endpoint" "$RUN/fake-gcs-server.endpoint"
  if [[ -f "$moto/.ready" ]]; then
    start moto "$moto/bin/moto_server" -H "$BRIDGE_ADDRESS" -p "$MOTO_PORT"
    wait_for moto 60 curl -s -o /dev/null "http://$BRIDGE_ADDRESS:$MOTO_PORT/"
    echo "http://$BRIDGE_ADDRESS:$MOTO_PORT" >"$RUN/moto.endpoint"
  else
    log "moto not installed (e2e/build.sh moto): the S3 backup scenarios cannot run"
  fi
  if [[ -x "$gcs" ]]; then
    # -public-host: the Go client reads objects with the XML API (`GET /<bucket>/<object>`), which fake-gcs-server
    # routes only for requests whose Host is its public host (default storage.googleapis.com); any other Host falls
    # to its bucket-in-Host route and every read of an object is a 404 (dolt: "Blob not found" right after the
    # compose of a table file that did succeed).
    start fake-gcs-server "$gcs" -scheme http -host "$BRIDGE_ADDRESS" -port "$GCS_PORT" -backend memory \
      -public-host "$BRIDGE_ADDRESS:$GCS_PORT" -external-url "http://$BRIDGE_ADDRESS:$GCS_PORT" -log-level warn
    wait_for fake-gcs-server 30 curl -sf -o /dev/null "http://$BRIDGE_ADDRESS:$GCS_PORT/storage/v1/b"
    echo "$BRIDGE_ADDRESS:$GCS_PORT" >"$RUN/fake-gcs-server.endpoint"
  else
    log "fake-gcs-server not built (e2e/build.sh fake-gcs-server): the GCS backup scenarios cannot run"
  fi
}

# Removes every pod network namespace and the bridge, killing whatever still runs inside.
net_cleanup() {
  local ns pids
  for ns in $(ip netns list 2>/dev/null | awk '{print $1}' | grep "^$NETNS_PREFIX" || true); do
    pids="$(ip netns pids "$ns" 2>/dev/null || true)"
    # shellcheck disable=SC2086
    [[ -z "$pids" ]] || kill -KILL $pids 2>/dev/null || true
    ip netns del "$ns" 2>/dev/null || true
    log "removed leftover netns $ns"
  done
  if ip link show "$BRIDGE" >/dev/null 2>&1; then ip link del "$BRIDGE" && log "removed bridge $BRIDGE"; fi
}

down() {
  mkdir -p "$RUN"
  # The agent stops its pods (preStop hooks, grace periods) and removes their namespaces itself.
  local agent
  for agent in "$RUN"/node-agent-*.pid; do
    [[ -e "$agent" ]] || continue
    agent="$(basename "$agent" .pid)"
    # A frozen node (faults.ts nodeDown) must be thawed to hear the TERM.
    kill -CONT "$(cat "$RUN/$agent.pid")" 2>/dev/null || true
    stop "$agent" 60 &
  done
  wait
  stop moto 5
  stop fake-gcs-server 5
  stop snapshot-controller 10
  stop kube-controller-manager 10
  stop kube-apiserver 20
  stop etcd 10
  # After the API server: it listens on the bridge's address.
  net_cleanup
  # Refuse to delete the work dir if anything is still mounted under it (a pod root leaking into the
  # host mount namespace would otherwise let rm follow bind mounts into the host's /usr).
  if grep -q " $WORK" /proc/self/mountinfo; then
    log "mounts left under $WORK:" && grep " $WORK" /proc/self/mountinfo >&2
    exit 1
  fi
  if [[ "${E2E_KEEP_WORK:-}" != 1 ]]; then
    rm -rf --one-file-system "$WORK/etcd" "$WORK/volumes" "$WORK/snapshots" "$WORK/pods" "$RUN"
  fi
  log "cluster down"
}

status() {
  local n
  for n in etcd kube-apiserver kube-controller-manager snapshot-controller moto fake-gcs-server $(cd "$RUN" 2>/dev/null && ls node-agent-*.pid 2>/dev/null | sed 's/\.pid$//'); do
    if alive "$n"; then echo "$n: running (pid $(cat "$RUN/$n.pid"))"; else echo "$n: stopped"; fi
  done
  ip netns list 2>/dev/null | grep "^$NETNS_PREFIX" || true
}

case "${1:-}" in
up) up ;;
down) down ;;
status) status ;;
*) echo "usage: $0 up|down|status" >&2 && exit 2 ;;
esac
