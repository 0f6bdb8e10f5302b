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
)

const (
	benchCluster = "kinc-e2e-node-bench"
	benchPods    = 50
)

// BenchmarkNode creates one cluster and measures, in order: the idle node
// (kubelet RSS, the node's memory), then pod startup: benchPods pods made
// directly through CRI in the node (crictl runp/create/start, one after the
// other, then all at once; the baselines), against one pod, then benchPods
// pods at once, already bound to the node (spec.nodeName), created through
// the apiserver and started by the kubelet. Each body does its work once, whatever b.N (make bench runs 1x).
func BenchmarkNode(b *testing.B) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	e := newEnv(ctx, b, benchCluster)
	mirror := "kube-apiserver-" + e.node
	e.eventually(60*time.Second, 500*time.Millisecond, "control plane mirror pods Running", func() bool {
		out, _ := e.kubectl("", "-n", "kube-system", "get", "pods", "-o", `jsonpath={range .items[*]}{.status.phase} {end}`)
		return strings.Count(out, "Running") == 3
	}, e.describe("-n", "kube-system", "pod", mirror))

	b.Run("IdleNode", func(b *testing.B) {
		e := e.with(b)
		time.Sleep(10 * time.Second) // let start-up settle
		rss := e.vmRSS(e.kubeletPID())
		cgroupMB := e.cgroupMemory()
		pss, procs := e.processMemory()
		b.ReportMetric(rss, "kubelet_rss_MB")
		b.ReportMetric(cgroupMB, "node_cgroup_mem_MB")
		b.ReportMetric(pss, "node_procs_pss_MB")
		b.Logf("idle control-plane node: kubelet VmRSS %.1f MB; node container cgroup (docker stats: usage − inactive file) %.1f MB; "+
			"PSS summed over the node's %d processes %.1f MB", rss, cgroupMB, procs, pss)
	})

	b.Run("PodStartup", func(b *testing.B) {
		e := e.with(b)
		cri := e.criStartups(benchPods)
		var criSum time.Duration
		for _, d := range cri {
			criSum += d
		}
		criParallel := e.criParallel(benchPods)
		var singles []time.Duration // one pod at a time on the idle node
		for i := range 5 {
			one, _ := e.kubeletStartups(fmt.Sprintf("single%d", i), 1)
			singles = append(singles, one[0])
		}
		one := percentile(singles, 50)
		pods, all := e.kubeletStartups("bench", benchPods)
		criP50, p50, p99 := percentile(cri, 50), percentile(pods, 50), percentile(pods, 99)
		b.ReportMetric(ms(p50), "pod_running_p50_ms")
		b.ReportMetric(ms(p99), "pod_running_p99_ms")
		b.ReportMetric(ms(criP50), "cri_direct_p50_ms")
		b.ReportMetric(float64(p50)/float64(criP50), "p50_vs_cri_x")
		b.ReportMetric(all.Seconds(), "all_running_s")
		b.ReportMetric(all.Seconds()/criSum.Seconds(), "all_running_vs_cri_sequential_x")
		b.ReportMetric(criParallel.Seconds(), "cri_parallel_all_s")
		b.ReportMetric(all.Seconds()/criParallel.Seconds(), "all_running_vs_cri_parallel_x")
		b.ReportMetric(ms(one), "one_pod_running_p50_ms")
		b.ReportMetric(float64(one)/float64(criP50), "one_pod_vs_cri_x")
		rss := e.vmRSS(e.kubeletPID())
		b.ReportMetric(rss, "kubelet_rss_with_pods_MB")
		b.Logf("one pod at a time bound to the idle node → Running: %v, p50 %s; %d pods at once → Running: p50 %s, p99 %s, all in %s; "+
			"directly through CRI (crictl runp+create+start, one after the other): p50 %s, p99 %s, all in %s; all %d at once through CRI: %s; kubelet VmRSS with %d pods %.1f MB",
			singles, one.Round(time.Millisecond), benchPods, p50.Round(time.Millisecond), p99.Round(time.Millisecond), all.Round(time.Millisecond),
			criP50.Round(time.Millisecond), percentile(cri, 99).Round(time.Millisecond), criSum.Round(time.Millisecond), benchPods, criParallel.Round(time.Millisecond), benchPods+1, rss)
	})
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// criStartups starts n sandboxes with a busybox container each directly
// through CRI in the node, one after the other, on the node's CNI network as
// the kubelet's pods are, and returns how long each runp+create+start took
// (timed in the node, so docker exec is not counted). It removes them after.
func (e *env) criStartups(n int) []time.Duration {
	e.tb.Helper()
	const script = criSetup + `
for i in $(seq 1 $2); do
  s=$(date +%s%N)
  p=$(crictl runp pod-$i.json 2>/dev/null)
  c=$(crictl create $p ctr.json pod-$i.json 2>/dev/null)
  crictl start $c >/dev/null 2>&1
  t=$(date +%s%N)
  echo "$p $(( (t - s) / 1000 ))"
done
`
	out := e.mustExec("bash", "-c", script, "cri-bench", "seq", strconv.Itoa(n))
	var took []time.Duration
	var sandboxes []string
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		f := strings.Fields(line)
		us, err := strconv.Atoi(f[len(f)-1])
		if len(f) != 2 || err != nil {
			e.tb.Fatalf("crictl timing line %q", line)
		}
		sandboxes = append(sandboxes, f[0])
		took = append(took, time.Duration(us)*time.Microsecond)
	}
	if len(took) != n {
		e.tb.Fatalf("%d CRI pods timed, want %d:\n%s", len(took), n, out)
	}
	e.checkAndRemoveCRIPods(sandboxes)
	return took
}

// criParallel starts n such sandboxes and containers at once (a shell job
// each) and returns how long it took until all were started.
func (e *env) criParallel(n int) time.Duration {
	e.tb.Helper()
	const script = criSetup + `
s=$(date +%s%N)
for i in $(seq 1 $2); do
  (p=$(crictl runp pod-$i.json 2>/dev/null); c=$(crictl create $p ctr.json pod-$i.json 2>/dev/null); crictl start $c >/dev/null 2>&1; echo "$p") >out-$i &
done
wait
t=$(date +%s%N)
cat out-*
echo "$(( (t - s) / 1000 ))"
`
	out := strings.Fields(e.mustExec("bash", "-c", script, "cri-bench", "par", strconv.Itoa(n)))
	if len(out) != n+1 {
		e.tb.Fatalf("parallel CRI run printed %q", out)
	}
	us, err := strconv.Atoi(out[n])
	if err != nil {
		e.tb.Fatal(err)
	}
	e.checkAndRemoveCRIPods(out[:n])
	return time.Duration(us) * time.Microsecond
}

// criSetup (bash, args: label, count) writes the CRI configs of the pods
// pod-1.json … pod-$2.json (named cri-$1-i) and of their container,
// ctr.json, into a fresh directory and changes to it.
const criSetup = `set -e
d=/var/lib/kinc-e2e-bench/$1; rm -rf $d; mkdir -p $d; cd $d
cat > ctr.json <<EOF
{"metadata": {"name": "c"}, "image": {"image": "docker.io/` + framework.BusyboxImage + `"}, "command": ["sleep", "3600"], "log_path": "c.log", "linux": {}}
EOF
for i in $(seq 1 $2); do
  cat > pod-$i.json <<EOF
{"metadata": {"name": "cri-$1-$i", "namespace": "default", "uid": "cri-$1-$i-uid", "attempt": 0}, "log_directory": "$d/logs-$i", "linux": {}}
EOF
done
`

// checkAndRemoveCRIPods checks that the sandboxes' containers run, then
// removes the sandboxes.
func (e *env) checkAndRemoveCRIPods(sandboxes []string) {
	e.tb.Helper()
	n := len(sandboxes)
	running := e.mustExec("crictl", "ps", "-q", "--name", "^c$", "--state", "running")
	if got := len(strings.Fields(running)); got != n {
		e.tb.Fatalf("%d CRI containers running, want %d", got, n)
	}
	start := time.Now()
	e.mustExec(append([]string{"bash", "-c", `for p in "$@"; do crictl stopp "$p" >/dev/null 2>&1; crictl rmp -f "$p" >/dev/null 2>&1; done; true`, "cri-clean"}, sandboxes...)...)
	e.tb.Logf("removed %d CRI sandboxes in %s", n, since(start))
}

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
