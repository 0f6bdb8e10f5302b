// Package nodeimage builds the kinc node image with no registry:
//
//  1. a Debian bookworm rootfs (debootstrap, or a Debian base image run in
//     Docker with WithBaseImage) turned into a node by the recipe in
//     images/node, cached as a tarball keyed by a hash of that recipe;
//  2. a layer of what changes from build to build: our kubelet when it is
//     built, crictl (built from sigs.k8s.io/cri-tools, cached per version),
//     the containerd config rendered for both cgroup drivers, /kinc/version;
//  3. both streamed into `docker import` (ENTRYPOINT kinc-entrypoint → /sbin/init, STOPSIGNAL
//     SIGRTMIN+3, ENV container=docker);
//  4. component images (kube-apiserver, etcd, pause, …) written as image
//     archives from our binaries and preloaded into the image's own
//     containerd in a throwaway container, then committed, so nodes boot with
//     them in place and bringing a cluster up pulls nothing.
//
// An image whose io.kinc.node-image.digest label matches the digest of all
// inputs is left alone. Every external command (debootstrap, chroot, tar, go,
// docker) runs through an injected exec.Cmder, so the step logic is tested
// with a fake.
package nodeimage
