//go:build e2e

// Package nodeimage checks the node image end to end: `kinc build
// node-image` builds it (or finds it current), a node container from it
// boots systemd with DESIGN.md §6's flags (no --privileged), containerd
// answers, the component images are already in its k8s.io namespace, and a
// CRI sandbox plus a container from one of those images run with the pause
// image, on the host network and on the bridge CNI from Debian's plugins.
package nodeimage

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/client"

	"github.com/kinc-dev/kinc/e2e/framework"
	"github.com/kinc-dev/kinc/pkg/version"
)

const (
	clusterName = "kinc-e2e-nodeimage"
	labelKey    = "io.kinc.cluster"
	nodeName    = clusterName + "-control-plane"
)

// buildImage runs the real CLI, as `make node-image` does, and returns the
// image it names on stdout.
func buildImage(ctx context.Context, t *testing.T, root string) string {
	t.Helper()
	kinc := filepath.Join(root, "bin", "kinc")
	if _, err := os.Stat(kinc); err != nil {
		t.Fatalf("%s is missing: run `make build` (make e2e does)", kinc)
	}
	ensureDebootstrap(ctx, t)
	var stdout, stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, kinc, "build", "node-image", "--bin-dir", filepath.Join(root, "bin"))
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	start := time.Now()
	if err := cmd.Run(); err != nil {
		t.Fatalf("kinc build node-image: %v\n%s", err, stderr.String())
	}
	t.Logf("kinc build node-image (%s):\n%s", time.Since(start).Round(100*time.Millisecond), stderr.String())
	return strings.TrimSpace(stdout.String())
}

// ensureDebootstrap installs debootstrap with apt when it is missing and
// this is root on Debian, as `make node-image` does (a fresh machine lacks
// it); elsewhere the build itself says what to do.
func ensureDebootstrap(ctx context.Context, t *testing.T) {
	t.Helper()
	if _, err := exec.LookPath("debootstrap"); err == nil {
		return
	}
	if _, err := os.Stat("/usr/sbin/debootstrap"); err == nil {
		return
	}
	if _, err := os.Stat("/etc/debian_version"); err != nil || os.Geteuid() != 0 {
		return
	}
	t.Log("installing debootstrap with apt")
	for _, args := range [][]string{{"update", "-qq"}, {"install", "-y", "-qq", "debootstrap"}} {
		cmd := exec.CommandContext(ctx, "apt-get", args...)
		cmd.Env = append(os.Environ(), "DEBIAN_FRONTEND=noninteractive")
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("apt-get %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
}

// wantImages lists the component images the node must hold: etcd and pause,
// and each Kubernetes component whose binary was built.
func wantImages(root string) []string {
	want := []string{version.PauseImage, version.EtcdImage}
	for _, c := range []string{version.KubeAPIServer, version.KubeControllerManager, version.KubeScheduler} {
		if _, err := os.Stat(filepath.Join(root, "bin", c)); err == nil {
			want = append(want, version.KubeImage(c))
		}
	}
	return want
}

func TestNodeImage(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Minute)
	defer cancel()
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	cli := newClient(t)
	if _, err := cli.Ping(ctx); err != nil {
		t.Fatalf("docker engine does not answer: %v (run hack/ensure-docker.sh)", err)
	}
	image := buildImage(ctx, t, root)
	inspect, err := cli.ImageInspect(ctx, image)
	if err != nil {
		t.Fatal(err)
	}
	if inspect.Config.StopSignal != "SIGRTMIN+3" || strings.Join(inspect.Config.Entrypoint, " ") != "/usr/local/bin/kinc-entrypoint /sbin/init" {
		t.Errorf("image config: stop signal %q, entrypoint %q", inspect.Config.StopSignal, inspect.Config.Entrypoint)
	}
	t.Logf("image %s: %d MB", image, inspect.Size/1e6)

	framework.LockNodeStops(t) // the restart below trims other nodes' cgroups on v1
	cleanup(ctx, t, cli)
	t.Cleanup(func() { cleanup(context.Background(), t, cli) })
	start := time.Now()
	id := runNode(ctx, t, cli, image, nodeName)
	state, took := waitRunning(ctx, t, cli, id, start)
	t.Logf("node booted (%s) %s after docker create", state, took.Round(10*time.Millisecond))
	checkFailedUnits(ctx, t, cli, id, state)

	t.Run("cgroup driver", func(t *testing.T) {
		info, err := cli.Info(ctx)
		if err != nil {
			t.Fatal(err)
		}
		want := map[string]string{"1": "cgroupfs", "2": "systemd"}[info.CgroupVersion]
		if got := mustExec(ctx, t, cli, id, "cat", "/run/kinc/cgroup-driver"); got != want {
			t.Errorf("cgroup driver %q on cgroup v%s, want %q", got, info.CgroupVersion, want)
		}
	})
	t.Run("containerd", func(t *testing.T) {
		out := mustExec(ctx, t, cli, id, "crictl", "info")
		for _, want := range []string{`"restrictOOMScoreAdj": true`, `"test-handler": {`, `"sandboxImage": "` + version.PauseImage + `"`, `"/usr/lib/cni"`} {
			if !strings.Contains(out, want) {
				t.Errorf("crictl info lacks %s", want)
			}
		}
	})
	t.Run("preloaded images", func(t *testing.T) {
		var list struct {
			Images []struct {
				RepoTags []string `json:"repoTags"`
			} `json:"images"`
		}
		if err := json.Unmarshal([]byte(mustExec(ctx, t, cli, id, "crictl", "images", "-o", "json")), &list); err != nil {
			t.Fatal(err)
		}
		var tags []string
		for _, img := range list.Images {
			tags = append(tags, img.RepoTags...)
		}
		for _, want := range wantImages(root) {
			if !slices.Contains(tags, want) {
				t.Errorf("crictl images lacks %s: %v", want, tags)
			}
		}
		journal := mustExec(ctx, t, cli, id, "journalctl", "-u", "kinc-import-images", "--no-pager")
		if !strings.Contains(journal, "already imported") {
			t.Errorf("images were not preloaded (the boot imported them):\n%s", journal)
		}
	})
	t.Run("host network pod", func(t *testing.T) {
		runPod(ctx, t, cli, id, "host", `"linux": {"security_context": {"namespace_options": {"network": 2}}}`)
	})
	t.Run("test-handler runtime", func(t *testing.T) {
		// kind's runtime handler for the conformance RuntimeClass specs: runc
		// under another name.
		runPod(ctx, t, cli, id, "handler", `"linux": {"security_context": {"namespace_options": {"network": 2}}}`, "--runtime", "test-handler")
	})
	t.Run("bridge CNI pod", func(t *testing.T) {
		writeFiles(ctx, t, cli, id, map[string]string{"/etc/cni/net.d/10-e2e-bridge.conflist": bridgeConf})
		ip := runPod(ctx, t, cli, id, "bridge", `"linux": {}`)
		if !strings.HasPrefix(ip, "10.244.0.") {
			t.Errorf("pod IP %q not from the bridge's 10.244.0.0/24", ip)
		}
		mustExec(ctx, t, cli, id, "rm", "/etc/cni/net.d/10-e2e-bridge.conflist")
	})
	t.Run("restart", func(t *testing.T) {
		start := time.Now()
		if err := cli.ContainerRestart(ctx, id, container.StopOptions{}); err != nil {
			t.Fatal(err)
		}
		state, took := waitRunning(ctx, t, cli, id, start)
		t.Logf("node restarted (%s) in %s", state, took.Round(10*time.Millisecond))
		checkFailedUnits(ctx, t, cli, id, state)
		if out := mustExec(ctx, t, cli, id, "crictl", "images", "-q"); len(strings.Fields(out)) < len(wantImages(root)) {
			t.Errorf("images lost across a restart:\n%s", out)
		}
	})
}

// checkFailedUnits accepts "degraded" only when the kubelet alone failed
// (it waits for its config); no other unit may fail.
func checkFailedUnits(ctx context.Context, t *testing.T, cli *client.Client, id, state string) {
	t.Helper()
	failed := mustExec(ctx, t, cli, id, "systemctl", "list-units", "--failed", "--plain", "--no-legend")
	for _, line := range strings.Split(failed, "\n") {
		if unit, _, _ := strings.Cut(line, " "); unit != "" && unit != "kubelet.service" {
			t.Errorf("unit %s failed (system %s):\n%s", unit, state, mustExec(ctx, t, cli, id, "journalctl", "-u", unit, "--no-pager"))
		}
	}
	kubelet := mustExec(ctx, t, cli, id, "systemctl", "show", "kubelet", "-p", "ActiveState", "-p", "SubState", "-p", "ConditionResult")
	t.Logf("kubelet.service: %s", strings.ReplaceAll(kubelet, "\n", ", "))
}
