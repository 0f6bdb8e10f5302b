package tomlpatch

import (
	"strings"
	"testing"
)

const base = `# containerd config
version = 2

[plugins]
  [plugins."io.containerd.grpc.v1.cri"]
    sandbox_image = "registry.k8s.io/pause:3.10"
    restrict_oom_score_adj = true
    [plugins."io.containerd.grpc.v1.cri".containerd]
      snapshotter = "overlayfs"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        SystemdCgroup = false
`

func TestMerge(t *testing.T) {
	t.Parallel()
	patch := `[plugins."io.containerd.grpc.v1.cri".registry.mirrors."localhost:5000"]
  endpoint = ["http://kind-registry:5000",
     "http://other:5000"] # trailing comment
[plugins."io.containerd.grpc.v1.cri".containerd]
  snapshotter = "native"
`
	got, err := Merge(base, patch, `[plugins."io.containerd.grpc.v1.cri"]
registry.config_path = "/etc/containerd/certs.d"`)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"version = 2\n",
		`sandbox_image = "registry.k8s.io/pause:3.10"`,
		`snapshotter = "native"`,
		`SystemdCgroup = false`,
		"[plugins.\"io.containerd.grpc.v1.cri\".registry.mirrors.\"localhost:5000\"]\nendpoint = [\"http://kind-registry:5000\",\n     \"http://other:5000\"]",
		"[plugins.\"io.containerd.grpc.v1.cri\".registry]\nconfig_path = \"/etc/containerd/certs.d\"",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("merged config lacks %q:\n%s", want, got)
		}
	}
	if strings.Contains(got, "overlayfs") {
		t.Errorf("old value kept:\n%s", got)
	}
	// The output parses and merging it again is stable.
	again, err := Merge(got)
	if err != nil || again != got {
		t.Fatalf("not stable: %v\n%s\n---\n%s", err, got, again)
	}
}

func TestTableReplacesValue(t *testing.T) {
	t.Parallel()
	got, err := Merge("a = 1\nb = 2\n", "[a]\nc = 3\n")
	if err != nil {
		t.Fatal(err)
	}
	if got != "b = 2\n\n[a]\nc = 3\n" {
		t.Fatalf("got %q", got)
	}
}

func TestParseErrors(t *testing.T) {
	t.Parallel()
	for name, doc := range map[string]string{
		"array of tables": "[[plugins.x]]\na = 1",
		"no equals":       "[a]\njunk",
		"unterminated":    "a = [1,\n2",
		"bad header":      "[a",
		"no value":        "a =",
		"bad key":         "a b = 1",
	} {
		if _, err := Parse(doc); err == nil {
			t.Errorf("%s: want error", name)
		}
	}
}
