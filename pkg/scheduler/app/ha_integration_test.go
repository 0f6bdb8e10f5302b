package app_test

import (
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	v1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/rest"

	"github.com/kinc-dev/kinc/pkg/scheduler/app"
	st "github.com/kinc-dev/kinc/pkg/scheduler/schedulertest"
)

func freePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

var insecure = &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}}

// get fetches url anonymously.
func get(t testing.TB, url string) (int, string) {
	t.Helper()
	return fetch(insecure, url)
}

// get fetches url with the admin's client certificate (system:masters,
// which the scheduler's delegated authorization always allows).
func (h *harness) get(url string) (int, string) {
	h.t.Helper()
	tlsCfg, err := rest.TLSConfigFor(h.inst.Config)
	if err != nil {
		h.t.Fatal(err)
	}
	tlsCfg.InsecureSkipVerify, tlsCfg.RootCAs = true, nil
	return fetch(&http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{TLSClientConfig: tlsCfg}}, url)
}

func fetch(c *http.Client, url string) (int, string) {
	resp, err := c.Get(url)
	if err != nil {
		return 0, err.Error()
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// scheduled reads scheduler_schedule_attempts_total{result="scheduled"}.
func (h *harness) scheduled(port int) int {
	h.t.Helper()
	code, body := h.get(fmt.Sprintf("https://127.0.0.1:%d/metrics", port))
	if code != http.StatusOK {
		h.t.Fatalf("/metrics: %d %s", code, body)
	}
	m := regexp.MustCompile(`scheduler_schedule_attempts_total\{profile="default-scheduler",result="scheduled"\} (\d+)`).FindStringSubmatch(body)
	if m == nil {
		return 0
	}
	n, _ := strconv.Atoi(m[1])
	return n
}

func leaderElected(port int) func(*app.Options) {
	return func(o *app.Options) {
		o.LeaderElect = true
		o.LeaseDuration, o.RenewDeadline, o.RetryPeriod = 8*time.Second, 6*time.Second, 300*time.Millisecond
		o.SecurePort, o.BindAddress = port, "127.0.0.1"
	}
}

func (h *harness) leaseHolder() string {
	l, err := h.client.CoordinationV1().Leases("kube-system").Get(context.Background(), "kube-scheduler", metav1.GetOptions{})
	if err != nil || l.Spec.HolderIdentity == nil {
		return ""
	}
	return *l.Spec.HolderIdentity
}

func TestIntegrationLeaderElection(t *testing.T) {
	h := newHarness(t)
	if _, err := h.client.CoreV1().Namespaces().Create(context.Background(),
		&v1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "kube-system"}}, metav1.CreateOptions{}); err != nil {
		t.Logf("creating kube-system: %v", err)
	}
	h.createNode(st.MakeNode("n").Obj())
	portA, portB := freePort(t), freePort(t)
	a := h.startScheduler(leaderElected(portA))
	if err := wait.PollUntilContextTimeout(context.Background(), 100*time.Millisecond, 20*time.Second, true,
		func(context.Context) (bool, error) { return h.leaseHolder() != "", nil }); err != nil {
		t.Fatal("no leader elected")
	}
	first := h.leaseHolder()
	b := h.startScheduler(leaderElected(portB))
	for i := 0; i < 10; i++ {
		h.createPod(st.MakePod("default", fmt.Sprintf("a-%d", i)).Obj())
	}
	for i := 0; i < 10; i++ {
		h.waitBound("default", fmt.Sprintf("a-%d", i), 10*time.Second)
	}
	if got := h.leaseHolder(); got != first {
		t.Fatalf("lease moved from %s to %s", first, got)
	}
	sa, sb := h.scheduled(portA), h.scheduled(portB)
	if sa != 10 || sb != 0 {
		t.Fatalf("scheduled by A %d, by B %d: want 10 and 0 (only the leader binds)", sa, sb)
	}
	code, body := h.get(fmt.Sprintf("https://127.0.0.1:%d/metrics", portA))
	if code != 200 || !strings.Contains(body, `leader_election_master_status{name="kube-scheduler"} 1`) {
		t.Errorf("A's leader_election_master_status not 1")
	}

	// The leader stops (releasing the lease); the other takes over.
	start := time.Now()
	if err := a.stop(); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 10; i++ {
		h.createPod(st.MakePod("default", fmt.Sprintf("b-%d", i)).Obj())
	}
	for i := 0; i < 10; i++ {
		h.waitBound("default", fmt.Sprintf("b-%d", i), 20*time.Second)
	}
	t.Logf("failover: 10 pods bound %v after the leader stopped", time.Since(start))
	if got := h.leaseHolder(); got == first || got == "" {
		t.Fatalf("lease holder %q after failover", got)
	}
	if sb := h.scheduled(portB); sb != 10 {
		t.Fatalf("scheduled by B %d, want 10", sb)
	}
	_ = b
}

func TestIntegrationRestartPicksUp(t *testing.T) {
	h := newHarness(t)
	for _, n := range []string{"n1", "n2"} {
		h.createNode(st.MakeNode(n).Capacity(map[v1.ResourceName]string{v1.ResourceCPU: "2"}).Obj())
	}
	big := map[v1.ResourceName]string{v1.ResourceCPU: "1500m"}
	s := h.startScheduler(nil)
	h.createPod(st.MakePod("default", "first").Req(big).Obj())
	h.createPod(st.MakePod("default", "second").Req(big).Obj())
	n1, n2 := h.waitBound("default", "first", 10*time.Second), h.waitBound("default", "second", 10*time.Second)
	if n1 == n2 {
		t.Fatalf("both on %s", n1)
	}
	if err := s.stop(); err != nil {
		t.Fatal(err)
	}
	// Created while no scheduler runs: one fits (0.5 cpu), one does not.
	h.createPod(st.MakePod("default", "small").Req(map[v1.ResourceName]string{v1.ResourceCPU: "500m"}).Obj())
	h.createPod(st.MakePod("default", "third").Req(big).Obj())
	time.Sleep(500 * time.Millisecond)
	if h.nodeOf("default", "small") != "" {
		t.Fatal("bound without a scheduler")
	}
	h.startScheduler(nil)
	h.waitBound("default", "small", 10*time.Second)
	ev := h.waitEvent("default", "third", "FailedScheduling", 10*time.Second)
	if !strings.HasPrefix(ev.Message, "0/2 nodes are available: 2 Insufficient cpu.") {
		t.Fatalf("third: %q (the restarted scheduler must count the bound pods)", ev.Message)
	}
	p, err := h.client.CoreV1().Pods("default").Get(context.Background(), "third", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var cond *v1.PodCondition
	for i := range p.Status.Conditions {
		if p.Status.Conditions[i].Type == v1.PodScheduled {
			cond = &p.Status.Conditions[i]
		}
	}
	if cond == nil || cond.Status != v1.ConditionFalse || cond.Reason != v1.PodReasonUnschedulable || cond.Message != ev.Message {
		t.Fatalf("PodScheduled condition %+v", cond)
	}
	// Deleting a pod frees its cpu: the waiting pod is scheduled.
	if err := h.client.CoreV1().Pods("default").Delete(context.Background(), "first", metav1.DeleteOptions{GracePeriodSeconds: new(int64)}); err != nil {
		t.Fatal(err)
	}
	mustEqual(t, "third", h.waitBound("default", "third", 15*time.Second), n1)
}

func TestIntegrationServingAndConfig(t *testing.T) {
	h := newHarness(t)
	h.createNode(st.MakeNode("tainted").Taint("dedicated", "x", v1.TaintEffectNoSchedule).Obj())
	cfg := filepath.Join(t.TempDir(), "config.yaml")
	if err := os.WriteFile(cfg, []byte(`apiVersion: kubescheduler.config.k8s.io/v1
kind: KubeSchedulerConfiguration
leaderElection:
  leaderElect: false
profiles:
- schedulerName: default-scheduler
- schedulerName: ignore-taints
  plugins:
    multiPoint:
      disabled:
      - name: TaintToleration
`), 0o600); err != nil {
		t.Fatal(err)
	}
	port := freePort(t)
	h.startScheduler(func(o *app.Options) {
		o.ConfigFile, o.SecurePort, o.BindAddress = cfg, port, "127.0.0.1"
	})
	base := fmt.Sprintf("https://127.0.0.1:%d", port)
	if err := wait.PollUntilContextTimeout(context.Background(), 100*time.Millisecond, 10*time.Second, true, func(context.Context) (bool, error) {
		code, _ := get(t, base+"/readyz")
		return code == http.StatusOK, nil
	}); err != nil {
		t.Fatal("/readyz never OK")
	}
	for _, p := range []string{"/healthz", "/livez", "/readyz"} {
		if code, body := get(t, base+p); code != 200 || body != "ok" {
			t.Errorf("%s: %d %q", p, code, body)
		}
	}
	if _, body := get(t, base+"/readyz?verbose"); !strings.Contains(body, "[+]sched-handler-sync ok") {
		t.Errorf("/readyz?verbose: %q", body)
	}

	h.createPod(st.MakePod("default", "strict").Obj())
	h.createPod(st.MakePod("default", "lax").SchedulerName("ignore-taints").Obj())
	h.createPod(st.MakePod("default", "nobody").SchedulerName("someone-else").Obj())
	mustEqual(t, "lax", h.waitBound("default", "lax", 10*time.Second), "tainted")
	ev := h.waitEvent("default", "lax", "Scheduled", 10*time.Second)
	mustEqual(t, "event source", ev.Source.Component, "ignore-taints")
	h.waitEvent("default", "strict", "FailedScheduling", 10*time.Second)
	time.Sleep(300 * time.Millisecond)
	if h.nodeOf("default", "nobody") != "" {
		t.Fatal("a pod of another scheduler was bound")
	}
	if code, body := get(t, base+"/metrics"); code != http.StatusForbidden ||
		!strings.Contains(body, `forbidden: User \"system:anonymous\" cannot get path \"/metrics\"`) {
		t.Errorf("anonymous /metrics: %d %s", code, body)
	}
	code, body := h.get(base + "/metrics")
	if code != 200 || !strings.Contains(body, "# TYPE scheduler_schedule_attempts_total counter") ||
		!strings.Contains(body, `scheduler_pending_pods{queue="unschedulable"} 1`) {
		t.Errorf("/metrics: %d\n%s", code, body)
	}
}
