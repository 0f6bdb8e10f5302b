package version

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	etcdversion "go.etcd.io/etcd/api/v3/version"
	"golang.org/x/mod/modfile"
	"golang.org/x/mod/semver"
)

// moduleVersion returns the version of a module that kinc's go.mod requires
// (test binaries carry no module list in their build info, so go.mod, which
// decides what every binary links, is read instead).
func moduleVersion(t *testing.T, path string) string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("..", "..", "go.mod"))
	if err != nil {
		t.Fatal(err)
	}
	mf, err := modfile.ParseLax("go.mod", data, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range mf.Replace {
		if r.Old.Path == path {
			t.Fatalf("go.mod replaces %s: check the version by hand", path)
		}
	}
	for _, r := range mf.Require {
		if r.Mod.Path == path {
			return r.Mod.Version
		}
	}
	t.Fatalf("go.mod does not require %s", path)
	return ""
}

// TestKubernetesVersionIsTheAPIModules checks that KubernetesVersion v1.N.P is
// the release of the k8s.io/api module (v0.N.P) the control plane is built on.
func TestKubernetesVersionIsTheAPIModules(t *testing.T) {
	api := moduleVersion(t, "k8s.io/api")
	if !semver.IsValid(KubernetesVersion) || semver.Prerelease(KubernetesVersion) != "" {
		t.Fatalf("KubernetesVersion %q is not a release version", KubernetesVersion)
	}
	if want := "v0" + strings.TrimPrefix(KubernetesVersion, semver.Major(KubernetesVersion)); api != want {
		t.Errorf("k8s.io/api is %s, want %s for KubernetesVersion %s", api, want, KubernetesVersion)
	}
}

// TestEtcdVersionIsTheEtcdModules checks EtcdVersion (and so the etcd image's
// tag) against the etcd the binary is built from: etcd's own version constant
// and the etcd modules go.mod requires.
func TestEtcdVersionIsTheEtcdModules(t *testing.T) {
	if etcdversion.Version != EtcdVersion {
		t.Errorf("etcd reports version %s, EtcdVersion is %s", etcdversion.Version, EtcdVersion)
	}
	for _, m := range []string{"go.etcd.io/etcd/api/v3", "go.etcd.io/etcd/server/v3", "go.etcd.io/etcd/client/v3"} {
		if got := moduleVersion(t, m); got != "v"+EtcdVersion {
			t.Errorf("go.mod requires %s %s, want v%s", m, got, EtcdVersion)
		}
	}
	if !strings.HasPrefix(EtcdImage, ImageRegistry+"/etcd:"+EtcdVersion+"-") {
		t.Errorf("EtcdImage %s is not tagged with EtcdVersion %s", EtcdImage, EtcdVersion)
	}
}

func TestImageReferences(t *testing.T) {
	want := []string{
		"registry.k8s.io/pause:" + PauseVersion,
		"registry.k8s.io/etcd:" + EtcdVersion + "-0",
		"registry.k8s.io/kube-apiserver:" + KubernetesVersion,
		"registry.k8s.io/kube-controller-manager:" + KubernetesVersion,
		"registry.k8s.io/kube-scheduler:" + KubernetesVersion,
	}
	if got := ComponentImages(); !slices.Equal(got, want) {
		t.Errorf("ComponentImages() = %v, want %v", got, want)
	}
	for _, c := range []string{KubeAPIServer, KubeControllerManager, KubeScheduler} {
		if !slices.Contains(ComponentImages(), KubeImage(c)) {
			t.Errorf("KubeImage(%s) = %s is not a component image", c, KubeImage(c))
		}
	}
}

func TestNodeImage(t *testing.T) {
	if got := NodeImageFor("v0.1.0-alpha+c01592d31ef9b2"); got != "kinc/node:v0.1.0-alpha-c01592d31ef9b2" {
		t.Errorf("NodeImageFor = %q", got)
	}
	if got := NodeImageFor(strings.Repeat("x", 200)); len(got) != len("kinc/node:")+128 {
		t.Errorf("NodeImageFor of a long version has %d characters", len(got))
	}
	if !strings.HasPrefix(NodeImage(), NodeImageRepository+":v") || LatestNodeImage != "kinc/node:latest" {
		t.Errorf("NodeImage() = %s, LatestNodeImage = %s", NodeImage(), LatestNodeImage)
	}
}
