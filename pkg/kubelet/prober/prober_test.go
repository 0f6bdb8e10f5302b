package prober

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	v1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
	clocktesting "k8s.io/utils/clock/testing"

	"github.com/kinc-dev/kinc/pkg/kubelet/cri"
)

type fixture struct {
	t      *testing.T
	clock  *clocktesting.FakeClock
	rt     *cri.Fake
	m      *Manager
	mu     sync.Mutex
	killed []string
	target Target
}

func newFixture(t *testing.T, c *v1.Container) *fixture {
	t.Helper()
	f := &fixture{t: t, clock: clocktesting.NewFakeClock(time.Now()), rt: cri.NewFake("img")}
	ctx := context.Background()
	sb, _ := f.rt.RunPodSandbox(ctx, &runtimeapi.PodSandboxConfig{Metadata: &runtimeapi.PodSandboxMetadata{Name: "p"}})
	c.Image = "img"
	id, _ := f.rt.CreateContainer(ctx, sb, &runtimeapi.ContainerConfig{Metadata: &runtimeapi.ContainerMetadata{Name: c.Name},
		Image: &runtimeapi.ImageSpec{Image: "img"}}, nil)
	_ = f.rt.StartContainer(ctx, id)
	pod := &v1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "p", Namespace: "default", UID: "uid"}, Spec: v1.PodSpec{Containers: []v1.Container{*c}}}
	f.target = Target{Pod: pod, Container: &pod.Spec.Containers[0], ContainerID: id, StartedAt: f.clock.Now(), PodIP: "127.0.0.1"}
	f.m = NewManager(f.rt, f.clock, func(_ context.Context, t Target, reason string) {
		f.mu.Lock()
		f.killed = append(f.killed, t.ContainerID+": "+reason)
		f.mu.Unlock()
	}, nil, slog.New(slog.NewTextHandler(io.Discard, nil)))
	return f
}

// tick advances the clock, starts due probes and waits for them to finish.
func (f *fixture) tick(d time.Duration) {
	f.clock.Step(d)
	f.m.Update(context.Background(), "uid", []Target{f.target})
	deadline := time.Now().Add(5 * time.Second)
	for {
		f.m.mu.Lock()
		busy := false
		for _, st := range f.m.states["uid"] {
			busy = busy || st.inFlight
		}
		f.m.mu.Unlock()
		if !busy {
			return
		}
		if time.Now().After(deadline) {
			f.t.Fatal("probe did not finish")
		}
		time.Sleep(time.Millisecond)
	}
}

func (f *fixture) kills() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.killed...)
}

func (f *fixture) ready() bool {
	return f.m.Ready("uid", f.target.ContainerID, f.target.Container)
}

func TestReadinessHTTP(t *testing.T) {
	t.Parallel()
	var healthy sync.Map
	healthy.Store("ok", false)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if ok, _ := healthy.Load("ok"); ok.(bool) && r.URL.Path == "/ready" && r.Header.Get("X-Probe") == "yes" {
			return
		}
		w.WriteHeader(http.StatusServiceUnavailable)
	}))
	defer srv.Close()
	_, portStr, _ := net.SplitHostPort(srv.Listener.Addr().String())
	port, _ := strconv.Atoi(portStr)
	f := newFixture(t, &v1.Container{Name: "web", Ports: []v1.ContainerPort{{Name: "http", ContainerPort: int32(port)}},
		ReadinessProbe: &v1.Probe{ProbeHandler: v1.ProbeHandler{HTTPGet: &v1.HTTPGetAction{Path: "/ready", Port: intstr.FromString("http"),
			HTTPHeaders: []v1.HTTPHeader{{Name: "X-Probe", Value: "yes"}}}},
			InitialDelaySeconds: 5, PeriodSeconds: 10, FailureThreshold: 3, SuccessThreshold: 1}})
	steps := []struct {
		advance time.Duration
		healthy bool
		ready   bool
	}{
		{0, true, false},                 // initial delay not over
		{5 * time.Second, true, true},    // first probe succeeds
		{5 * time.Second, false, true},   // not due yet (period 10s)
		{5 * time.Second, false, true},   // 1st failure
		{10 * time.Second, false, true},  // 2nd failure
		{10 * time.Second, false, false}, // 3rd failure: not ready
		{10 * time.Second, true, true},
	}
	for i, s := range steps {
		healthy.Store("ok", s.healthy)
		f.tick(s.advance)
		if got := f.ready(); got != s.ready {
			t.Fatalf("step %d: ready = %v, want %v", i, got, s.ready)
		}
	}
	if k := f.kills(); len(k) != 0 {
		t.Errorf("readiness failures killed the container: %v", k)
	}
}

func TestLivenessExecKills(t *testing.T) {
	t.Parallel()
	f := newFixture(t, &v1.Container{Name: "app", LivenessProbe: &v1.Probe{ProbeHandler: v1.ProbeHandler{Exec: &v1.ExecAction{Command: []string{"check"}}},
		PeriodSeconds: 1, FailureThreshold: 2}})
	var exit atomic.Int32
	f.rt.Exec = func(string, []string) *runtimeapi.ExecSyncResponse {
		return &runtimeapi.ExecSyncResponse{ExitCode: exit.Load(), Stdout: []byte("bad")}
	}
	f.tick(0)
	exit.Store(1)
	f.tick(time.Second)
	if len(f.kills()) != 0 {
		t.Fatalf("killed after one failure")
	}
	f.tick(time.Second)
	f.tick(time.Second)
	if k := f.kills(); len(k) != 1 || k[0] != f.target.ContainerID+": failed liveness probe" {
		t.Errorf("killed = %v, want one liveness kill", k)
	}
	if !f.ready() {
		t.Errorf("a container without a readiness probe is ready while running")
	}
}

func TestStartupGatesReadiness(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close() // nothing listens: the startup probe fails
	f := newFixture(t, &v1.Container{Name: "slow",
		StartupProbe:   &v1.Probe{ProbeHandler: v1.ProbeHandler{TCPSocket: &v1.TCPSocketAction{Port: intstr.FromInt32(int32(port))}}, PeriodSeconds: 1, FailureThreshold: 3},
		ReadinessProbe: &v1.Probe{ProbeHandler: v1.ProbeHandler{Exec: &v1.ExecAction{Command: []string{"true"}}}, PeriodSeconds: 1}})
	f.tick(0)
	f.tick(time.Second)
	if f.m.Started("uid", f.target.ContainerID, f.target.Container) || f.ready() {
		t.Fatal("started or ready before the startup probe succeeded")
	}
	ln, err = net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(port))
	if err != nil {
		t.Skipf("port reuse: %v", err)
	}
	defer ln.Close()
	f.tick(time.Second) // startup succeeds
	f.tick(time.Second) // readiness runs now
	if !f.m.Started("uid", f.target.ContainerID, f.target.Container) || !f.ready() {
		t.Errorf("started %v ready %v, want both", f.m.Started("uid", f.target.ContainerID, f.target.Container), f.ready())
	}
	if k := f.kills(); len(k) != 0 {
		t.Errorf("killed: %v", k)
	}
}
