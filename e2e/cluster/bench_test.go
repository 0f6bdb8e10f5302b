//go:build e2e

package cluster

import (
	"context"
	"fmt"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/kinc-dev/kinc/pkg/cluster"

	"github.com/kinc-dev/kinc/e2e/framework"
	"github.com/kinc-dev/kinc/internal/testenv"
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
			testenv.Missing(b, "neither %s nor kinc/node:latest is present (build one with `make node-image`)", cluster.DefaultNodeImage())
		}
	}
	baseline, _ := bareDockerRun(b, img)
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

// bareDockerRun times `docker run` of the node image with the node
// containers' flags (DESIGN.md §6) until systemd reports running (or
// degraded: the kubelet waits for a config that nobody writes here), and
// then `docker restart` of it until systemd runs again.
func bareDockerRun(b *testing.B, img string) (run, restart time.Duration) {
	const name = "kinc-e2e-bench-baseline"
	_ = exec.Command("docker", "rm", "-f", "-v", name).Run()
	defer func() { _ = exec.Command("docker", "rm", "-f", "-v", name).Run() }()
	start := time.Now()
	out, err := exec.Command("docker", "run", "-d", "--name", name, "--hostname", name,
		"--label", "io.kinc.cluster="+name,
		"--cap-add", "ALL", "--cap-drop", "SYS_RESOURCE",
		"--security-opt", "seccomp=unconfined", "--security-opt", "apparmor=unconfined",
		"--security-opt", "systempaths=unconfined",
		"--tmpfs", "/run", "--tmpfs", "/tmp", "-v", "/var",
		"-v", "/sys/fs/cgroup:/sys/fs/cgroup:rw", "--cgroupns=private",
		"--stop-signal", "SIGRTMIN+3", "-e", "container=docker", img).CombinedOutput()
	if err != nil {
		b.Fatalf("docker run: %v\n%s", err, out)
	}
	waitSystemd(b, name)
	run = time.Since(start)
	start = time.Now()
	if out, err := exec.Command("docker", "restart", name).CombinedOutput(); err != nil {
		b.Fatalf("docker restart: %v\n%s", err, out)
	}
	waitSystemd(b, name)
	return run, time.Since(start)
}

// waitSystemd waits until systemd in container name is running (or
// degraded).
func waitSystemd(b *testing.B, name string) {
	deadline := time.Now().Add(2 * time.Minute)
	for time.Now().Before(deadline) {
		state, _ := exec.Command("docker", "exec", name, "systemctl", "is-system-running").Output()
		if s := strings.TrimSpace(string(state)); s == "running" || s == "degraded" {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	b.Fatalf("%s: systemd not running after 2m", name)
}

// BenchmarkRestartCluster restarts every node of a 1 control-plane + 2
// worker cluster (kind's example) with one `docker restart` and reports
// how long until every node is Ready again (a heartbeat from after its
// container started) and until a pod on a worker serves the control-plane
// node again, against a bare node container's `docker restart` to systemd
// running, measured in the same run.
func BenchmarkRestartCluster(b *testing.B) {
	m := newMulti(b, "kinc-e2e-bench-restart", 10*time.Minute)
	m.create(kindMultiNode)
	if _, err := run(b, "load", "docker-image", framework.BusyboxImage, "--name", m.name); err != nil {
		b.Fatal(err)
	}
	m.mustKubectl(fmt.Sprintf(webPod, m.name), "apply", "-f", "-")
	webIP := m.webServes("")
	nodes := []string{m.name + "-control-plane", m.name + "-worker", m.name + "-worker2"}
	_, baseline := bareDockerRun(b, m.image)
	b.ReportMetric(baseline.Seconds(), "bare-docker-restart-s")

	start := time.Now()
	if out, err := exec.CommandContext(m.ctx, "docker", append([]string{"restart"}, nodes...)...).CombinedOutput(); err != nil {
		b.Fatalf("docker restart: %v\n%s", err, out)
	}
	restarted := time.Since(start)
	m.nodesBack(m.ips(nodes), m.started(nodes))
	ready := time.Since(start)
	m.webServes(webIP)
	serving := time.Since(start)
	b.ReportMetric(restarted.Seconds(), "docker-restart-3-nodes-s")
	b.ReportMetric(ready.Seconds(), "restart-to-ready-s")
	// docker restart stops and starts the nodes one after the other, each
	// stop waiting up to 3 s for pods that ignore SIGTERM; this is what
	// kinc adds after it.
	b.ReportMetric((ready - restarted).Seconds(), "ready-after-docker-restart-s")
	b.ReportMetric(serving.Seconds(), "restart-to-pod-serving-s")
	b.ReportMetric(ready.Seconds()/baseline.Seconds(), "ready/bare-restart")
	b.ReportMetric(serving.Seconds()/baseline.Seconds(), "serving/bare-restart")
}

// removeByLabel force-removes a cluster's node containers and volumes.
func removeByLabel(b *testing.B, name string) {
	out, _ := exec.Command("docker", "ps", "-aq", "--filter", "label=io.kinc.cluster="+name).Output()
	for _, id := range strings.Fields(string(out)) {
		_ = exec.Command("docker", "rm", "-f", "-v", id).Run()
	}
}
