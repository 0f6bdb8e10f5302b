package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/sync/errgroup"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/kinc-dev/kinc/internal/benchcmp"
	"github.com/kinc-dev/kinc/pkg/apiserver/apiservertest"
)

// benchPods is how many pods the memory benchmark adds (issue 11: "RSS
// with 5,000 pods", aim ≤ 80 MiB).
const benchPods = 5000

// BenchmarkIntegrationMemory runs the kube-controller-manager binary with
// kubeadm's flags (every default controller) and, as the baseline, the
// kube-scheduler binary, which also caches every pod and node, against one
// kube-apiserver on etcd; it reports both VmRSS idle and after 5,000 pods
// bound to 50 Node objects were created and settled (ratio =
// controller-manager ÷ scheduler with the pods).
func BenchmarkIntegrationMemory(b *testing.B) {
	inst := apiservertest.Start(b, apiservertest.Options{ExtraFlags: serviceAccountFlags(b)})
	dir := b.TempDir()
	cm := startDaemon(b, dir, "kube-controller-manager", ".",
		"--allocate-node-cidrs=true", "--cluster-cidr=10.244.0.0/16", "--cluster-name=kinc",
		"--controllers=*,bootstrapsigner,tokencleaner", "--leader-elect=false",
		"--root-ca-file="+filepath.Join(inst.Dir, "ca.crt"), "--service-cluster-ip-range=10.96.0.0/16",
		"--use-service-account-credentials=true", "--secure-port="+strconv.Itoa(freePort(b)), "--cert-dir="+dir,
		"--kubeconfig="+inst.Kubeconfig)
	sched := startDaemon(b, dir, "kube-scheduler", "../kube-scheduler",
		"--leader-elect=false", "--secure-port="+strconv.Itoa(freePort(b)), "--cert-dir="+dir, "--kubeconfig="+inst.Kubeconfig)

	cfg := *inst.Config
	cfg.QPS, cfg.Burst = 2000, 2000
	client, err := kubernetes.NewForConfig(&cfg)
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	time.Sleep(5 * time.Second) // both synced and idle
	cmIdle, schedIdle := vmRSS(b, cm), vmRSS(b, sched)

	const nodes = 50
	for i := range nodes {
		node := &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("node-%d", i)}}
		if _, err := client.CoreV1().Nodes().Create(ctx, node, metav1.CreateOptions{}); err != nil {
			b.Fatal(err)
		}
	}
	start := time.Now()
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(32)
	for i := range benchPods {
		g.Go(func() error {
			pod := &corev1.Pod{
				ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("pod-%d", i), Labels: map[string]string{"app": fmt.Sprintf("app-%d", i%100)}},
				Spec: corev1.PodSpec{NodeName: fmt.Sprintf("node-%d", i%nodes),
					Containers: []corev1.Container{{Name: "c", Image: "registry.k8s.io/pause:3.10"}}},
			}
			_, err := client.CoreV1().Pods("default").Create(gctx, pod, metav1.CreateOptions{})
			return err
		})
	}
	if err := g.Wait(); err != nil {
		b.Fatal(err)
	}
	created := time.Since(start)
	time.Sleep(10 * time.Second) // informers caught up, one GC pass
	cmPods, schedPods := vmRSS(b, cm), vmRSS(b, sched)
	benchcmp.Values(b, "rss_MB", cmPods, schedPods)
	b.ReportMetric(cmIdle, "idle_rss_MB")
	b.ReportMetric(schedIdle, "baseline-idle_rss_MB")
	b.Logf("kube-controller-manager VmRSS idle %.1f MB, with %d pods on %d nodes %.1f MB (aim ≤ 80 MiB = 83.9 MB); kube-scheduler idle %.1f MB, with the pods %.1f MB; pods created in %s",
		cmIdle, benchPods, nodes, cmPods, schedIdle, schedPods, created.Round(time.Millisecond))
}

// startDaemon builds the command in pkg (a directory relative to this one)
// and runs it with flags until the benchmark ends; it returns its pid.
func startDaemon(b *testing.B, dir, name, pkg string, flags ...string) int {
	b.Helper()
	bin := filepath.Join(dir, name)
	build := exec.Command("go", "build", "-o", bin, pkg)
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		b.Fatalf("go build %s: %v\n%s", name, err, out)
	}
	logPath := filepath.Join(dir, name+".log")
	logFile, err := os.Create(logPath)
	if err != nil {
		b.Fatal(err)
	}
	cmd := exec.Command(bin, flags...)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		_ = logFile.Close()
		if b.Failed() {
			log, _ := os.ReadFile(logPath)
			b.Logf("%s log:\n%s", name, log)
		}
	})
	return cmd.Process.Pid
}

// vmRSS returns the resident set of process pid in MB.
func vmRSS(b *testing.B, pid int) float64 {
	b.Helper()
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		b.Fatalf("process %d: %v", pid, err)
	}
	for _, line := range strings.Split(string(status), "\n") {
		if f := strings.Fields(line); len(f) == 3 && f[0] == "VmRSS:" && f[2] == "kB" {
			kb, _ := strconv.ParseFloat(f[1], 64)
			return kb / 1024
		}
	}
	b.Fatalf("no VmRSS in /proc/%d/status", pid)
	return 0
}
