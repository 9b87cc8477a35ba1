# Sourced by e2e/apiserver/build.sh and e2e/cluster/build.sh: the pinned Kubernetes release and
# the version stamps its binaries get, written once for both.

# kube_version: the k8s.io/kubernetes version that tools/go.mod requires (empty if none).
kube_version() {
  awk '$1 == "require" && $2 == "k8s.io/kubernetes" { print $3; exit }
       $1 == "k8s.io/kubernetes" && $2 ~ /^v/ { print $2; exit }' "$(dirname "${BASH_SOURCE[0]}")/go.mod"
}

# kube_ldflags VERSION: the version variables the upstream build stamps in (without them
# /version reports v0.0.0-master and clients print skew warnings), stripped binaries.
kube_ldflags() {
  local version="$1" minor flags="-s -w" pkg
  minor="${version#v1.}"
  minor="${minor%%.*}"
  for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
    flags+=" -X $pkg.gitVersion=$version -X $pkg.gitMajor=1 -X $pkg.gitMinor=$minor"
    flags+=" -X $pkg.gitTreeState=clean -X $pkg.buildDate=1970-01-01T00:00:00Z"
  done
  printf '%s\n' "$flags"
}
