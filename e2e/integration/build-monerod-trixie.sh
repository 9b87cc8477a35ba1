#!/usr/bin/env bash
# Installs Debian 13 "trixie"'s monero package (a current monerod, 0.18.4.x) into a root
# directory with mmdebstrap, for the network integration test to run as a second monerod
# version next to Debian 12's 0.18.0.0. Prints the root directory on stdout. Idempotent: a
# complete cached root is reused at once (the first build takes about 80 s; needs root).
#
#   bash e2e/integration/build-monerod-trixie.sh            # build or reuse
#   ROOT="$(bash e2e/integration/build-monerod-trixie.sh)"  # $ROOT/usr/bin/monerod
#
# Environment (optional):
#   MONERO_OPERATOR_CACHE  cache root (default: <repo>/.cache); the root lands in
#                          $MONERO_OPERATOR_CACHE/monero-trixie-rootfs
# e2e/integration/network.test.ts looks the root up at the same place.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
cache="${MONERO_OPERATOR_CACHE:-$repo/.cache}"
out="$cache/monero-trixie-rootfs"

log() { printf '[build-monerod-trixie] %s\n' "$*" >&2; }

# The stamp is written last, so a build that was interrupted is never taken for a complete one.
if [[ -f "$out/.complete" && -x "$out/usr/bin/monerod" ]]; then
  log "cached at $out ($(cat "$out/.complete"))"
  printf '%s\n' "$out"
  exit 0
fi

[[ "$(id -u)" -eq 0 ]] || { log "needs root (mmdebstrap into a directory)"; exit 1; }
command -v mmdebstrap >/dev/null || { log "mmdebstrap is required: apt-get install -y mmdebstrap"; exit 1; }

mkdir -p "$cache"
tmp="$(mktemp -d "$cache/.monero-trixie-rootfs.XXXXXX")"
trap 'rm -rf "$tmp"' EXIT
# mmdebstrap wants an empty (or absent) target.
rmdir "$tmp"
start=$SECONDS
log "installing trixie's monero into $out (about 80 s the first time)"
mmdebstrap --quiet --variant=minbase --include=monero trixie "$tmp" >&2
version="$(chroot "$tmp" dpkg-query -W -f '${Version}' monero)"
# Drop what a monerod run does not need and a large cache would only carry around.
rm -rf "$tmp/var/cache/apt" "$tmp/var/lib/apt/lists" "$tmp/usr/share/doc" "$tmp/usr/share/man" "$tmp/usr/share/locale"
printf 'monero %s\n' "$version" >"$tmp/.complete"
rm -rf "$out"
mv "$tmp" "$out"
trap - EXIT
log "monero $version ready in $((SECONDS - start)) s"
printf '%s\n' "$out"
