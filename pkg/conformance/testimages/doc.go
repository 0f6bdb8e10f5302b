// Package testimages builds, with no registry, the container images the
// upstream Kubernetes conformance specs run, under their exact upstream names
// and tags (registry.k8s.io/e2e-test-images/agnhost:2.66.1, …; see Images),
// and writes them into one `docker save` archive that a caller loads into
// every node of a cluster.
//
// How:
//
//  1. a Debian bookworm minbase rootfs made by debootstrap with the tools the
//     specs run inside containers (dig, getent, curl, nc, ip, nginx, a static
//     busybox, …), slimmed and `docker import`ed as a local base image named
//     after a hash of its package list (kinc.invalid/conformance-base:<hash>),
//     kept in Docker so later builds skip debootstrap;
//  2. each image built with `docker build` (classic builder) from a generated
//     Dockerfile and context directory: FROM that base (agnhost, nginx,
//     glibc-dns-testing, nonewprivs, nonroot, sample-apiserver, etcd), FROM
//     agnhost (nautilus, kitten) or FROM scratch (busybox, pause), with the
//     caller's binaries and generated files (porter's TLS pair, the demo
//     JPEGs, nginx's configuration) copied in;
//  3. `docker save` of every reference into
//     <CacheDir>/test-images-<key>.tar, written atomically. The key hashes the
//     recipe (package list, Dockerfiles, generated files) and every input
//     binary, so a second Build with the same inputs returns the archive
//     without running anything.
//
// Images sharing the base (138 MB) share its layers inside the archive:
// about 350 MB for all of them. Measured here: a first build takes about
// 4 minutes (3–4 of them debootstrap), a rebuild for new binaries about 20 s
// (the base stays in Docker), a cached one well under a second. Every
// external command runs through an injected exec.Cmder, so the steps are
// tested with a fake.
package testimages
