// Package integration holds what the controllers' *_integration_test.go
// share: a real kube-apiserver on etcd (pkg/apiserver/apiservertest) and
// its admin clientset, Namespaces and Nodes to start from, controllers run
// on an informer factory started and synced, and the test playing the
// kubelet through the pods' status subresource.
//
//	inst, client := integration.Start(t)
//	ctx := t.Context()
//	integration.CreateNodes(ctx, t, client, "node-1")
//	factory := informers.NewSharedInformerFactory(client, 0)
//	c := mycontroller.New(client, factory.Core().V1().Pods(), mycontroller.Options{Logger: integration.Logger(t)})
//	integration.Run(ctx, t, factory, func(ctx context.Context) error { return c.Run(ctx, 1) })
package integration

import (
	"context"
	"log/slog"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"

	"github.com/kinc-dev/kinc/pkg/apiserver/apiservertest"
)

// Start skips t under -short; otherwise it starts kube-apiserver on an
// in-process etcd (apiservertest.Start, no extra flags), stopped at t's
// cleanup, and returns it with a clientset on its admin credentials.
func Start(t *testing.T) (*apiservertest.Instance, kubernetes.Interface) {
	t.Helper()
	if testing.Short() {
		t.Skip("integration test: starts etcd and kube-apiserver")
	}
	inst := apiservertest.Start(t, apiservertest.Options{})
	return inst, inst.Client(t)
}

// Logger returns a text logger at level Info writing to t's output.
func Logger(t testing.TB) *slog.Logger {
	return slog.New(slog.NewTextHandler(t.Output(), nil))
}

// CreateNamespace creates the Namespace name; t fails on an error.
func CreateNamespace(ctx context.Context, t testing.TB, client kubernetes.Interface, name string) {
	t.Helper()
	if _, err := client.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
}

// CreateNodes creates a Node of each name, with nothing but its name (no
// kubelet reports: admission may add its not-ready taint); t fails on an
// error.
func CreateNodes(ctx context.Context, t testing.TB, client kubernetes.Interface, names ...string) {
	t.Helper()
	for _, name := range names {
		if _, err := client.CoreV1().Nodes().Create(ctx, &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: name}}, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
}

// Run starts factory on a context derived from ctx, waits until the caches
// of the informers asked for so far have synced (t fails if they cannot),
// and calls each run (a controller's Run with its worker count) in its own
// goroutine. The returned stop cancels that context, waits for every run
// to return, reports an error one returned with t.Errorf, and shuts the
// factory down; it may be called more than once and is called at t's
// cleanup.
func Run(ctx context.Context, t testing.TB, factory informers.SharedInformerFactory, runs ...func(context.Context) error) (stop func()) {
	t.Helper()
	runCtx, cancel := context.WithCancel(ctx)
	factory.Start(runCtx.Done())
	for typ, ok := range factory.WaitForCacheSync(runCtx.Done()) {
		if !ok {
			cancel()
			factory.Shutdown()
			t.Fatalf("informer cache of %v not synced", typ)
		}
	}
	done := make(chan error, len(runs))
	for _, run := range runs {
		go func() { done <- run(runCtx) }()
	}
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			for range runs {
				if err := <-done; err != nil {
					t.Errorf("Run: %v", err)
				}
			}
			factory.Shutdown()
		})
	}
	t.Cleanup(stop)
	return stop
}

// MarkRunning does for pod what its kubelet would through the status
// subresource: phase Running, the Ready condition ready (True or False, a
// new transition time) as the only condition, and, when ip is not empty,
// status.podIP and podIPs ip. It returns the updated pod; t fails on an
// error.
func MarkRunning(ctx context.Context, t testing.TB, client kubernetes.Interface, pod *corev1.Pod, ip string, ready bool) *corev1.Pod {
	t.Helper()
	p := pod.DeepCopy()
	p.Status.Phase = corev1.PodRunning
	if ip != "" {
		p.Status.PodIP, p.Status.PodIPs = ip, []corev1.PodIP{{IP: ip}}
	}
	status := corev1.ConditionFalse
	if ready {
		status = corev1.ConditionTrue
	}
	p.Status.Conditions = []corev1.PodCondition{{Type: corev1.PodReady, Status: status, LastTransitionTime: metav1.Now()}}
	p, err := client.CoreV1().Pods(p.Namespace).UpdateStatus(ctx, p, metav1.UpdateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// WaitFor polls cond every 100 ms, at once first, until it holds; t fails
// ("timed out waiting for what") when it has not within timeout or ctx
// ends.
func WaitFor(ctx context.Context, t testing.TB, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	if err := wait.PollUntilContextTimeout(ctx, 100*time.Millisecond, timeout, true, func(context.Context) (bool, error) {
		return cond(), nil
	}); err != nil {
		t.Fatalf("timed out waiting for %s", what)
	}
}
