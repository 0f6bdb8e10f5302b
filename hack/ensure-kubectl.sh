#!/usr/bin/env bash
# ensure-kubectl.sh prints the path of the kubectl the tests use, so that no
# test depends on a kubectl that happens to be installed:
#
#   1. $KINC_KUBECTL when set (it must be executable);
#   2. else `kubectl` on the PATH when its client version is 1.27-1.33
#      (skipped with --build);
#   3. else a pinned kubectl (KUBECTL_VERSION below) built from the staging
#      module k8s.io/kubectl with the Go module proxy, in a throwaway module
#      under the user cache dir (as kinc builds crictl), cached per version
#      and OS/arch, and linked from bin/kubectl.
#
# The Makefile's integration, e2e and test targets export its answer as
# KINC_KUBECTL; internal/testenv.RequireKubectl reads that (then bin/kubectl,
# then the PATH). The first build takes several minutes on 2 cores; later
# runs only compare files.
#
# With --skew it also builds the oldest and newest supported kubectl
# (OLDEST_VERSION, KUBECTL_VERSION) into bin/kubectl.1.27 and bin/kubectl.1.33,
# which the multi-version tests run beside the primary one
# (internal/testenv.KubectlVersions), and prints nothing.
#
# Usage: hack/ensure-kubectl.sh [--build | --skew]
# Environment:
#   KINC_KUBECTL          use this binary, do nothing else
#   KINC_KUBECTL_VERSION  the pinned version to build (default below)
set -o errexit -o nounset -o pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

KUBECTL_VERSION=${KINC_KUBECTL_VERSION:-v1.33.13}
OLDEST_VERSION=v1.27.16
MIN_MINOR=27
MAX_MINOR=33

say() { echo "ensure-kubectl: $*" >&2; }

build_only=false
skew=false
case "${1:-}" in
  --build) build_only=true ;;
  --skew) skew=true ;;
  "") ;;
  *) say "usage: $0 [--build | --skew]"; exit 2 ;;
esac

if ! $skew && [ -n "${KINC_KUBECTL:-}" ]; then
  path=$(command -v "$KINC_KUBECTL" 2>/dev/null) || { say "KINC_KUBECTL=$KINC_KUBECTL is not an executable"; exit 1; }
  echo "$path"
  exit 0
fi

# client_minor prints the client minor version of kubectl $1 (e.g. 32), or
# nothing when it does not answer.
client_minor() {
  "$1" version --client -o json 2>/dev/null |
    sed -n 's/^ *"minor": *"\([0-9]*\).*/\1/p' | head -n 1
}

if ! $build_only && ! $skew && path=$(command -v kubectl 2>/dev/null); then
  minor=$(client_minor "$path")
  if [ -n "$minor" ] && [ "$minor" -ge $MIN_MINOR ] && [ "$minor" -le $MAX_MINOR ]; then
    echo "$path"
    exit 0
  fi
  say "$path is not a kubectl 1.$MIN_MINOR-1.$MAX_MINOR (client minor '${minor:-?}'): using a pinned $KUBECTL_VERSION"
fi

command -v go >/dev/null 2>&1 || { say "go not found: the pinned kubectl is built from source; install Go"; exit 1; }
goos=$(go env GOOS)
goarch=$(go env GOARCH)
cache_root=${XDG_CACHE_HOME:-${HOME:?set HOME or XDG_CACHE_HOME}/.cache}/kinc/kubectl

# gowork runs go in the build's throwaway module.
gowork() { CGO_ENABLED=0 GOFLAGS=-mod=mod GOWORK=off go -C "$work" "$@"; }

# build VERSION sets $cached to kubectl VERSION built from the staging module
# k8s.io/kubectl, building it first unless it is cached.
build() {
  local version=$1
  cached=$cache_root/kubectl-$version-$goos-$goarch
  [ -x "$cached" ] && return 0
  # v1.33.13 → the staging modules' v0.33.13; the version package stamps.
  local module_version=v0.${version#v1.}
  local minor=${version#v1.}
  minor=${minor%%.*}
  local start
  start=$(date +%s)
  say "building kubectl $version from k8s.io/kubectl@$module_version with the Go module proxy (several minutes the first time)"
  mkdir -p "$cache_root"
  work=$(mktemp -d "$cache_root/build-XXXXXX")
  trap 'rm -rf "$work"' EXIT
  # The main of k8s.io/kubernetes/cmd/kubectl/kubectl.go, which cannot be
  # required as a module; its packages live in the staging module.
  cat >"$work/main.go" <<'EOF'
// Command kubectl is upstream kubectl's main, built from k8s.io/kubectl.
package main

import (
	"k8s.io/component-base/cli"
	"k8s.io/kubectl/pkg/cmd"
	"k8s.io/kubectl/pkg/cmd/util"

	// Import to initialize client auth plugins.
	_ "k8s.io/client-go/plugin/pkg/client/auth"
)

func main() {
	command := cmd.NewDefaultKubectlCommand()
	if err := cli.RunNoErrOutput(command); err != nil {
		// Pretty-print the error and exit with an error.
		util.CheckErr(err)
	}
}
EOF
  ldflags="-s -w"
  for pkg in k8s.io/client-go/pkg/version k8s.io/component-base/version; do
    ldflags+=" -X $pkg.gitVersion=$version -X $pkg.gitMajor=1 -X $pkg.gitMinor=$minor -X $pkg.gitTreeState=clean"
  done
  gowork mod init kinc.invalid/kubectl-build >/dev/null 2>&1
  gowork get "k8s.io/kubectl@$module_version" "k8s.io/component-base@$module_version" "k8s.io/client-go@$module_version" >&2
  gowork build -trimpath -ldflags "$ldflags" -o "$cached.tmp" . >&2
  mv "$cached.tmp" "$cached"
  say "built kubectl $version in $(( $(date +%s) - start ))s ($cached)"
  rm -rf "$work"
  trap - EXIT
}

# install_bin SRC DST links DST in bin/ to the cached SRC: bin/kubectl and
# bin/kubectl.1.33 are then one binary, which the tests see (symlinks
# followed) and run once.
install_bin() {
  mkdir -p bin
  if [ "$(readlink "$2" 2>/dev/null)" != "$1" ]; then
    ln -sfn "$1" "$2.tmp"
    mv -T "$2.tmp" "$2"
  fi
}

if $skew; then
  for v in "$OLDEST_VERSION" "$KUBECTL_VERSION"; do
    build "$v"
    minor=${v#v1.}
    install_bin "$cached" "bin/kubectl.1.${minor%%.*}"
  done
  exit 0
fi

build "$KUBECTL_VERSION"
install_bin "$cached" bin/kubectl
echo "$PWD/bin/kubectl"
