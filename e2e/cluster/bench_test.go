//go:build e2e

package cluster

import (
	"context"
	"fmt"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kinc-dev/kinc/pkg/cluster"

	"github.com/kinc-dev/kinc/e2e/framework"
	"github.com/kinc-dev/kinc/internal/benchcmp"
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
// for 1 and for 1+2 nodes against the baseline, measured in the same
// iteration, of as many bare node containers of the same image, started
// in parallel with the nodes' flags, until systemd runs in every one
// (internal/benchcmp: ratio = create ÷ bare nodes).
func BenchmarkCreateCluster(b *testing.B) {
	cli := framework.DockerClient(b)
	img := framework.NodeImage(b, cli)
	for _, tc := range []struct {
		name, cluster, config string
		nodes                 int
	}{
		{"1-node", "kinc-e2e-bench-1", "", 1},
		{"1cp-2w", "kinc-e2e-bench-3", kindMultiNode, 3},
	} {
		b.Run(tc.name, func(b *testing.B) {
			var create, bare time.Duration
			for b.Loop() {
				create += createOnce(b, img, tc.cluster, tc.config)
				run, _ := bareNodes(b, img, tc.nodes, false)
				bare += run
			}
			benchcmp.Times(b, create, bare)
		})
	}
}

// createOnce creates cluster name with --wait, removes it and returns how
// long the create took.
func createOnce(b *testing.B, img, name, config string) time.Duration {
	removeByLabel(b, name)
	kc := filepath.Join(b.TempDir(), "config")
	p := newProvider(b, kc)
	opts := []cluster.CreateOption{cluster.CreateWithKubeconfigPath(kc), cluster.CreateWithWaitForReady(3 * time.Minute),
		cluster.CreateWithNodeImage(img)}
	if config != "" {
		opts = append(opts, cluster.CreateWithRawConfig([]byte(config)))
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	start := time.Now()
	err := p.Create(ctx, name, opts...)
	took := time.Since(start)
	removeByLabel(b, name)
	if err != nil {
		b.Fatalf("create %s: %v", name, err)
	}
	return took
}

// bareNodes starts n containers of the node image at once with the node
// containers' flags (DESIGN.md §6; on the kinc network when it exists) and
// times them until systemd runs in every one (or is degraded: the kubelet
// waits for a config that nobody writes here). With restart it then times
// one `docker restart` of them all, as a cluster is restarted, until
// systemd runs again in each. The containers are removed.
func bareNodes(b *testing.B, img string, n int, restart bool) (run, restarted time.Duration) {
	const label = "kinc-e2e-bench-baseline"
	removeByLabel(b, label)
	defer removeByLabel(b, label)
	network := []string{}
	if exec.Command("docker", "network", "inspect", "kinc").Run() == nil {
		network = []string{"--network", "kinc"}
	}
	names := make([]string, n)
	for i := range names {
		names[i] = fmt.Sprintf("%s-%d", label, i)
	}
	var wg sync.WaitGroup
	start := time.Now()
	for _, name := range names {
		wg.Go(func() {
			args := append([]string{"run", "-d", "--name", name, "--hostname", name, "--tty",
				"--label", "io.kinc.cluster=" + label,
				"--cap-add", "ALL", "--cap-drop", "SYS_RESOURCE",
				"--security-opt", "seccomp=unconfined", "--security-opt", "apparmor=unconfined",
				"--security-opt", "systempaths=unconfined",
				"--tmpfs", "/run", "--tmpfs", "/tmp", "-v", "/var", "-v", "/lib/modules:/lib/modules:ro",
				"-v", "/sys/fs/cgroup:/sys/fs/cgroup:rw", "--cgroupns=private", "--restart", "on-failure:1",
				"--stop-signal", "SIGRTMIN+3", "-e", "container=docker"}, network...)
			if out, err := exec.Command("docker", append(args, img)...).CombinedOutput(); err != nil {
				b.Errorf("docker run %s: %v\n%s", name, err, out)
				return
			}
			waitSystemd(b, name)
		})
	}
	wg.Wait()
	run = time.Since(start)
	if b.Failed() || !restart {
		return run, 0
	}
	start = time.Now()
	if out, err := exec.Command("docker", append([]string{"restart"}, names...)...).CombinedOutput(); err != nil {
		b.Fatalf("docker restart: %v\n%s", err, out)
	}
	for _, name := range names {
		wg.Go(func() { waitSystemd(b, name) })
	}
	wg.Wait()
	return run, time.Since(start)
}

// waitSystemd waits until systemd in container name is running (or
// degraded). It may run in any goroutine.
func waitSystemd(b *testing.B, name string) {
	deadline := time.Now().Add(2 * time.Minute)
	for time.Now().Before(deadline) {
		state, _ := exec.Command("docker", "exec", name, "systemctl", "is-system-running").Output()
		if s := strings.TrimSpace(string(state)); s == "running" || s == "degraded" {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	b.Errorf("%s: systemd not running after 2m", name)
}

// BenchmarkRestartCluster restarts every node of a 1 control-plane + 2
// worker cluster (kind's example) with one `docker restart` and reports
// how long until every node is Ready again (a heartbeat from after its
// container started), against the same `docker restart` of three bare node
// containers until systemd runs in each, measured in the same run
// (internal/benchcmp: ratio = cluster ÷ bare nodes). It also reports how
// long until a pod on a worker serves the control-plane node again.
func BenchmarkRestartCluster(b *testing.B) {
	m := newMulti(b, "kinc-e2e-bench-restart", 10*time.Minute)
	m.create(kindMultiNode)
	if _, err := run(b, "load", "docker-image", framework.BusyboxImage, "--name", m.name); err != nil {
		b.Fatal(err)
	}
	m.mustKubectl(fmt.Sprintf(webPod, m.name), "apply", "-f", "-")
	webIP := m.webServes("")
	nodes := []string{m.name + "-control-plane", m.name + "-worker", m.name + "-worker2"}

	var ready, serving, restarted, baseline time.Duration
	for b.Loop() {
		_, bare := bareNodes(b, m.image, len(nodes), true)
		baseline += bare
		start := time.Now()
		if out, err := exec.CommandContext(m.ctx, "docker", append([]string{"restart"}, nodes...)...).CombinedOutput(); err != nil {
			b.Fatalf("docker restart: %v\n%s", err, out)
		}
		restarted += time.Since(start)
		m.nodesBack(m.ips(nodes), m.started(nodes))
		ready += time.Since(start)
		webIP = m.webServes(webIP)
		serving += time.Since(start)
	}
	benchcmp.Times(b, ready, baseline)
	n := float64(b.N)
	b.ReportMetric(restarted.Seconds()/n, "docker-restart-3-nodes-s")
	// docker restart stops and starts the nodes one after the other, each
	// stop waiting up to 3 s for pods that ignore SIGTERM; this is what
	// kinc adds after it.
	b.ReportMetric((ready-restarted).Seconds()/n, "ready-after-docker-restart-s")
	b.ReportMetric(serving.Seconds()/n, "restart-to-pod-serving-s")
}

// removeByLabel force-removes a cluster's node containers and volumes.
func removeByLabel(b *testing.B, name string) {
	out, _ := exec.Command("docker", "ps", "-aq", "--filter", "label=io.kinc.cluster="+name).Output()
	for _, id := range strings.Fields(string(out)) {
		_ = exec.Command("docker", "rm", "-f", "-v", id).Run()
	}
}
