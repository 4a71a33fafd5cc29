#!/usr/bin/env bash
# Builds the e2e binaries (dolt, etcd, kube-apiserver, kube-controller-manager) from the Go module
# proxy into a cache outside the repo, keyed by version: $CACHE/<name>-<version>/<name>.
# A fresh machine builds; later runs find the binaries and do nothing.
# Usage: e2e/build.sh [etcd|kube-apiserver|kube-controller-manager|dolt|helm|moto|fake-gcs-server|snapshot-controller|kubectl ...]
# (default: all but kubectl)
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
# shellcheck source=versions.env
source "$here/versions.env"
CACHE="${DOLTDB_E2E_CACHE:-$HOME/.cache/doltdb-operator-e2e}"
# Shared 2-core machine: one build at a time, low priority, at most 2 parallel compile jobs.
GO_P="${E2E_GO_P:-2}"
mkdir -p "$CACHE"
exec 9>"$CACHE/.build.lock"
flock 9

log() { printf '[e2e-build %s] %s\n' "$(date -u +%H:%M:%S)" "$*" >&2; }

go_version_ok() {
  # dolt needs Go >= 1.26.2 (its go.mod), k8s v1.36 needs >= 1.26.0.
  local v
  v="$(go env GOVERSION | sed 's/^go//')"
  printf '%s\n%s\n' "1.26.2" "$v" | sort -V -C
}

# timed <name> <cmd...>: runs the build and records its wall time next to the binary.
timed() {
  local name="$1"
  shift
  local t0 t1
  t0=$(date +%s)
  "$@"
  t1=$(date +%s)
  log "$name built in $((t1 - t0)) s"
  echo "$((t1 - t0))" >"$CACHE/.build-seconds-$name"
}

build_dolt_at() {
  local version="$1" dir="$CACHE/dolt-$1"
  [[ -x "$dir/dolt" ]] && { log "dolt cached: $dir/dolt"; return; }
  log "building dolt @ $version"
  rm -rf "$dir.tmp" && mkdir -p "$dir.tmp"
  # No replace directives in dolt's go.mod, so `go install pkg@version` works directly.
  timed dolt env CGO_ENABLED=1 GOBIN="$dir.tmp" GOFLAGS=-buildvcs=false \
    nice -n 10 go install -p "$GO_P" -trimpath -ldflags "-s -w" \
    "github.com/dolthub/dolt/go/cmd/dolt@$version"
  rm -rf "$dir" && mv "$dir.tmp" "$dir"
}

build_dolt() {
  [[ -x "$CACHE/dolt-$DOLT_VERSION/dolt" ]] && { log "dolt cached: $CACHE/dolt-$DOLT_VERSION/dolt"; return; }
  # Ask the proxy first (cheap) so a refusal is reported as such, not as a failed build.
  local err
  if err="$(go mod download -json "github.com/dolthub/dolt/go@$DOLT_VERSION" 2>&1)"; then
    build_dolt_at "$DOLT_VERSION"
  else
    log "Go module proxy refused github.com/dolthub/dolt/go@$DOLT_VERSION:"
    printf '%s\n' "$err" | grep -m1 '"Error"' >&2 || printf '%s\n' "$err" >&2
    log "falling back to $DOLT_FALLBACK_VERSION (see versions.env)"
    build_dolt_at "$DOLT_FALLBACK_VERSION"
  fi
}

# The wrapper module: k8s.io/kubernetes replaces its staging modules with local paths, which a
# dependent module cannot follow, so pin each to the published v0.X.Y instead.
k8s_wrapper() {
  local w="$CACHE/src/k8s-wrapper-$KUBERNETES_VERSION"
  # .ready-2: the module graph also covers kubectl.
  if [[ -f "$w/.ready-2" ]]; then echo "$w"; return; fi
  local minor="${KUBERNETES_VERSION#v1.}"
  local staging="v0.$minor"
  rm -rf "$w" && mkdir -p "$w/etcd"
  local modfile="$w/kubernetes.mod"
  # Inside $(...) errexit does not apply: a proxy that cannot be reached must stop the build here, said plainly.
  if ! go mod download -json "k8s.io/kubernetes@$KUBERNETES_VERSION" >"$w/download.json"; then
    log "the Go module proxy ($(go env GOPROXY)) did not serve k8s.io/kubernetes@$KUBERNETES_VERSION:"
    grep -m1 '"Error"' "$w/download.json" >&2 || cat "$w/download.json" >&2
    rm -rf "$w"
    exit 1
  fi
  cp "$(go env GOMODCACHE)/cache/download/k8s.io/kubernetes/@v/$KUBERNETES_VERSION.mod" "$modfile"
  {
    echo "module doltdb-operator.e2e/k8s-wrapper"
    echo
    echo "go $(awk '$1=="go"{print $2; exit}' "$modfile")"
    echo
    echo "require k8s.io/kubernetes $KUBERNETES_VERSION"
    echo "require go.etcd.io/etcd/server/v3 $ETCD_VERSION"
    echo
    # Only the staging modules k8s.io/kubernetes requires as v0.0.0 need a pin.
    awk '$1 ~ /^k8s.io\// && $2 == "v0.0.0" {print "replace " $1 " => " $1 " '"$staging"'"}' "$modfile"
  } >"$w/go.mod"
  cat >"$w/tools.go" <<'GO'
//go:build tools

// Keeps the commands in the module graph for `go mod tidy`.
package tools

import (
	_ "k8s.io/kubernetes/cmd/kube-apiserver"
	_ "k8s.io/kubernetes/cmd/kube-controller-manager"
	_ "k8s.io/kubernetes/cmd/kubectl"
)
GO
  cat >"$w/etcd/main.go" <<'GO'
// Tiny main for the etcd server: the same entry point as etcd's own server/main.go.
package main

import (
	"os"

	"go.etcd.io/etcd/server/v3/etcdmain"
)

func main() { etcdmain.Main(os.Args) }
GO
  (cd "$w" && nice -n 10 go mod tidy -e >&2)
  touch "$w/.ready-2"
  echo "$w"
}

build_k8s_cmd() {
  local name="$1" pkg="$2" version="$3"
  local dir="$CACHE/$name-$version"
  [[ -x "$dir/$name" ]] && { log "$name cached: $dir/$name"; return; }
  local w
  w="$(k8s_wrapper)"
  local minor="${KUBERNETES_VERSION#v1.}"
  minor="${minor%%.*}"
  local vpkg=k8s.io/component-base/version
  local ld="-s -w -X $vpkg.gitVersion=$KUBERNETES_VERSION -X $vpkg.gitMajor=1 -X $vpkg.gitMinor=$minor"
  ld="$ld -X $vpkg.gitTreeState=clean -X $vpkg.buildDate=1970-01-01T00:00:00Z"
  log "building $name @ $version"
  rm -rf "$dir.tmp" && mkdir -p "$dir.tmp"
  timed "$name" env CGO_ENABLED=0 GOFLAGS=-buildvcs=false \
    sh -c "cd '$w' && nice -n 10 go build -p '$GO_P' -trimpath -ldflags '$ld' -o '$dir.tmp/$name' '$pkg'"
  rm -rf "$dir" && mv "$dir.tmp" "$dir"
}

build_helm() {
  local dir="$CACHE/helm-$HELM_VERSION"
  [[ -x "$dir/helm" ]] && { log "helm cached: $dir/helm"; return; }
  log "building helm @ $HELM_VERSION"
  rm -rf "$dir.tmp" && mkdir -p "$dir.tmp"
  # No replace directives in helm's go.mod; without the ldflag `helm version` prints the source default (v4.3).
  timed helm env CGO_ENABLED=0 GOBIN="$dir.tmp" GOFLAGS="-mod=mod -buildvcs=false" \
    nice -n 10 go install -p "$GO_P" -trimpath \
    -ldflags "-s -w -X helm.sh/helm/v4/internal/version.version=$HELM_VERSION" \
    "helm.sh/helm/v4/cmd/helm@$HELM_VERSION"
  rm -rf "$dir" && mv "$dir.tmp" "$dir"
}

# moto server (S3 + DynamoDB in one process) in a virtual environment; boto3 comes with it (the harness creates
# the bucket and the DynamoDB table with it).
build_moto() {
  local dir="$CACHE/moto-$MOTO_VERSION"
  [[ -f "$dir/.ready" ]] && { log "moto cached: $dir/bin/moto_server"; return; }
  log "installing moto[server,s3,dynamodb] $MOTO_VERSION"
  # A virtual environment is not relocatable: built in place, marked ready when complete.
  rm -rf "$dir"
  python3 -m venv "$dir"
  timed moto nice -n 10 "$dir/bin/pip" install --quiet "moto[server,s3,dynamodb]==$MOTO_VERSION"
  touch "$dir/.ready"
}

build_fake_gcs_server() {
  local dir="$CACHE/fake-gcs-server-$FAKE_GCS_SERVER_VERSION"
  [[ -x "$dir/fake-gcs-server" ]] && { log "fake-gcs-server cached: $dir/fake-gcs-server"; return; }
  log "building fake-gcs-server @ $FAKE_GCS_SERVER_VERSION"
  rm -rf "$dir.tmp" && mkdir -p "$dir.tmp"
  timed fake-gcs-server env CGO_ENABLED=0 GOBIN="$dir.tmp" GOFLAGS="-mod=mod -buildvcs=false" \
    nice -n 10 go install -p "$GO_P" -trimpath -ldflags "-s -w" \
    "github.com/fsouza/fake-gcs-server@$FAKE_GCS_SERVER_VERSION"
  rm -rf "$dir" && mv "$dir.tmp" "$dir"
}

# snapshot-controller: the main module replaces its client/v8 with ./client, so `go install …@version` is refused;
# a wrapper module requiring both modules at the same version builds it. The CRDs come from the client module zip
# (cluster.sh reads them from $CACHE/snapshot-crds-<version>/).
build_snapshot_controller() {
  local version="$SNAPSHOTTER_VERSION" dir="$CACHE/snapshot-controller-$SNAPSHOTTER_VERSION"
  local crds="$CACHE/snapshot-crds-$SNAPSHOTTER_VERSION"
  local w="$CACHE/src/snapshot-wrapper-$version"
  if [[ ! -f "$crds/.ready" ]]; then
    local client
    client="$(go mod download -json "github.com/kubernetes-csi/external-snapshotter/client/v8@$version" |
      awk -F'"' '$2=="Dir"{print $4; exit}')"
    rm -rf "$crds" && mkdir -p "$crds" && cp "$client"/config/crd/*.yaml "$crds/" && chmod u+w "$crds"/*.yaml
    rm -f "$crds/kustomization.yaml"
    touch "$crds/.ready"
  fi
  [[ -x "$dir/snapshot-controller" ]] && { log "snapshot-controller cached: $dir/snapshot-controller"; return; }
  if [[ ! -f "$w/.ready" ]]; then
    rm -rf "$w" && mkdir -p "$w"
    cat >"$w/go.mod" <<MOD
module doltdb-operator.e2e/snapshot-wrapper

go 1.26.0

require (
	github.com/kubernetes-csi/external-snapshotter/v8 $version
	github.com/kubernetes-csi/external-snapshotter/client/v8 $version
)
MOD
    cat >"$w/tools.go" <<'GO'
//go:build tools

// Keeps the command in the module graph for `go mod tidy`.
package tools

import _ "github.com/kubernetes-csi/external-snapshotter/v8/cmd/snapshot-controller"
GO
    (cd "$w" && nice -n 10 go mod tidy -e >&2)
    touch "$w/.ready"
  fi
  log "building snapshot-controller @ $version"
  rm -rf "$dir.tmp" && mkdir -p "$dir.tmp"
  timed snapshot-controller env CGO_ENABLED=0 GOFLAGS=-buildvcs=false \
    sh -c "cd '$w' && nice -n 10 go build -p '$GO_P' -trimpath -ldflags '-s -w' -o '$dir.tmp/snapshot-controller' github.com/kubernetes-csi/external-snapshotter/v8/cmd/snapshot-controller"
  rm -rf "$dir" && mv "$dir.tmp" "$dir"
}

go_version_ok || { log "need Go >= 1.26.2, have $(go env GOVERSION)"; exit 1; }
targets=("$@")
[[ ${#targets[@]} -gt 0 ]] || targets=(etcd kube-apiserver kube-controller-manager dolt helm moto fake-gcs-server snapshot-controller)
for t in "${targets[@]}"; do
  case "$t" in
  dolt) build_dolt ;;
  helm) build_helm ;;
  moto) build_moto ;;
  fake-gcs-server) build_fake_gcs_server ;;
  etcd) build_k8s_cmd etcd ./etcd "$ETCD_VERSION" ;;
  kube-apiserver) build_k8s_cmd kube-apiserver k8s.io/kubernetes/cmd/kube-apiserver "$KUBERNETES_VERSION" ;;
  kube-controller-manager)
    build_k8s_cmd kube-controller-manager k8s.io/kubernetes/cmd/kube-controller-manager "$KUBERNETES_VERSION"
    ;;
  snapshot-controller) build_snapshot_controller ;;
  # Optional, for people poking at a running cluster: not needed by the tests.
  kubectl) build_k8s_cmd kubectl k8s.io/kubernetes/cmd/kubectl "$KUBERNETES_VERSION" ;;
  *) log "unknown binary: $t" && exit 2 ;;
  esac
done
log "binaries in $CACHE"
