//go:build e2e

package node

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/docker/docker/api/types/container"

	"github.com/kinc-dev/kinc/e2e/framework"
	"github.com/kinc-dev/kinc/internal/benchcmp"
)

const (
	benchCluster = "kinc-e2e-node-bench"
	benchPods    = 50
	benchSingles = 5
)

// BenchmarkNode creates one cluster and measures, each against a baseline
// measured in the same run (internal/benchcmp: ratio = kinc ÷ baseline):
//
//	IdleNode: the kubelet's resident memory ÷ containerd's, on the idle
//	          control-plane node (plus the node's whole memory);
//	OnePod:   one pod bound to the node (spec.nodeName), created through
//	          the apiserver and started by the kubelet, seen Running by a
//	          watch (median of benchSingles) ÷ the same pod started through
//	          CRI directly with the kubelet's Go CRI client (median of as many);
//	Pods:     benchPods such pods created at once, until all are Running ÷
//	          the same pods started through CRI at once (one goroutine each,
//	          as the kubelet's pod workers).
//
// Each body does its work once, whatever b.N (make bench runs 1x).
func BenchmarkNode(b *testing.B) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	e := newEnv(ctx, b, benchCluster)
	mirror := "kube-apiserver-" + e.node
	e.eventually(60*time.Second, 500*time.Millisecond, "control plane mirror pods Running", func() bool {
		out, _ := e.kubectl("", "-n", "kube-system", "get", "pods", "-o", `jsonpath={range .items[*]}{.status.phase} {end}`)
		return strings.Count(out, "Running") == 3
	}, e.describe("-n", "kube-system", "pod", mirror))
	cri := e.newCRIBaseline()

	b.Run("IdleNode", func(b *testing.B) {
		e := e.with(b)
		time.Sleep(10 * time.Second) // let start-up settle
		kubelet := e.vmRSS(e.kubeletPID())
		containerd := e.vmRSS(strings.Fields(e.mustExec("pidof", "containerd"))[0])
		cgroupMB := e.cgroupMemory()
		pss, procs := e.processMemory()
		benchcmp.Values(b, "rss_MB", kubelet, containerd)
		b.ReportMetric(cgroupMB, "node_cgroup_mem_MB")
		b.ReportMetric(pss, "node_procs_pss_MB")
		b.Logf("idle control-plane node: kubelet VmRSS %.1f MB, containerd VmRSS %.1f MB; node container cgroup (docker stats: usage − inactive file) %.1f MB; "+
			"PSS summed over the node's %d processes %.1f MB", kubelet, containerd, cgroupMB, procs, pss)
	})

	b.Run("OnePod", func(b *testing.B) {
		e := e.with(b)
		var kubelet, direct []time.Duration
		for i := range benchSingles {
			one, _ := e.kubeletStartups(fmt.Sprintf("single%d", i), 1)
			kubelet = append(kubelet, one[0])
			took, _ := cri.start(fmt.Sprintf("single%d", i), 1)
			direct = append(direct, took[0])
		}
		k, c := percentile(kubelet, 50), percentile(direct, 50)
		benchcmp.Times(b, k*time.Duration(b.N), c*time.Duration(b.N))
		b.Logf("one pod bound to the idle node → Running: %v, p50 %s; through CRI directly: %v, p50 %s",
			kubelet, k.Round(time.Millisecond), direct, c.Round(time.Millisecond))
	})

	b.Run("Pods", func(b *testing.B) {
		e := e.with(b)
		direct, directAll := cri.start("bench", benchPods)
		pods, all := e.kubeletStartups("bench", benchPods)
		benchcmp.Times(b, all*time.Duration(b.N), directAll*time.Duration(b.N))
		b.ReportMetric(float64(benchPods), "pods")
		b.ReportMetric(ms(percentile(pods, 50)), "pod_running_p50_ms")
		b.ReportMetric(ms(percentile(pods, 99)), "pod_running_p99_ms")
		b.ReportMetric(ms(percentile(direct, 50)), "cri_direct_p50_ms")
		rss := e.vmRSS(e.kubeletPID())
		b.ReportMetric(rss, "kubelet_rss_with_pods_MB")
		b.Logf("%d pods at once → Running: p50 %s, p99 %s, all in %s; through CRI directly, all at once: p50 %s, p99 %s, all in %s; kubelet VmRSS with %d pods %.1f MB",
			benchPods, percentile(pods, 50).Round(time.Millisecond), percentile(pods, 99).Round(time.Millisecond), all.Round(time.Millisecond),
			percentile(direct, 50).Round(time.Millisecond), percentile(direct, 99).Round(time.Millisecond), directAll.Round(time.Millisecond), benchPods+benchSingles, rss)
	})
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// kubeletStartups creates n pods (named prefix-i) already bound to the node
// (spec.nodeName, so the scheduler is not involved) in one kubectl create,
// and returns, per pod, the time from the watch's first sight of it to its
// first sight Running, and the time from the create to all Running.
func (e *env) kubeletStartups(prefix string, n int) ([]time.Duration, time.Duration) {
	e.tb.Helper()
	var list strings.Builder
	list.WriteString(`{"apiVersion": "v1", "kind": "List", "items": [`)
	for i := range n {
		if i > 0 {
			list.WriteString(",")
		}
		fmt.Fprintf(&list, `{"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "%s-%d", "labels": {"app": %q}},
 "spec": {"nodeName": %q, "terminationGracePeriodSeconds": 0, "containers": [{"name": "c", "image": %q,
  "imagePullPolicy": "Never", "command": ["sleep", "3600"]}]}}`, prefix, i, "kinc-"+prefix, e.node, framework.BusyboxImage)
	}
	list.WriteString("]}")
	if !json.Valid([]byte(list.String())) {
		e.tb.Fatal("bad pod list")
	}

	watch := exec.CommandContext(e.ctx, framework.RequireKubectl(e.tb), "--kubeconfig", e.kubeconfig, "get", "pods", "-l", "app=kinc-"+prefix, "-w",
		"-o", `jsonpath={.metadata.name} {.status.phase}{"\n"}`)
	stdout, err := watch.StdoutPipe()
	if err != nil {
		e.tb.Fatal(err)
	}
	if err := watch.Start(); err != nil {
		e.tb.Fatal(err)
	}
	defer func() { _ = watch.Process.Kill(); _ = watch.Wait() }()
	var mu sync.Mutex
	seen, running := map[string]time.Time{}, map[string]time.Time{}
	allRunning := make(chan struct{})
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			now := time.Now()
			f := strings.Fields(sc.Text())
			if len(f) != 2 {
				continue
			}
			mu.Lock()
			if _, ok := seen[f[0]]; !ok {
				seen[f[0]] = now
			}
			if _, ok := running[f[0]]; !ok && f[1] == "Running" {
				running[f[0]] = now
				if len(running) == n {
					close(allRunning)
				}
			}
			mu.Unlock()
		}
	}()
	time.Sleep(1500 * time.Millisecond) // the watch is established (kubectl starts in ~0.2 s)

	start := time.Now()
	e.mustKubectl(list.String(), "create", "-f", "-")
	created := time.Since(start)
	select {
	case <-allRunning:
	case <-time.After(3 * time.Minute):
		mu.Lock()
		defer mu.Unlock()
		e.tb.Fatalf("%d of %d pods Running after 3 minutes\n%s", len(running), n, e.describe("pod", prefix+"-0")())
	}
	all := time.Since(start)
	mu.Lock()
	defer mu.Unlock()
	var took []time.Duration
	for name, t := range running {
		took = append(took, t.Sub(seen[name]))
	}
	e.tb.Logf("kubectl create of %d pods took %s; all Running %s after it began", n, created.Round(time.Millisecond), all.Round(time.Millisecond))
	return took, all
}

// cgroupMemory returns the node container's memory in MB as docker stats
// shows it: the cgroup's usage minus inactive file pages. On cgroup v1 the
// node's systemd units and pods live in cgroups outside the container's
// (see processMemory), so this misses most of the node.
func (e *env) cgroupMemory() float64 {
	e.tb.Helper()
	r, err := e.cli.ContainerStatsOneShot(e.ctx, e.node)
	if err != nil {
		e.tb.Fatal(err)
	}
	defer r.Body.Close()
	var s container.StatsResponse
	if err := json.NewDecoder(r.Body).Decode(&s); err != nil {
		e.tb.Fatal(err)
	}
	usage := s.MemoryStats.Usage
	for _, k := range []string{"total_inactive_file", "inactive_file"} {
		if v, ok := s.MemoryStats.Stats[k]; ok && v < usage {
			usage -= v
			break
		}
	}
	return float64(usage) / (1 << 20)
}

// processMemory sums the proportional set size of every process in the
// node's PID namespace (systemd, containerd, the kubelet, shims, and all pod
// processes) in MB, and returns how many processes there were.
func (e *env) processMemory() (float64, int) {
	e.tb.Helper()
	out := e.mustExec("bash", "-c", `n=0; s=0; for f in /proc/[0-9]*/smaps_rollup; do
  v=$(awk '/^Pss:/ {print $2}' "$f" 2>/dev/null) || continue
  [ -n "$v" ] || continue
  n=$((n + 1)); s=$((s + v))
done; echo "$s $n"`)
	f := strings.Fields(out)
	if len(f) != 2 {
		e.tb.Fatalf("PSS sum %q", out)
	}
	kb, _ := strconv.ParseFloat(f[0], 64)
	n, _ := strconv.Atoi(f[1])
	return kb / 1024, n
}
