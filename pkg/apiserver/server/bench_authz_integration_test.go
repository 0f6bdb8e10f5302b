package server_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/kinc-dev/kinc/internal/benchcmp"
	"github.com/kinc-dev/kinc/pkg/apiserver/admission"
	"github.com/kinc-dev/kinc/pkg/apiserver/apiservertest"
	"github.com/kinc-dev/kinc/pkg/pki"
)

// BenchmarkAPIServerPodCreateSecured: pods created per second through an
// apiserver secured as kubeadm runs it (--authorization-mode=Node,RBAC, the
// default admission chain with ServiceAccount, plus NodeRestriction; the
// client a kubeadm:cluster-admins user bound to cluster-admin by a
// ClusterRoleBinding, so RBAC decides each request), against a second
// apiserver in the same run that checks nothing (AlwaysAllow, every
// admission plugin disabled). Same 16 clients, same pod bodies; the two
// alternate in 10 rounds of 200 creates (ABBA…) so that the machine's noise
// hits both. The secured pods are stored larger: ServiceAccount admission
// adds the projected token volume, as upstream's does.
//
// The summary's ratio is time(secured) ÷ time(open) (lower is better);
// secured-creates-ratio is creates/s(secured) ÷ creates/s(open), the
// measure issue 12 aims at ≥ 0.9; median-round-creates-ratio is the same
// per round, the median of 10 (steadier on a loaded machine), and
// secured-cpu-ms/create and open-cpu-ms/create the CPU time each apiserver
// process used per create.
//
// KINC_BENCH_CPUPROFILE=file also writes CPU profiles (/debug/pprof/profile,
// 15s) of the secured apiserver to file and of the open one to file.open,
// each taken while it creates more pods after the measured rounds; the log
// says how many, to compare per create.
func BenchmarkAPIServerPodCreateSecured(b *testing.B) {
	secured, securedCS := startSecured(b)
	open := apiservertest.Start(b, apiservertest.Options{ExtraFlags: []string{
		"--authorization-mode=AlwaysAllow",
		"--disable-admission-plugins=" + strings.Join(admission.DefaultOnPlugins(), ","),
	}})
	openCS := clientset(b, open.Config)
	createNamespace(b, openCS, benchNamespace)

	// Warm up connections and caches on both.
	createPods(b, securedCS, 0, 100)
	createPods(b, openCS, 0, 100)
	stored := func(inst *apiservertest.Instance) float64 { return float64(len(storedPod(b, inst, "p-000000"))) }

	const rounds = 10
	const perRound = benchBatch / rounds
	next := 100
	var securedTime, openTime time.Duration
	var perRoundRatios []float64
	securedCPU, openCPU := cpuTime(b, secured.Pid()), cpuTime(b, open.Pid())
	for b.Loop() {
		for r := range rounds {
			var s, o time.Duration
			if r%2 == 0 {
				s = createPods(b, securedCS, next, perRound)
				o = createPods(b, openCS, next, perRound)
			} else {
				o = createPods(b, openCS, next, perRound)
				s = createPods(b, securedCS, next, perRound)
			}
			next += perRound
			securedTime += s
			openTime += o
			perRoundRatios = append(perRoundRatios, o.Seconds()/s.Seconds())
		}
	}
	securedCPU, openCPU = cpuTime(b, secured.Pid())-securedCPU, cpuTime(b, open.Pid())-openCPU
	n := float64(next - 100)
	securedRate, openRate := n/securedTime.Seconds(), n/openTime.Seconds()
	benchcmp.Times(b, securedTime, openTime)
	b.ReportMetric(securedRate, "secured-pod-creates/s")
	b.ReportMetric(openRate, "open-pod-creates/s")
	b.ReportMetric(securedRate/openRate, "secured-creates-ratio")
	// CPU each apiserver process spent per create: less sensitive to the
	// machine's load than the rates.
	b.ReportMetric(ms(securedCPU)/n, "secured-cpu-ms/create")
	b.ReportMetric(ms(openCPU)/n, "open-cpu-ms/create")
	slices.Sort(perRoundRatios)
	b.ReportMetric(perRoundRatios[len(perRoundRatios)/2], "median-round-creates-ratio")
	b.ReportMetric(perRoundRatios[0], "worst-round-creates-ratio")
	b.ReportMetric(stored(secured), "secured-stored-bytes/pod")
	b.ReportMetric(stored(open), "open-stored-bytes/pod")

	if path := os.Getenv("KINC_BENCH_CPUPROFILE"); path != "" {
		var created atomic.Int64
		profileWhile(b, secured, path, 15*time.Second, loadPods(securedCS, next, &created))
		b.Logf("the secured apiserver created %d pods while profiled", created.Swap(0))
		profileWhile(b, open, path+".open", 15*time.Second, loadPods(openCS, next, &created))
		b.Logf("the open apiserver created %d pods while profiled", created.Load())
	}
}

// loadPods returns a load for profileWhile: 16 clients creating pods
// p-<from>… until ctx ends, counting successes in created, errors ignored.
func loadPods(cs kubernetes.Interface, from int, created *atomic.Int64) func(ctx context.Context) {
	return func(ctx context.Context) {
		var wg sync.WaitGroup
		var i atomic.Int64
		i.Store(int64(from))
		for range benchClients {
			wg.Go(func() {
				for ctx.Err() == nil {
					name := fmt.Sprintf("p-%06d", i.Add(1))
					if _, err := cs.CoreV1().Pods(benchNamespace).Create(ctx, benchPod(name), metav1.CreateOptions{}); err == nil {
						created.Add(1)
					}
				}
			})
		}
		wg.Wait()
	}
}

// cpuTime returns the user and system CPU time process pid has used
// (/proc/<pid>/stat, in clock ticks of 10ms).
func cpuTime(b *testing.B, pid int) time.Duration {
	b.Helper()
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		b.Fatal(err)
	}
	// The fields after the command name, which is in parentheses.
	fields := strings.Fields(string(data[strings.LastIndexByte(string(data), ')')+1:]))
	if len(fields) < 13 {
		b.Fatalf("short /proc/%d/stat: %q", pid, data)
	}
	var ticks int64
	for _, f := range fields[11:13] { // utime, stime (fields 14 and 15)
		t, err := strconv.ParseInt(f, 10, 64)
		if err != nil {
			b.Fatalf("/proc/%d/stat: %v", pid, err)
		}
		ticks += t
	}
	return time.Duration(ticks) * 10 * time.Millisecond
}

// startSecured starts an apiserver on Node,RBAC with the default admission
// chain, ServiceAccount and NodeRestriction, creates the bench namespace,
// its default ServiceAccount and kubeadm's kubeadm:cluster-admins
// ClusterRoleBinding, and returns it with a clientset of a user in that
// group (not system:masters, so that RBAC evaluates every request).
func startSecured(b *testing.B) (*apiservertest.Instance, *kubernetes.Clientset) {
	b.Helper()
	inst := apiservertest.Start(b, apiservertest.Options{ServiceAccountAdmission: true, ExtraFlags: []string{
		"--authorization-mode=Node,RBAC",
		"--enable-admission-plugins=NodeRestriction",
	}})
	admin := clientset(b, inst.Config)
	ctx := testCtx(b, time.Minute)
	createNamespace(b, admin, benchNamespace)
	if _, err := admin.CoreV1().ServiceAccounts(benchNamespace).Create(ctx,
		&corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: "default"}}, metav1.CreateOptions{}); err != nil {
		b.Fatal(err)
	}
	const group = "kubeadm:cluster-admins"
	if _, err := admin.RbacV1().ClusterRoleBindings().Create(ctx, &rbacv1.ClusterRoleBinding{
		ObjectMeta: metav1.ObjectMeta{Name: group},
		RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: "cluster-admin"},
		Subjects:   []rbacv1.Subject{{APIGroup: rbacv1.GroupName, Kind: rbacv1.GroupKind, Name: group}},
	}, metav1.CreateOptions{}); err != nil {
		b.Fatal(err)
	}
	kp, err := inst.CA.Issue(pki.ClientSpec("kubernetes-admin", group))
	if err != nil {
		b.Fatal(err)
	}
	cfg := rest.CopyConfig(inst.Config)
	cfg.CertData, cfg.KeyData = kp.CertPEM, kp.KeyPEM
	cs := clientset(b, cfg)
	// RBAC reads the binding from a watch: wait until it allows creates.
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		_, err := cs.CoreV1().Pods(benchNamespace).List(ctx, metav1.ListOptions{Limit: 1})
		if err == nil {
			break
		}
		if time.Now().After(deadline) {
			b.Fatalf("the kubeadm:cluster-admins user cannot list pods: %v", err)
		}
	}
	return inst, cs
}

// profileWhile writes to path a CPU profile of inst (its
// /debug/pprof/profile, read with the admin's credentials) of d, running
// load until the profile is taken (load must not fail b: it runs on
// another goroutine).
func profileWhile(b *testing.B, inst *apiservertest.Instance, path string, d time.Duration, load func(ctx context.Context)) {
	b.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); load(ctx) }()
	defer func() { cancel(); <-done }()
	client := adminHTTPClient(b, inst)
	client.Timeout = d + 30*time.Second
	resp, err := client.Get(fmt.Sprintf("%s/debug/pprof/profile?seconds=%d", inst.URL, int(d.Seconds())))
	if err != nil {
		b.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		b.Fatalf("CPU profile: %v %d %s", err, resp.StatusCode, body)
	}
	if err := os.WriteFile(path, body, 0o600); err != nil {
		b.Fatal(err)
	}
	b.Logf("CPU profile of the secured apiserver in %s", path)
}
