#!/usr/bin/env bash
# ensure-debootstrap.sh makes sure debootstrap (which builds the node image's
# Debian rootfs) is installed: as root on Debian it installs it with apt;
# elsewhere it says what to do (kinc build node-image --base-image works
# without it).
set -o errexit -o nounset -o pipefail
if command -v debootstrap >/dev/null 2>&1 || [ -x /usr/sbin/debootstrap ]; then
  exit 0
fi
if [ "$(id -u)" = 0 ] && [ -f /etc/debian_version ]; then
  echo "ensure-debootstrap: installing debootstrap with apt" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq debootstrap >/dev/null
  exit 0
fi
echo "ensure-debootstrap: debootstrap is missing: install it (apt-get install debootstrap)," >&2
echo "or build from a Debian image: bin/kinc build node-image --base-image debian:bookworm" >&2
exit 1
