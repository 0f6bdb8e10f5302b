package nodeipam

import (
	"context"
	"log/slog"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/kubernetes/scheme"
	typedcorev1 "k8s.io/client-go/kubernetes/typed/core/v1"
	"k8s.io/client-go/tools/record"

	"github.com/kinc-dev/kinc/pkg/apiserver/apiservertest"
)

// runController starts a controller with its own informers and Workers
// workers; the returned stop ends it and waits for it.
func runController(t *testing.T, client kubernetes.Interface, opts Options) (*Controller, func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	broadcaster := record.NewBroadcaster()
	broadcaster.StartRecordingToSink(&typedcorev1.EventSinkImpl{Interface: client.CoreV1().Events("")})
	factory := informers.NewSharedInformerFactory(client, 0)
	opts.Recorder = broadcaster.NewRecorder(scheme.Scheme, corev1.EventSource{Component: EventComponent})
	opts.Logger = slog.New(slog.NewTextHandler(t.Output(), nil))
	c, err := New(client, factory.Core().V1().Nodes(), opts)
	if err != nil {
		t.Fatal(err)
	}
	factory.Start(ctx.Done())
	done := make(chan error, 1)
	go func() { done <- c.Run(ctx, Workers) }()
	stopped := false
	stop := func() {
		if stopped {
			return
		}
		stopped = true
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
		factory.Shutdown()
		broadcaster.Shutdown()
	}
	t.Cleanup(stop)
	return c, stop
}

func createNode(ctx context.Context, t *testing.T, client kubernetes.Interface, name string, cidrs ...string) {
	t.Helper()
	if _, err := client.CoreV1().Nodes().Create(ctx, node(name, cidrs...), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
}

// waitCIDR waits for the Node's range and checks it is want.
func waitCIDR(ctx context.Context, t *testing.T, client kubernetes.Interface, name, want string) {
	t.Helper()
	var got *corev1.Node
	if err := wait.PollUntilContextTimeout(ctx, 20*time.Millisecond, 20*time.Second, true, func(ctx context.Context) (bool, error) {
		n, err := client.CoreV1().Nodes().Get(ctx, name, metav1.GetOptions{})
		got = n
		return err == nil && n.Spec.PodCIDR != "", nil
	}); err != nil {
		t.Fatalf("node %s got no pod CIDR (want %s)", name, want)
	}
	if got.Spec.PodCIDR != want || len(got.Spec.PodCIDRs) != 1 || got.Spec.PodCIDRs[0] != want {
		t.Errorf("node %s: podCIDR %q podCIDRs %q, want %s", name, got.Spec.PodCIDR, got.Spec.PodCIDRs, want)
	}
}

// waitEvent waits for an event of reason about the Node.
func waitEvent(ctx context.Context, t *testing.T, client kubernetes.Interface, name, reason string) {
	t.Helper()
	if err := wait.PollUntilContextTimeout(ctx, 50*time.Millisecond, 20*time.Second, true, func(ctx context.Context) (bool, error) {
		evs, err := client.CoreV1().Events("default").List(ctx, metav1.ListOptions{})
		if err != nil {
			return false, nil
		}
		for _, e := range evs.Items {
			if e.InvolvedObject.Kind == "Node" && e.InvolvedObject.Name == name && e.Reason == reason && e.Source.Component == EventComponent {
				return true, nil
			}
		}
		return false, nil
	}); err != nil {
		t.Errorf("no %s event for node %s", reason, name)
	}
}

// TestIntegrationNodeIPAM runs the controller against a real kube-apiserver
// on etcd with 30 workers: Nodes created one after the other get the /24s
// in order; a deleted Node's range goes to the next Node; a range outside
// the cluster CIDR is reported, not counted; a full range is reported; and
// a restarted controller keeps every assignment, giving a Node created
// while it was down the first free range.
func TestIntegrationNodeIPAM(t *testing.T) {
	if testing.Short() {
		t.Skip("integration test: starts etcd and kube-apiserver")
	}
	inst := apiservertest.Start(t, apiservertest.Options{})
	client := inst.Client(t)
	ctx := context.Background()
	opts := Options{ClusterCIDRs: prefixes("10.244.0.0/22"), ServiceCIDRs: prefixes("10.96.0.0/16")}

	c, stop := runController(t, client, opts)
	for i, name := range []string{"kinc-control-plane", "kinc-worker", "kinc-worker2"} {
		createNode(ctx, t, client, name)
		waitCIDR(ctx, t, client, name, []string{"10.244.0.0/24", "10.244.1.0/24", "10.244.2.0/24"}[i])
	}
	createNode(ctx, t, client, "odd", "192.168.0.0/24")
	waitEvent(ctx, t, client, "odd", ReasonPodCIDROutOfRange)

	// The deleted worker's range is the next one given.
	if err := client.CoreV1().Nodes().Delete(ctx, "kinc-worker", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := wait.PollUntilContextTimeout(ctx, 20*time.Millisecond, 20*time.Second, true, func(context.Context) (bool, error) {
		c.mu.Lock()
		defer c.mu.Unlock()
		_, held := c.owned["kinc-worker"]
		return !held, nil
	}); err != nil {
		t.Fatal("the deleted node's range was not released")
	}
	createNode(ctx, t, client, "kinc-worker3")
	waitCIDR(ctx, t, client, "kinc-worker3", "10.244.1.0/24")

	// Restart: a Node created while the controller is down gets the first
	// free range, none already held.
	stop()
	createNode(ctx, t, client, "kinc-worker4")
	runController(t, client, opts)
	waitCIDR(ctx, t, client, "kinc-worker4", "10.244.3.0/24")
	for name, want := range map[string]string{"kinc-control-plane": "10.244.0.0/24", "kinc-worker3": "10.244.1.0/24", "kinc-worker2": "10.244.2.0/24", "odd": "192.168.0.0/24"} {
		waitCIDR(ctx, t, client, name, want)
	}

	// Full: the next Node waits, reported.
	createNode(ctx, t, client, "kinc-worker5")
	waitEvent(ctx, t, client, "kinc-worker5", ReasonCIDRNotAvailable)
	if n, err := client.CoreV1().Nodes().Get(ctx, "kinc-worker5", metav1.GetOptions{}); err != nil || n.Spec.PodCIDR != "" {
		t.Errorf("node past the range: %v, %v", n, err)
	}
	if err := client.CoreV1().Nodes().Delete(ctx, "kinc-worker2", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	waitCIDR(ctx, t, client, "kinc-worker5", "10.244.2.0/24")
}
