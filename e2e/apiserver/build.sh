#!/usr/bin/env bash
# Provides the binaries of the real-apiserver test tier (npm run test:apiserver):
#   kube-apiserver  built from the k8s.io/kubernetes Go module pinned in tools/go.mod
#   etcd            Debian's etcd-server package (installed here when missing and root)
# Idempotent: a cached kube-apiserver is reused, so a second run takes about a second.
#
# Environment (all optional):
#   MONERO_OPERATOR_CACHE  cache root (default: <repo>/.cache); the binary lands in
#                          $MONERO_OPERATOR_CACHE/kube-apiserver-<version>/kube-apiserver
#   KUBE_APISERVER_BIN     use this kube-apiserver instead of building one
#   ETCD_BIN               use this etcd instead of /usr/bin/etcd
#   KUBEBUILDER_ASSETS     a directory holding kube-apiserver and etcd (e.g. from
#                          setup-envtest); used for whichever binary is not set above
#   KUBE_APISERVER_FORCE_BUILD=1  rebuild even if the cached binary exists
# The tests (control-plane.ts) look the binaries up in the same order.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
tools="$here/tools"
cache="${MONERO_OPERATOR_CACHE:-$repo/.cache}"

log() { printf '[apiserver/build] %s\n' "$*" >&2; }

# The pinned release is the one tools/go.mod requires; no second copy to drift.
# shellcheck source=tools/kube-build.sh
source "$tools/kube-build.sh"
version="$(kube_version)"
if [[ -z "$version" ]]; then
  log "cannot read the k8s.io/kubernetes version from $tools/go.mod"
  exit 1
fi

# --- kube-apiserver ---------------------------------------------------------
if [[ -n "${KUBE_APISERVER_BIN:-}" ]]; then
  [[ -x "$KUBE_APISERVER_BIN" ]] || { log "KUBE_APISERVER_BIN=$KUBE_APISERVER_BIN is not executable"; exit 1; }
  log "kube-apiserver: using KUBE_APISERVER_BIN=$KUBE_APISERVER_BIN"
elif [[ -n "${KUBEBUILDER_ASSETS:-}" && -x "$KUBEBUILDER_ASSETS/kube-apiserver" ]]; then
  log "kube-apiserver: using KUBEBUILDER_ASSETS=$KUBEBUILDER_ASSETS"
else
  out_dir="$cache/kube-apiserver-$version"
  out="$out_dir/kube-apiserver"
  if [[ -x "$out" && "${KUBE_APISERVER_FORCE_BUILD:-0}" != 1 ]]; then
    log "kube-apiserver $version: cached at $out"
  else
    command -v go >/dev/null || { log "go is required to build kube-apiserver (or set KUBE_APISERVER_BIN)"; exit 1; }
    mkdir -p "$out_dir"
    ldflags="$(kube_ldflags "$version")"
    log "kube-apiserver $version: building into $out (10-30 minutes on 2 cores the first time)"
    start=$SECONDS
    tmp="$out.tmp.$$"
    trap 'rm -f "$tmp"' EXIT
    # -mod=readonly: go.mod and go.sum are complete, so the build uses exactly the pinned
    # module versions and fails loudly rather than resolving anything anew.
    (cd "$tools" && CGO_ENABLED=0 GOFLAGS=-mod=readonly \
      go build -trimpath -ldflags="$ldflags" -o "$tmp" k8s.io/kubernetes/cmd/kube-apiserver)
    mv -f "$tmp" "$out"   # atomic: a half-written binary is never mistaken for a cached one
    trap - EXIT
    log "kube-apiserver $version: built in $((SECONDS - start))s"
  fi
fi

# --- etcd -------------------------------------------------------------------
if [[ -n "${ETCD_BIN:-}" ]]; then
  [[ -x "$ETCD_BIN" ]] || { log "ETCD_BIN=$ETCD_BIN is not executable"; exit 1; }
  log "etcd: using ETCD_BIN=$ETCD_BIN"
elif [[ -n "${KUBEBUILDER_ASSETS:-}" && -x "$KUBEBUILDER_ASSETS/etcd" ]]; then
  log "etcd: using KUBEBUILDER_ASSETS=$KUBEBUILDER_ASSETS"
else
  if [[ ! -x /usr/bin/etcd ]]; then
    if [[ "$(id -u)" == 0 ]] && command -v apt-get >/dev/null; then
      log "etcd: installing Debian package etcd-server"
      DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends etcd-server >&2 \
        || { apt-get update >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends etcd-server >&2; }
    else
      log "etcd: /usr/bin/etcd is missing; install etcd-server or set ETCD_BIN / KUBEBUILDER_ASSETS"
      exit 1
    fi
  fi
  log "etcd: $(/usr/bin/etcd --version | head -n 1)"
fi
