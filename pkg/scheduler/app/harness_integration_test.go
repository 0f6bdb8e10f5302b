package app_test

import (
	"context"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	v1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/kubernetes"

	"github.com/kinc-dev/kinc/pkg/apiserver/apiservertest"
	"github.com/kinc-dev/kinc/pkg/scheduler/app"
)

// harness is a real kube-apiserver (over an in-process etcd) with an
// admin client; schedulers run in-process against it.
type harness struct {
	t      *testing.T
	inst   *apiservertest.Instance
	client kubernetes.Interface
}

func newHarness(t *testing.T) *harness {
	t.Helper()
	if testing.Short() {
		t.Skip("integration test: starts etcd and kube-apiserver")
	}
	inst := apiservertest.Start(t, apiservertest.Options{})
	client, err := kubernetes.NewForConfig(inst.Config)
	if err != nil {
		t.Fatal(err)
	}
	return &harness{t: t, inst: inst, client: client}
}

// schedulerProc is one in-process kube-scheduler.
type schedulerProc struct {
	cancel context.CancelFunc
	done   chan error
	once   sync.Once
	err    error
}

// stop stops the scheduler and waits for Run to return.
func (s *schedulerProc) stop() error {
	s.once.Do(func() {
		s.cancel()
		select {
		case s.err = <-s.done:
		case <-time.After(30 * time.Second):
			s.err = errors.New("scheduler did not stop within 30s")
		}
	})
	return s.err
}

// startScheduler runs app.Run with the admin kubeconfig, no leader
// election and no serving port unless modify says otherwise.
func (h *harness) startScheduler(modify func(*app.Options)) *schedulerProc {
	h.t.Helper()
	o := app.NewOptions()
	o.Kubeconfig = h.inst.Kubeconfig
	o.ClientCAFile = filepath.Join(h.inst.Dir, "ca.crt")
	o.LeaderElect = false
	o.SecurePort = 0
	o.KubeAPIQPS, o.KubeAPIBurst = 1000, 2000
	if modify != nil {
		modify(o)
	}
	ctx, cancel := context.WithCancel(context.Background())
	s := &schedulerProc{cancel: cancel, done: make(chan error, 1)}
	level := slog.LevelWarn
	if os.Getenv("KINC_TEST_SCHEDULER_LOG") != "" {
		level = slog.LevelDebug
	}
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))
	go func() { s.done <- app.Run(ctx, o, logger) }()
	h.t.Cleanup(func() { _ = s.stop() })
	return s
}

func (h *harness) createNode(n *v1.Node) {
	h.t.Helper()
	n = n.DeepCopy()
	n.UID = ""
	if _, err := h.client.CoreV1().Nodes().Create(context.Background(), n, metav1.CreateOptions{}); err != nil {
		h.t.Fatalf("creating node %s: %v", n.Name, err)
	}
}

func (h *harness) createPod(p *v1.Pod) *v1.Pod {
	h.t.Helper()
	p = p.DeepCopy()
	p.UID = ""
	created, err := h.client.CoreV1().Pods(p.Namespace).Create(context.Background(), p, metav1.CreateOptions{})
	if err != nil {
		h.t.Fatalf("creating pod %s: %v", p.Name, err)
	}
	return created
}

// waitBound waits until the pod has a node and returns it.
func (h *harness) waitBound(ns, name string, timeout time.Duration) string {
	h.t.Helper()
	var node string
	err := wait.PollUntilContextTimeout(context.Background(), 50*time.Millisecond, timeout, true, func(ctx context.Context) (bool, error) {
		p, err := h.client.CoreV1().Pods(ns).Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			return false, err
		}
		node = p.Spec.NodeName
		return node != "", nil
	})
	if err != nil {
		h.t.Fatalf("pod %s/%s not bound within %v: %v", ns, name, timeout, err)
	}
	return node
}

// nodeOf returns the pod's node ("" when unbound).
func (h *harness) nodeOf(ns, name string) string {
	h.t.Helper()
	p, err := h.client.CoreV1().Pods(ns).Get(context.Background(), name, metav1.GetOptions{})
	if err != nil {
		h.t.Fatal(err)
	}
	return p.Spec.NodeName
}

// waitEvent waits for an event with reason about the pod and returns it.
func (h *harness) waitEvent(ns, pod, reason string, timeout time.Duration) v1.Event {
	h.t.Helper()
	var found v1.Event
	sel := fields.Set{"involvedObject.name": pod, "reason": reason}.AsSelector().String()
	err := wait.PollUntilContextTimeout(context.Background(), 100*time.Millisecond, timeout, true, func(ctx context.Context) (bool, error) {
		list, err := h.client.CoreV1().Events(ns).List(ctx, metav1.ListOptions{FieldSelector: sel})
		if err != nil {
			// Field selectors on events may be unsupported: filter here.
			list, err = h.client.CoreV1().Events(ns).List(ctx, metav1.ListOptions{})
			if err != nil {
				return false, err
			}
		}
		for _, e := range list.Items {
			if e.InvolvedObject.Name == pod && e.Reason == reason {
				found = e
				return true, nil
			}
		}
		return false, nil
	})
	if err != nil {
		h.t.Fatalf("no %s event for %s/%s within %v: %v", reason, ns, pod, timeout, err)
	}
	return found
}

func mustEqual[T comparable](t *testing.T, what string, got, want T) {
	t.Helper()
	if got != want {
		t.Errorf("%s = %v, want %v", what, got, want)
	}
}
