//go:build e2e

package cluster

import (
	"context"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/kinc-dev/kinc/pkg/cluster"

	"github.com/kinc-dev/kinc/e2e/framework"
)

// kindMultiNode is kind's "three node (two workers) cluster config" from its
// quick start, verbatim.
const kindMultiNode = `# three node (two workers) cluster config
kind: Cluster
apiVersion: kind.x-k8s.io/v1alpha4
nodes:
- role: control-plane
- role: worker
- role: worker
`

// BenchmarkCreateCluster reports the wall time of `create cluster --wait`
// for 1 and for 1+2 nodes against the baseline of a bare `docker run` of the
// same node image reaching systemd "running", measured in the same run.
func BenchmarkCreateCluster(b *testing.B) {
	cli := framework.DockerClient(b)
	img := cluster.DefaultNodeImage()
	if _, err := cli.ImageInspect(context.Background(), img); err != nil {
		img = "kinc/node:latest"
		if _, err := cli.ImageInspect(context.Background(), img); err != nil {
			b.Skipf("no node image (make node-image)")
		}
	}
	baseline := bareDockerRun(b, img)
	b.ReportMetric(baseline.Seconds(), "docker-run-to-running-s")
	for _, tc := range []struct {
		name, config, metric string
	}{
		{"kinc-e2e-bench-1", "", "create-1-node-s"},
		{"kinc-e2e-bench-3", kindMultiNode, "create-1cp-2w-s"},
	} {
		removeByLabel(b, tc.name)
		kc := filepath.Join(b.TempDir(), "config")
		p := newProvider(b, kc)
		opts := []cluster.CreateOption{cluster.CreateWithKubeconfigPath(kc), cluster.CreateWithWaitForReady(3 * time.Minute),
			cluster.CreateWithNodeImage(img)}
		if tc.config != "" {
			opts = append(opts, cluster.CreateWithRawConfig([]byte(tc.config)))
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
		start := time.Now()
		err := p.Create(ctx, tc.name, opts...)
		took := time.Since(start)
		cancel()
		removeByLabel(b, tc.name)
		if err != nil {
			b.Fatalf("create %s: %v", tc.name, err)
		}
		b.ReportMetric(took.Seconds(), tc.metric)
		b.ReportMetric(took.Seconds()/baseline.Seconds(), tc.metric+"/docker-run")
	}
}

// bareDockerRun times `docker run` of the node image with DESIGN.md §6's
// flags until systemd reports running (or degraded: the kubelet waits for
// a config that nobody writes here).
func bareDockerRun(b *testing.B, img string) time.Duration {
	const name = "kinc-e2e-bench-baseline"
	_ = exec.Command("docker", "rm", "-f", "-v", name).Run()
	defer func() { _ = exec.Command("docker", "rm", "-f", "-v", name).Run() }()
	start := time.Now()
	out, err := exec.Command("docker", "run", "-d", "--name", name, "--hostname", name,
		"--label", "io.kinc.cluster="+name,
		"--cap-add", "ALL", "--cap-drop", "SYS_RESOURCE",
		"--security-opt", "seccomp=unconfined", "--security-opt", "apparmor=unconfined",
		"--tmpfs", "/run", "--tmpfs", "/tmp", "-v", "/var",
		"-v", "/sys/fs/cgroup:/sys/fs/cgroup:rw", "--cgroupns=private",
		"-e", "container=docker", img).CombinedOutput()
	if err != nil {
		b.Fatalf("docker run: %v\n%s", err, out)
	}
	deadline := time.Now().Add(2 * time.Minute)
	for time.Now().Before(deadline) {
		state, _ := exec.Command("docker", "exec", name, "systemctl", "is-system-running").Output()
		if s := strings.TrimSpace(string(state)); s == "running" || s == "degraded" {
			return time.Since(start)
		}
		time.Sleep(50 * time.Millisecond)
	}
	b.Fatalf("%s: systemd not running after 2m", name)
	return 0
}

// removeByLabel force-removes a cluster's node containers and volumes.
func removeByLabel(b *testing.B, name string) {
	out, _ := exec.Command("docker", "ps", "-aq", "--filter", "label=io.kinc.cluster="+name).Output()
	for _, id := range strings.Fields(string(out)) {
		_ = exec.Command("docker", "rm", "-f", "-v", id).Run()
	}
}
