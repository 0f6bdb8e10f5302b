#!/bin/sh
# recipe.sh turns a Debian bookworm rootfs into a kinc node rootfs: it installs
# the packages listed in ./packages that are missing, lays ./files over /,
# enables the node's systemd units, and removes what a node does not need.
#
# kinc build node-image runs it as root with its inputs in /kinc-recipe, in
# one of two places, so both paths share this one recipe:
#   - chroot'ed into a debootstrap directory (the packages are already there:
#     debootstrap installed them with --include, so nothing is downloaded);
#   - inside a container of a Debian base image (--base-image), where apt
#     installs the packages.
# The result is cached keyed by a hash of everything in images/node (except
# the containerd config template, rendered later), so editing any input here
# rebuilds the rootfs.
set -o errexit -o nounset

recipe=/kinc-recipe
export DEBIAN_FRONTEND=noninteractive LC_ALL=C

say() { echo "recipe: $*"; }

# 1. Packages.
packages=$(sed -e 's/#.*//' "$recipe/packages")
missing=
for p in $packages; do
  if ! dpkg-query -W -f '${Status}\n' "$p" 2>/dev/null | grep -q 'ok installed'; then
    missing="$missing $p"
  fi
done
if [ -n "$missing" ]; then
  say "installing$missing"
  apt-get update -qq
  # shellcheck disable=SC2086 # word splitting wanted
  apt-get install -y -qq --no-install-recommends $missing >/dev/null
fi

# 2. Files (units, scripts, crictl.yaml, …).
cp -R "$recipe/files/." /
chmod 0755 /usr/local/bin/kinc-*
mkdir -p /etc/cni/net.d /var/lib/kubelet /etc/kubernetes/manifests /kinc/images

# 3. systemd: only what a node needs starts. Debian enables timers, getty and
# e2scrub units that have no use in a container; drop those enablements, mask
# units that fail or make no sense without a real machine, enable ours.
rm -f /etc/systemd/system/*.wants/*
systemctl mask --quiet \
  getty.target console-getty.service \
  systemd-binfmt.service proc-sys-fs-binfmt_misc.automount \
  systemd-firstboot.service systemd-modules-load.service \
  systemd-pcrphase.service systemd-pcrphase-sysinit.service systemd-repart.service \
  sys-kernel-config.mount sys-kernel-debug.mount sys-kernel-tracing.mount \
  sys-fs-fuse-connections.mount dev-hugepages.mount \
  apt-daily.timer apt-daily-upgrade.timer e2scrub_all.timer e2scrub_reap.service fstrim.timer
systemctl enable --quiet kinc-node-setup.service containerd.service kinc-import-images.service kinc-readdress.service kinc-etcd-peer.service kubelet.service

# 4. Identity: every node gets its own machine-id at first boot.
: >/etc/machine-id
rm -f /var/lib/dbus/machine-id

# 5. Slim down: package caches and lists, docs (keeping copyrights), man pages,
# translations, logs.
apt-get clean
rm -rf /var/lib/apt/lists/* /var/cache/apt/*.bin /var/cache/debconf/*-old /var/lib/dpkg/*-old
find /usr/share/doc -mindepth 1 ! -type d ! -name copyright -delete
find /usr/share/doc -mindepth 1 -type d -empty -delete
rm -rf /usr/share/man/* /usr/share/info/* /usr/share/locale/* /usr/share/lintian/*
find /var/log -type f -delete
rm -rf /tmp/* /var/tmp/* "$recipe"
say "done"
