#!/usr/bin/env bash
# Builds the pinned kind release from its Go module (kind is a Go binary; Debian does not
# package it) and prints its path. Idempotent: a cached binary is reused at once.
#   KIND="$(bash e2e/kind/build-kind.sh)"
# Environment: MONERO_OPERATOR_CACHE (default <repo>/.cache; the binary lands in
# $MONERO_OPERATOR_CACHE/kind-<version>/kind), KIND_VERSION (override the pin), KIND_BIN
# (use this kind instead; printed back as is).
set -euo pipefail

# Pinned kind release. Keep in step with KIND_VERSION in e2e/kind/main.ts.
version="${KIND_VERSION:-v0.30.0}"

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
cache="${MONERO_OPERATOR_CACHE:-$repo/.cache}"
out_dir="$cache/kind-$version"
out="$out_dir/kind"
log() { printf '[build-kind] %s\n' "$*" >&2; }

if [[ -n "${KIND_BIN:-}" ]]; then
  [[ -x "$KIND_BIN" ]] || { log "KIND_BIN=$KIND_BIN is not executable"; exit 1; }
  printf '%s\n' "$KIND_BIN"; exit 0
fi
if [[ -x "$out" ]]; then
  log "kind $version: cached at $out"; printf '%s\n' "$out"; exit 0
fi
command -v go >/dev/null || { log "go is required to build kind (or set KIND_BIN)"; exit 1; }
mkdir -p "$out_dir"
tmp_bin="$(mktemp -d "$out_dir/.gobin.XXXXXX")"
trap 'rm -rf "$tmp_bin"' EXIT
log "kind $version: building into $out"
CGO_ENABLED=0 GOBIN="$tmp_bin" GOFLAGS="${GOFLAGS:+$GOFLAGS }-mod=mod" \
  go install -trimpath -ldflags="-s -w" "sigs.k8s.io/kind@$version" >&2
mv -f "$tmp_bin/kind" "$out"
log "kind $version: $("$out" version)"
printf '%s\n' "$out"
