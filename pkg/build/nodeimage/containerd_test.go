package nodeimage

import (
	"strings"
	"testing"

	"github.com/kinc-dev/kinc/images"
)

func TestRenderContainerdConfig(t *testing.T) {
	t.Parallel()
	common := []string{
		"version = 2",
		`sandbox_image = "registry.k8s.io/pause:3.10"`,
		"restrict_oom_score_adj = true",
		`snapshotter = "overlayfs"`,
		`runtime_type = "io.containerd.runc.v2"`,
		`[plugins."io.containerd.grpc.v1.cri".containerd.runtimes.test-handler]`,
		`bin_dir = "/usr/lib/cni"`,
		`conf_dir = "/etc/cni/net.d"`,
	}
	for driver, systemd := range map[string]string{"cgroupfs": "SystemdCgroup = false", "systemd": "SystemdCgroup = true"} {
		out, err := renderContainerdConfig(images.ContainerdConfigTemplate(), driver)
		if err != nil {
			t.Fatal(err)
		}
		got := string(out)
		for _, want := range append(common, systemd, "for the "+driver+" cgroup driver") {
			if !strings.Contains(got, want) {
				t.Errorf("%s config lacks %q:\n%s", driver, want, got)
			}
		}
		if strings.Contains(got, "{{") || strings.Contains(got, "<no value>") {
			t.Errorf("%s config has unrendered fields:\n%s", driver, got)
		}
	}
}

func TestRenderContainerdConfigErrors(t *testing.T) {
	t.Parallel()
	if _, err := renderContainerdConfig(images.ContainerdConfigTemplate(), "cgroupv3"); err == nil {
		t.Error("unknown driver accepted")
	}
	if _, err := renderContainerdConfig("{{.NoSuchField}}", "systemd"); err == nil {
		t.Error("unknown template field accepted")
	}
	if _, err := renderContainerdConfig("{{", "systemd"); err == nil {
		t.Error("broken template accepted")
	}
}
