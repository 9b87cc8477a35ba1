#!/usr/bin/env bash
# Builds the pinned Helm release from its Go module (Debian does not package Helm) and
# prints the binary's path on stdout. Idempotent: a cached binary is reused at once.
#
#   bash charts/build-helm.sh            # build (first time: a few minutes on 2 cores)
#   HELM="$(bash charts/build-helm.sh)"  # path to the binary
#
# Environment (all optional):
#   MONERO_OPERATOR_CACHE  cache root (default: <repo>/.cache); the binary lands in
#                          $MONERO_OPERATOR_CACHE/helm-<version>/helm
#   HELM_VERSION           override the pinned version (must exist in the Go module proxy:
#                          `go list -m -versions helm.sh/helm/v3`)
#   HELM_BIN               use this helm instead of building one (printed back as is)
# The chart tests (charts/*.test.ts) look the binary up in the same order.
set -euo pipefail

# Pinned Helm release. Keep in step with HELM_VERSION in charts/helm.ts.
version="${HELM_VERSION:-v3.19.5}"

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/.." && pwd)"
cache="${MONERO_OPERATOR_CACHE:-$repo/.cache}"
out_dir="$cache/helm-$version"
out="$out_dir/helm"

log() { printf '[build-helm] %s\n' "$*" >&2; }

if [[ -n "${HELM_BIN:-}" ]]; then
  [[ -x "$HELM_BIN" ]] || { log "HELM_BIN=$HELM_BIN is not executable"; exit 1; }
  log "using HELM_BIN=$HELM_BIN"
  printf '%s\n' "$HELM_BIN"
  exit 0
fi

if [[ -x "$out" ]]; then
  log "helm $version: cached at $out"
  printf '%s\n' "$out"
  exit 0
fi

command -v go >/dev/null || { log "go is required to build helm (or set HELM_BIN)"; exit 1; }
mkdir -p "$out_dir"
tmp_bin="$(mktemp -d "$out_dir/.gobin.XXXXXX")"
trap 'rm -rf "$tmp_bin"' EXIT

log "helm $version: building into $out (a few minutes on 2 cores the first time)"
start=$SECONDS
# Stamp the versions the way upstream's Makefile does: `helm version` tells the truth, and
# the default Kubernetes version of `helm template` / `helm lint` is the client-go minor that
# this Helm release is built against (unstamped, Helm assumes v1.20).
gomod="$(GOFLAGS=-mod=mod go mod download -json "helm.sh/helm/v3@$version" | sed -n 's/^[[:space:]]*"GoMod": "\(.*\)",*$/\1/p')"
k8s_minor="$(awk '$1 == "k8s.io/client-go" { split($2, v, "."); print v[2]; exit }' "$gomod")"
[[ -n "$k8s_minor" ]] || { log "cannot read the k8s.io/client-go version from $gomod"; exit 1; }
ldflags="-s -w -X helm.sh/helm/v3/internal/version.version=$version -X helm.sh/helm/v3/internal/version.gitTreeState=clean"
for pkg in helm.sh/helm/v3/pkg/lint/rules helm.sh/helm/v3/pkg/chartutil; do
  ldflags+=" -X $pkg.k8sVersionMajor=1 -X $pkg.k8sVersionMinor=$k8s_minor"
done
# go install into a private GOBIN, then an atomic rename: a half-written binary is never
# mistaken for a cached one.
CGO_ENABLED=0 GOBIN="$tmp_bin" GOFLAGS="${GOFLAGS:+$GOFLAGS }-mod=mod" \
  go install -trimpath -ldflags="$ldflags" "helm.sh/helm/v3/cmd/helm@$version" >&2
mv -f "$tmp_bin/helm" "$out"
log "helm $version: built in $((SECONDS - start))s: $("$out" version --short 2>/dev/null || echo '?')"
printf '%s\n' "$out"
