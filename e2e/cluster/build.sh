#!/usr/bin/env bash
# Provides everything the single-node cluster tier (npm run test:cluster) runs: the apiserver
# tier's kube-apiserver and etcd (by e2e/apiserver/build.sh) and:
#   kube-controller-manager, kube-scheduler, kubelet, kube-proxy
#             built from the k8s.io/kubernetes module pinned in e2e/apiserver/tools/go.mod,
#             into $MONERO_OPERATOR_CACHE/kubernetes-node-<version>/
#   coredns   e2e/cluster/coredns (CoreDNS $COREDNS_VERSION with the plugins the tier uses),
#             into $MONERO_OPERATOR_CACHE/coredns-<version>-cluster/
#   images    e2e/cluster/images.sh (Node base, our image, monerod, xmrig, pause), built in
#             the background while Go compiles
# and checks the Debian packages the node runs (bash .ci/setup installs them): containerd,
# runc, containernetworking-plugins, iptables, conntrack, buildah, mmdebstrap.
# Idempotent: cached binaries and images are reused, so a warm run takes a few seconds.
#
# Environment (all optional):
#   MONERO_OPERATOR_CACHE     cache root (default: <repo>/.cache)
#   KUBE_NODE_FORCE_BUILD=1   rebuild the Kubernetes binaries even if cached
#   CLUSTER_SKIP_IMAGES=1     binaries only
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
tools="$repo/e2e/apiserver/tools"
cache="${MONERO_OPERATOR_CACHE:-$repo/.cache}"
coredns_version="${COREDNS_VERSION:-v1.15.0}"

log() { printf '[cluster/build] %s\n' "$*" >&2; }

missing=()
for cmd in containerd runc ctr iptables iptables-save conntrack buildah mmdebstrap ip; do
  command -v "$cmd" >/dev/null || missing+=("$cmd")
done
for plugin in bridge host-local portmap loopback; do
  [[ -x "/usr/lib/cni/$plugin" ]] || missing+=("/usr/lib/cni/$plugin")
done
if ((${#missing[@]})); then
  log "missing: ${missing[*]} (bash .ci/setup installs the Debian packages)"
  exit 1
fi

# The images (mostly downloads and file copying) build while Go compiles (mostly CPU).
images_pid=""
if [[ "${CLUSTER_SKIP_IMAGES:-0}" != 1 ]]; then
  images_start=$SECONDS
  bash "$here/images.sh" &
  images_pid=$!
  trap '[[ -n "$images_pid" ]] && kill "$images_pid" 2>/dev/null' EXIT
fi

bash "$repo/e2e/apiserver/build.sh"

# shellcheck source=../apiserver/tools/kube-build.sh
source "$tools/kube-build.sh"
version="$(kube_version)"
[[ -n "$version" ]] || { log "cannot read the k8s.io/kubernetes version from $tools/go.mod"; exit 1; }

# --- Kubernetes node components -------------------------------------------------------------
components=(kube-controller-manager kube-scheduler kubelet kube-proxy)
out_dir="$cache/kubernetes-node-$version"
todo=()
for c in "${components[@]}"; do
  [[ -x "$out_dir/$c" && "${KUBE_NODE_FORCE_BUILD:-0}" != 1 ]] || todo+=("$c")
done
if ((${#todo[@]} == 0)); then
  log "${components[*]} $version: cached in $out_dir"
else
  command -v go >/dev/null || { log "go is required to build ${todo[*]}"; exit 1; }
  mkdir -p "$out_dir"
  ldflags="$(kube_ldflags "$version")"
  tmp="$out_dir/.tmp.$$"
  mkdir -p "$tmp"
  log "${todo[*]} $version: building into $out_dir (minutes; much longer without kube-apiserver's build cache)"
  start=$SECONDS
  # One go build for all of them: shared packages compile once. -mod=readonly as for kube-apiserver.
  (cd "$tools" && CGO_ENABLED=0 GOFLAGS=-mod=readonly \
    go build -trimpath -ldflags="$ldflags" -o "$tmp/" "${todo[@]/#/k8s.io/kubernetes/cmd/}")
  for c in "${todo[@]}"; do mv -f "$tmp/$c" "$out_dir/$c"; done
  rm -rf "$tmp"
  log "${todo[*]} $version: built in $((SECONDS - start))s"
fi

# --- CoreDNS --------------------------------------------------------------------------------
# coredns/main.go: CoreDNS with only the plugins the tier's Corefile uses; coredns/go.mod pins
# CoreDNS $coredns_version and go.sum everything it compiles.
coredns_dir="$cache/coredns-$coredns_version-cluster"
if [[ -x "$coredns_dir/coredns" ]]; then
  log "coredns $coredns_version: cached at $coredns_dir/coredns"
else
  command -v go >/dev/null || { log "go is required to build coredns"; exit 1; }
  grep -q "github.com/coredns/coredns $coredns_version\$" "$here/coredns/go.mod" ||
    { log "e2e/cluster/coredns/go.mod does not require coredns $coredns_version"; exit 1; }
  mkdir -p "$coredns_dir"
  log "coredns $coredns_version: building into $coredns_dir"
  start=$SECONDS
  (cd "$here/coredns" && CGO_ENABLED=0 GOFLAGS=-mod=readonly \
    go build -trimpath -ldflags="-s -w" -o "$coredns_dir/.coredns.$$" .)
  mv -f "$coredns_dir/.coredns.$$" "$coredns_dir/coredns"
  log "coredns $coredns_version: built in $((SECONDS - start))s"
fi

# --- images ---------------------------------------------------------------------------------
if [[ -n "$images_pid" ]]; then
  wait "$images_pid" || { images_pid=""; log "images.sh failed"; exit 1; }
  images_pid=""
  log "images: ready in $((SECONDS - images_start))s"
fi
