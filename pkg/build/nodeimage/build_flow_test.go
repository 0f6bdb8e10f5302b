package nodeimage

import (
	"runtime"
	"strings"
	"testing"

	"github.com/kinc-dev/kinc/pkg/version"
)

func runtimeArch() string { return runtime.GOARCH }

func TestBuildColdWithDebootstrap(t *testing.T) {
	t.Parallel()
	h := newFakeHost(t, "etcd", "pause", "kube-apiserver")
	res, err := h.build()
	if err != nil {
		t.Fatalf("build: %v\n%s", err, h.log)
	}
	for _, prefix := range []string{"debootstrap --variant=minbase --include=systemd,", "chroot ", "tar --numeric-owner",
		"go -C", "docker import", "docker build --quiet -",
		"docker create --name kinc-build-preload-", "docker start --attach kinc-build-preload-",
		`docker commit --change ENTRYPOINT ["/usr/local/bin/kinc-entrypoint", "/sbin/init"]`, "docker rm --force --volumes kinc-build-preload-",
		"docker tag sha256:committed kinc/node:test"} {
		if !h.cmder.ran(prefix) {
			t.Errorf("no %q command; ran:\n%s", prefix, strings.Join(h.cmder.commands(), "\n"))
		}
	}
	for _, name := range []string{"kinc/images/digest", "kinc/version", "usr/bin/crictl", "etc/containerd/config-systemd.toml"} {
		if _, ok := h.imported[name]; !ok {
			t.Errorf("imported filesystem lacks %s", name)
		}
	}
	// The archives go to the preload container, not into the image.
	for _, name := range []string{"etcd.tar", "pause.tar", "kube-apiserver.tar"} {
		if _, ok := h.preload[name]; !ok {
			t.Errorf("preload container did not get %s", name)
		}
		if _, ok := h.imported["kinc/images/"+name]; ok {
			t.Errorf("%s shipped in the image", name)
		}
	}
	if _, ok := h.imported["usr/bin/kubelet"]; ok || res.Kubelet {
		t.Error("no kubelet was built, yet the image has one")
	}
	// The rendered config replaces the rootfs's file of the same name.
	if got := string(h.imported["etc/containerd/config-cgroupfs.toml"]); !strings.Contains(got, "SystemdCgroup = false") {
		t.Errorf("config-cgroupfs.toml not replaced: %q", got)
	}
	want := []string{"registry.k8s.io/pause:3.10", "registry.k8s.io/etcd:3.7.3-0", "registry.k8s.io/kube-apiserver:v1.37.2"}
	if strings.Join(res.Components, ",") != strings.Join(want, ",") {
		t.Errorf("components %v, want %v", res.Components, want)
	}
	log := h.log.String()
	for _, line := range []string{" • Building rootfs with debootstrap", " ✓ Built rootfs", "kubelet not in",
		"without an image: kube-controller-manager, kube-scheduler", " ✓ Image kinc/node:test built"} {
		if !strings.Contains(log, line) {
			t.Errorf("progress lacks %q:\n%s", line, log)
		}
	}
	for _, c := range h.cmder.commands() {
		if strings.HasPrefix(c, "docker import") {
			for _, change := range []string{`--change ENTRYPOINT ["/usr/local/bin/kinc-entrypoint", "/sbin/init"]`,
				"--change ENV container=docker", "LABEL " + LabelDigest + "=" + res.Digest} {
				if !strings.Contains(c, change) {
					t.Errorf("docker import lacks %q: %s", change, c)
				}
			}
			// API 1.41 rejects STOPSIGNAL in import: a build step sets it.
			if strings.Contains(c, "STOPSIGNAL") {
				t.Errorf("STOPSIGNAL passed to an API 1.41 import: %s", c)
			}
		}
	}
}

// TestBuildStopSignalInImport: engines from API 1.42 take STOPSIGNAL in
// docker import; no build step then.
func TestBuildStopSignalInImport(t *testing.T) {
	t.Parallel()
	h := newFakeHost(t, "etcd", "pause")
	h.api = "1.43"
	if _, err := h.build(); err != nil {
		t.Fatal(err)
	}
	if !h.cmder.ran("docker import") || h.cmder.ran("docker build") {
		t.Fatalf("ran:\n%s", strings.Join(h.cmder.commands(), "\n"))
	}
	for _, c := range h.cmder.commands() {
		if strings.HasPrefix(c, "docker import") && !strings.Contains(c, "--change STOPSIGNAL SIGRTMIN+3") {
			t.Errorf("no STOPSIGNAL change: %s", c)
		}
		// The imported image itself is preloaded.
		if strings.HasPrefix(c, "docker create --name kinc-build-preload-") && !strings.HasSuffix(c, " sha256:imported") {
			t.Errorf("preload container not from the imported image: %s", c)
		}
	}
}

func TestParseAPIVersion(t *testing.T) {
	t.Parallel()
	v, err := parseAPIVersion("1.41\n")
	if err != nil || !v.atLeast(1, 41) || v.atLeast(1, 42) {
		t.Fatalf("%+v %v", v, err)
	}
	if _, err := parseAPIVersion("x"); err == nil {
		t.Fatal("want an error")
	}
}

func TestBuildWarmReusesRootfsAndCrictl(t *testing.T) {
	t.Parallel()
	h := newFakeHost(t, "etcd", "pause", "kubelet")
	if _, err := h.build(); err != nil {
		t.Fatal(err)
	}
	h.cmder.calls = nil
	res, err := h.build()
	if err != nil {
		t.Fatal(err)
	}
	if h.cmder.ran("debootstrap") || h.cmder.ran("go ") {
		t.Errorf("warm build rebuilt the rootfs or crictl:\n%s", strings.Join(h.cmder.commands(), "\n"))
	}
	if !h.cmder.ran("docker import") || !res.Kubelet {
		t.Error("warm build did not import the image with the kubelet")
	}
	if _, ok := h.imported["usr/bin/kubelet"]; !ok {
		t.Error("kubelet missing from the image")
	}
	if !strings.Contains(h.log.String(), " ✓ Using cached rootfs") {
		t.Errorf("progress:\n%s", h.log)
	}
}

func TestBuildSkipsCurrentImage(t *testing.T) {
	t.Parallel()
	h := newFakeHost(t, "etcd", "pause")
	first, err := h.build()
	if err != nil {
		t.Fatal(err)
	}
	h.label = first.Digest
	h.cmder.calls = nil
	res, err := h.build()
	if err != nil {
		t.Fatal(err)
	}
	if !res.UpToDate || h.cmder.ran("docker import") {
		t.Fatalf("current image rebuilt: %+v", res)
	}
	// --force imports again, still from the cached rootfs, and removes
	// the image it replaces.
	h.cmder.calls = nil
	if _, err := h.build(WithForce(true)); err != nil {
		t.Fatal(err)
	}
	if !h.cmder.ran("docker import") || h.cmder.ran("debootstrap") || !h.cmder.ran("docker image rm sha256:node") {
		t.Fatalf("force: %v", h.cmder.commands())
	}
	// A changed binary changes the digest.
	h2 := newFakeHost(t, "etcd", "pause", "kube-scheduler")
	h2.label = first.Digest
	if res, err := h2.build(); err != nil || res.UpToDate {
		t.Fatalf("changed inputs counted as current: %+v %v", res, err)
	}
}

func TestBuildDefaultTagsLatest(t *testing.T) {
	t.Parallel()
	h := newFakeHost(t, "etcd", "pause")
	b := h.builder()
	b.image, b.extraTags = DefaultImage(), []string{ImageRepository + ":latest"}
	if _, err := b.build(t.Context()); err != nil {
		t.Fatal(err)
	}
	if !h.cmder.ran("docker tag sha256:committed kinc/node:latest") || !h.cmder.ran("docker tag sha256:committed "+DefaultImage()) {
		t.Fatalf("no latest tag: %v", h.cmder.commands())
	}
}

func TestBuildInBaseImage(t *testing.T) {
	t.Parallel()
	h := newFakeHost(t, "etcd", "pause")
	h.missing["debootstrap"] = true
	h.euid = 1000
	if _, err := h.build(WithBaseImage("debian:bookworm")); err != nil {
		t.Fatalf("%v\n%s", err, h.log)
	}
	for _, prefix := range []string{"docker create --name kinc-build-rootfs-", "docker cp - kinc-build-rootfs-",
		"docker start --attach kinc-build-rootfs-", "docker export --output", "docker rm --force --volumes kinc-build-rootfs-"} {
		if !h.cmder.ran(prefix) {
			t.Errorf("no %q; ran:\n%s", prefix, strings.Join(h.cmder.commands(), "\n"))
		}
	}
	if h.cmder.ran("debootstrap") {
		t.Error("ran debootstrap")
	}
	if _, ok := h.imported[".dockerenv"]; ok {
		t.Error(".dockerenv of the build container is in the image")
	}
}

func TestBuildErrorsSayWhatToDo(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name     string
		binaries []string
		setup    func(*fakeHost)
		want     string
	}{
		{"no debootstrap", []string{"etcd", "pause"}, func(h *fakeHost) { h.missing["debootstrap"] = true }, "apt-get install -y debootstrap"},
		{"not root", []string{"etcd", "pause"}, func(h *fakeHost) { h.euid = 1000 }, "--base-image debian:bookworm"},
		{"no etcd", []string{"pause"}, func(*fakeHost) {}, "etcd not found: run 'make build' first"},
		{"no go", []string{"etcd", "pause"}, func(h *fakeHost) { h.missing["go"] = true }, "go not found"},
		{"no docker", []string{"etcd", "pause"}, func(h *fakeHost) { h.missing["docker"] = true }, "docker not found"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			h := newFakeHost(t, tc.binaries...)
			tc.setup(h)
			_, err := h.build()
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v, want an error containing %q", err, tc.want)
			}
		})
	}
}

func TestCheckBinaryRejectsOtherArchitectures(t *testing.T) {
	t.Parallel()
	h := newFakeHost(t, "etcd")
	other := "arm64"
	if runtime.GOARCH == "arm64" {
		other = "amd64"
	}
	if _, err := checkBinary(h.binDir, "etcd", other); err == nil || !strings.Contains(err.Error(), "GOARCH="+other) {
		t.Fatalf("got %v", err)
	}
	if _, err := checkBinary(h.binDir, "kubelet", runtime.GOARCH); err == nil {
		t.Fatal("missing binary accepted")
	}
}

func TestDefaultImageIsTheVersions(t *testing.T) {
	t.Parallel()
	if DefaultImage() != version.NodeImage() || ImageRepository != version.NodeImageRepository {
		t.Fatalf("DefaultImage() = %s in %s, want version.NodeImage() = %s", DefaultImage(), ImageRepository, version.NodeImage())
	}
}
