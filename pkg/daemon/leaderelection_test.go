package daemon

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"
)

func testElection(client *fake.Clientset, id string, onLeading func(bool)) LeaderElection {
	return LeaderElection{Client: client, Namespace: "kube-system", Name: "kube-thing", Identity: id,
		LeaseDuration: time.Second, RenewDeadline: 500 * time.Millisecond, RetryPeriod: 50 * time.Millisecond,
		OnLeading: onLeading, Logger: slog.New(slog.DiscardHandler)}
}

func holder(t *testing.T, client *fake.Clientset) string {
	t.Helper()
	l, err := client.CoordinationV1().Leases("kube-system").Get(context.Background(), "kube-thing", metav1.GetOptions{})
	if err != nil || l.Spec.HolderIdentity == nil {
		return ""
	}
	return *l.Spec.HolderIdentity
}

func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestLeaderElectionHandOver: one of two candidates leads; when it stops,
// it releases the lease only after its work returned, and the other takes
// over.
func TestLeaderElectionHandOver(t *testing.T) {
	t.Parallel()
	client := fake.NewClientset()
	var mu sync.Mutex
	var events []string
	record := func(s string) { mu.Lock(); events = append(events, s); mu.Unlock() }
	var aLeading atomic.Bool
	ctxA, stopA := context.WithCancel(context.Background())
	doneA := make(chan error, 1)
	go func() {
		doneA <- testElection(client, "a", aLeading.Store).Run(ctxA, func(ctx context.Context) {
			record("a leads")
			<-ctx.Done()
			time.Sleep(300 * time.Millisecond) // work finishing after the stop
			if h := holder(t, client); h != "a" {
				record("a released before its work returned: holder " + h)
			}
			record("a done")
		})
	}()
	eventually(t, "a to lead", aLeading.Load)

	ctxB, stopB := context.WithCancel(context.Background())
	defer stopB()
	var bLeads atomic.Bool
	doneB := make(chan error, 1)
	go func() {
		doneB <- testElection(client, "b", nil).Run(ctxB, func(ctx context.Context) {
			record("b leads")
			bLeads.Store(true)
			<-ctx.Done()
		})
	}()
	time.Sleep(300 * time.Millisecond)
	if bLeads.Load() {
		t.Fatal("both lead")
	}
	stopA()
	if err := <-doneA; err != nil {
		t.Errorf("a: %v", err)
	}
	if aLeading.Load() {
		t.Error("OnLeading(false) not called")
	}
	eventually(t, "b to lead", bLeads.Load)
	stopB()
	if err := <-doneB; err != nil {
		t.Errorf("b: %v", err)
	}
	mu.Lock()
	defer mu.Unlock()
	want := []string{"a leads", "a done", "b leads"}
	if len(events) != len(want) {
		t.Fatalf("events %q, want %q", events, want)
	}
	for i := range want {
		if events[i] != want[i] {
			t.Fatalf("events %q, want %q", events, want)
		}
	}
	if h := holder(t, client); h != "" {
		t.Errorf("lease still held by %q after both stopped", h)
	}
}

// TestLeaderElectionLost: renewals that fail past the renew deadline
// cancel the work and return ErrLeadershipLost.
func TestLeaderElectionLost(t *testing.T) {
	t.Parallel()
	client := fake.NewClientset()
	var failing atomic.Bool
	client.PrependReactor("update", "leases", func(k8stesting.Action) (bool, runtime.Object, error) {
		if failing.Load() {
			return true, nil, errors.New("apiserver unreachable")
		}
		return false, nil, nil
	})
	leading := make(chan struct{})
	var stoppedWork atomic.Bool
	done := make(chan error, 1)
	go func() {
		done <- testElection(client, "a", nil).Run(context.Background(), func(ctx context.Context) {
			close(leading)
			<-ctx.Done()
			time.Sleep(100 * time.Millisecond)
			stoppedWork.Store(true)
		})
	}()
	<-leading
	failing.Store(true)
	select {
	case err := <-done:
		if !errors.Is(err, ErrLeadershipLost) {
			t.Errorf("err %v, want ErrLeadershipLost", err)
		}
		if !stoppedWork.Load() {
			t.Error("Run returned before the work stopped")
		}
	case <-time.After(10 * time.Second):
		t.Fatal("leadership not lost")
	}
}

func TestLeaderElectionOptionsValidate(t *testing.T) {
	t.Parallel()
	good := NewLeaderElectionOptions("kube-controller-manager")
	if err := good.Validate(); err != nil || good.ResourceNamespace != "kube-system" || good.ResourceLock != "leases" {
		t.Errorf("defaults: %v %+v", err, good)
	}
	for name, mutate := range map[string]func(*LeaderElectionOptions){
		"endpoints lock":       func(o *LeaderElectionOptions) { o.ResourceLock = "endpoints" },
		"lease under deadline": func(o *LeaderElectionOptions) { o.LeaseDuration = time.Second },
		"deadline under retry": func(o *LeaderElectionOptions) { o.RenewDeadline = 2 * time.Second },
		"no name":              func(o *LeaderElectionOptions) { o.ResourceName = "" },
		"no retry":             func(o *LeaderElectionOptions) { o.RetryPeriod = 0 },
	} {
		o := NewLeaderElectionOptions("x")
		mutate(&o)
		if o.Validate() == nil {
			t.Errorf("%s accepted", name)
		}
		o.LeaderElect = false
		if err := o.Validate(); err != nil {
			t.Errorf("%s without --leader-elect: %v", name, err)
		}
	}
}
