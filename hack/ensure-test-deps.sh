#!/usr/bin/env bash
# ensure-test-deps.sh installs what the integration tests run for real beside
# Docker: containerd and runc (the kubelet's CRI tests start their own
# containerd) and the CNI plugins (bridge, host-local, loopback, portmap).
# As root on Debian it installs the missing packages with apt; elsewhere it
# names them, and those tests skip with the same message (under CI=true they
# fail: internal/testenv).
set -o errexit -o nounset -o pipefail
missing=()
command -v containerd >/dev/null 2>&1 || missing+=(containerd)
command -v runc >/dev/null 2>&1 || missing+=(runc)
[ -x /usr/lib/cni/bridge ] || missing+=(containernetworking-plugins)
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" = 0 ] && [ -f /etc/debian_version ]; then
  echo "ensure-test-deps: installing ${missing[*]} with apt" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq "${missing[@]}" >/dev/null
  exit 0
fi
echo "ensure-test-deps: missing ${missing[*]}: the tests that need them will skip (fail under CI=true)" >&2
