package nodeimage

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/kinc-dev/kinc/images"
)

func testRecipe() fstest.MapFS {
	return fstest.MapFS{
		"recipe.sh":                   {Data: []byte("#!/bin/sh\necho hi\n")},
		"packages":                    {Data: []byte("# comment\nsystemd  # init\n\ncontainerd runc\n")},
		"files/etc/crictl.yaml":       {Data: []byte("runtime-endpoint: x\n")},
		"files/usr/local/bin/kinc-up": {Data: []byte("#!/bin/sh\n")},
	}
}

func TestHashRecipe(t *testing.T) {
	t.Parallel()
	base, err := hashRecipe(testRecipe(), "debootstrap bookworm amd64")
	if err != nil {
		t.Fatal(err)
	}
	again, _ := hashRecipe(testRecipe(), "debootstrap bookworm amd64")
	if base != again || len(base) != 64 {
		t.Fatalf("hash not stable: %s vs %s", base, again)
	}
	changes := map[string]func() (string, error){
		"file content": func() (string, error) {
			r := testRecipe()
			r["files/etc/crictl.yaml"] = &fstest.MapFile{Data: []byte("runtime-endpoint: y\n")}
			return hashRecipe(r, "debootstrap bookworm amd64")
		},
		"new file": func() (string, error) {
			r := testRecipe()
			r["files/etc/extra"] = &fstest.MapFile{}
			return hashRecipe(r, "debootstrap bookworm amd64")
		},
		"renamed file": func() (string, error) {
			r := testRecipe()
			r["files/etc/crictl.yml"] = r["files/etc/crictl.yaml"]
			delete(r, "files/etc/crictl.yaml")
			return hashRecipe(r, "debootstrap bookworm amd64")
		},
		"package list": func() (string, error) {
			r := testRecipe()
			r["packages"] = &fstest.MapFile{Data: []byte("systemd containerd runc less\n")}
			return hashRecipe(r, "debootstrap bookworm amd64")
		},
		"base": func() (string, error) { return hashRecipe(testRecipe(), "image debian:bookworm@sha256:1") },
		"arch": func() (string, error) { return hashRecipe(testRecipe(), "debootstrap bookworm arm64") },
	}
	for name, change := range changes {
		got, err := change()
		if err != nil {
			t.Fatal(err)
		}
		if got == base {
			t.Errorf("%s: hash unchanged", name)
		}
	}
	// Moving bytes between a file's name and content cannot collide.
	a := fstest.MapFS{"a": {Data: []byte("b")}}
	b := fstest.MapFS{"ab": {Data: nil}}
	ha, _ := hashRecipe(a, "")
	hb, _ := hashRecipe(b, "")
	if ha == hb {
		t.Error("collision between name and content")
	}
}

func TestRecipePackageList(t *testing.T) {
	t.Parallel()
	got, err := recipePackageList(testRecipe())
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(got, ",") != "systemd,containerd,runc" {
		t.Fatalf("got %v", got)
	}
}

// TestEmbeddedRecipe checks the real images/node recipe: what the issue
// requires of the node is in its package list and files.
func TestEmbeddedRecipe(t *testing.T) {
	t.Parallel()
	recipe := images.Recipe()
	pkgs, err := recipePackageList(recipe)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{"systemd", "systemd-sysv", "containerd", "runc", "containernetworking-plugins",
		"iptables", "iproute2", "procps", "ca-certificates", "conntrack", "less", "vim-tiny"} {
		if !slices.Contains(pkgs, p) {
			t.Errorf("package %s not in images/node/packages", p)
		}
	}
	dropIn := readRecipe(t, "files/etc/systemd/system/kubelet.service.d/10-kubeadm.conf")
	for _, want := range []string{
		"ExecStart=/usr/bin/kubelet $KUBELET_KUBECONFIG_ARGS $KUBELET_CONFIG_ARGS $KUBELET_KUBEADM_ARGS $KUBELET_EXTRA_ARGS",
		"EnvironmentFile=-/var/lib/kubelet/kubeadm-flags.env", "EnvironmentFile=-/etc/default/kubelet",
		"--config=/var/lib/kubelet/config.yaml",
	} {
		if !strings.Contains(dropIn, want) {
			t.Errorf("10-kubeadm.conf lacks %q", want)
		}
	}
	unit := readRecipe(t, "files/etc/systemd/system/kubelet.service")
	for _, want := range []string{"Restart=always", "RestartSec=1s", "StartLimitIntervalSec=0",
		"ConditionPathExists=/usr/bin/kubelet", "After=network-online.target containerd.service kinc-import-images.service"} {
		if !strings.Contains(unit, want) {
			t.Errorf("kubelet.service lacks %q", want)
		}
	}
	if got := readRecipe(t, "files/etc/crictl.yaml"); !strings.Contains(got, "unix:///run/containerd/containerd.sock") {
		t.Errorf("crictl.yaml: %s", got)
	}
	if _, err := hashRecipe(recipe, "x"); err != nil {
		t.Fatal(err)
	}
}

func readRecipe(t *testing.T, name string) string {
	t.Helper()
	data, err := images.Recipe().(interface{ ReadFile(string) ([]byte, error) }).ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

func TestWriteRecipeDir(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), recipeDir)
	if err := writeRecipeDir(testRecipe(), dir); err != nil {
		t.Fatal(err)
	}
	for name, mode := range map[string]os.FileMode{"recipe.sh": 0o755, "packages": 0o644, "files/usr/local/bin/kinc-up": 0o755} {
		fi, err := os.Stat(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm() != mode {
			t.Errorf("%s: mode %v, want %v", name, fi.Mode().Perm(), mode)
		}
	}
}
