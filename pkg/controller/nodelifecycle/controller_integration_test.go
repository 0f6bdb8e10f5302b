package nodelifecycle_test

import (
	"context"
	"fmt"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/kubernetes/scheme"
	typedcorev1 "k8s.io/client-go/kubernetes/typed/core/v1"
	"k8s.io/client-go/tools/record"
	"k8s.io/utils/ptr"

	"github.com/kinc-dev/kinc/pkg/apiserver/apiservertest"
	"github.com/kinc-dev/kinc/pkg/controller/controllertest/integration"
	"github.com/kinc-dev/kinc/pkg/controller/nodelifecycle"
	"github.com/kinc-dev/kinc/pkg/controller/tainteviction"
)

// TestIntegrationNodeLifecycle runs the node lifecycle and taint eviction
// controllers against a real kube-apiserver on etcd whose
// DefaultTolerationSeconds gives pods 5 s of unreachable toleration. Two
// nodes' "kubelets" renew their Leases every 500 ms; one stops: after the
// 3 s grace period it is Unknown with the unreachable NoSchedule and
// NoExecute taints, its pod Ready=False and then, ~5 s later, evicted,
// while the other node and its pod are untouched. The kubelet comes back
// (Ready=True, Lease renewed): the taints go.
func TestIntegrationNodeLifecycle(t *testing.T) {
	if testing.Short() {
		t.Skip("integration test: starts etcd and kube-apiserver")
	}
	inst := apiservertest.Start(t, apiservertest.Options{ExtraFlags: []string{"--default-unreachable-toleration-seconds=5"}})
	client := inst.Client(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	logger := integration.Logger(t)

	var silent atomic.Bool
	for _, name := range []string{"worker", "healthy"} {
		createNode(ctx, t, client, name)
		createPod(ctx, t, client, "web-"+name, name)
	}
	kubelets := func(ctx context.Context) {
		for _, name := range []string{"worker", "healthy"} {
			if name == "worker" && silent.Load() {
				continue
			}
			renew(ctx, t, client, name)
		}
	}
	go wait.UntilWithContext(ctx, kubelets, 500*time.Millisecond)

	broadcaster := record.NewBroadcaster()
	broadcaster.StartRecordingToSink(&typedcorev1.EventSinkImpl{Interface: client.CoreV1().Events("")})
	t.Cleanup(broadcaster.Shutdown)
	factory := informers.NewSharedInformerFactory(client, 0)
	opts := nodelifecycle.DefaultOptions()
	opts.NodeMonitorPeriod, opts.NodeMonitorGracePeriod, opts.NodeStartupGracePeriod = 500*time.Millisecond, 3*time.Second, 3*time.Second
	opts.NodeEvictionRate, opts.Logger = 10, logger
	opts.Recorder = broadcaster.NewRecorder(scheme.Scheme, corev1.EventSource{Component: nodelifecycle.EventComponent})
	nlc, err := nodelifecycle.New(client, factory.Coordination().V1().Leases(), factory.Core().V1().Nodes(), factory.Core().V1().Pods(), opts)
	if err != nil {
		t.Fatal(err)
	}
	tec, err := tainteviction.New(client, factory.Core().V1().Nodes(), factory.Core().V1().Pods(), tainteviction.Options{Logger: logger,
		Recorder: broadcaster.NewRecorder(scheme.Scheme, corev1.EventSource{Component: tainteviction.Name})})
	if err != nil {
		t.Fatal(err)
	}
	integration.Run(ctx, t, factory,
		func(ctx context.Context) error { return nlc.Run(ctx, 2) },
		func(ctx context.Context) error { return tec.Run(ctx, 2) })

	// Both healthy for longer than the grace period.
	time.Sleep(4 * time.Second)
	for _, name := range []string{"worker", "healthy"} {
		if n := getNode(ctx, t, client, name); readyStatus(n) != corev1.ConditionTrue || len(n.Spec.Taints) != 0 {
			t.Fatalf("node %s: Ready %s, taints %v while its kubelet is alive", name, readyStatus(n), n.Spec.Taints)
		}
	}

	silent.Store(true)
	stopped := time.Now()
	integration.WaitFor(ctx, t, 20*time.Second, "worker Unknown with both unreachable taints", func() bool {
		n := getNode(ctx, t, client, "worker")
		return readyStatus(n) == corev1.ConditionUnknown &&
			slices.Equal(taintKeys(n), []string{"node.kubernetes.io/unreachable:NoExecute", "node.kubernetes.io/unreachable:NoSchedule"}) ||
			slices.Equal(taintKeys(n), []string{"node.kubernetes.io/unreachable:NoSchedule", "node.kubernetes.io/unreachable:NoExecute"})
	})
	unknownAfter := time.Since(stopped)
	n := getNode(ctx, t, client, "worker")
	for _, c := range n.Status.Conditions {
		if c.Type != corev1.NodeNetworkUnavailable && (c.Status != corev1.ConditionUnknown || c.Reason != "NodeStatusUnknown" || c.Message != "Kubelet stopped posting node status.") {
			t.Errorf("condition %+v, want Unknown NodeStatusUnknown", c)
		}
	}
	if unknownAfter < 2*time.Second {
		t.Errorf("Unknown %s after the last renewal, before the 3s grace period", unknownAfter)
	}
	tainted := time.Now()
	// The pod: Ready=False, then deleted after its 5 s default toleration.
	integration.WaitFor(ctx, t, 10*time.Second, "web-worker Ready=False or gone", func() bool {
		p, err := client.CoreV1().Pods("default").Get(ctx, "web-worker", metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			return true
		}
		for _, c := range p.Status.Conditions {
			if c.Type == corev1.PodReady && c.Status == corev1.ConditionFalse {
				return true
			}
		}
		return false
	})
	// Evicted: deleted gracefully (Terminating: no kubelet will finish
	// it, as upstream), with DisruptionTarget.
	integration.WaitFor(ctx, t, 20*time.Second, "web-worker evicted", func() bool {
		p, err := client.CoreV1().Pods("default").Get(ctx, "web-worker", metav1.GetOptions{})
		return apierrors.IsNotFound(err) || err == nil && p.DeletionTimestamp != nil
	})
	if p, err := client.CoreV1().Pods("default").Get(ctx, "web-worker", metav1.GetOptions{}); err == nil &&
		!slices.ContainsFunc(p.Status.Conditions, func(c corev1.PodCondition) bool {
			return c.Type == corev1.DisruptionTarget && c.Reason == "DeletionByTaintManager"
		}) {
		t.Errorf("evicted pod's conditions %+v lack DisruptionTarget", p.Status.Conditions)
	}
	if d := time.Since(tainted); d < 3*time.Second {
		t.Errorf("pod evicted %s after the taint, before its 5s toleration", d)
	}
	for _, reason := range []string{"NodeNotReady", "TaintManagerEviction"} {
		integration.WaitFor(ctx, t, 10*time.Second, "event "+reason, func() bool { return hasEvent(ctx, t, client, reason) })
	}
	if h := getNode(ctx, t, client, "healthy"); readyStatus(h) != corev1.ConditionTrue || len(h.Spec.Taints) != 0 {
		t.Errorf("healthy node: Ready %s, taints %v", readyStatus(h), h.Spec.Taints)
	}
	if _, err := client.CoreV1().Pods("default").Get(ctx, "web-healthy", metav1.GetOptions{}); err != nil {
		t.Errorf("the healthy node's pod: %v", err)
	}

	// The kubelet is back.
	postReady(ctx, t, client, "worker")
	silent.Store(false)
	integration.WaitFor(ctx, t, 20*time.Second, "worker's taints removed", func() bool {
		n := getNode(ctx, t, client, "worker")
		return readyStatus(n) == corev1.ConditionTrue && len(n.Spec.Taints) == 0
	})
}

func createNode(ctx context.Context, t *testing.T, client kubernetes.Interface, name string) {
	t.Helper()
	n := &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: map[string]string{corev1.LabelOSStable: "linux"}}}
	if _, err := client.CoreV1().Nodes().Create(ctx, n, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	postReady(ctx, t, client, name)
	l := &coordinationv1.Lease{ObjectMeta: metav1.ObjectMeta{Namespace: corev1.NamespaceNodeLease, Name: name},
		Spec: coordinationv1.LeaseSpec{HolderIdentity: ptr.To(name), LeaseDurationSeconds: ptr.To[int32](40),
			RenewTime: &metav1.MicroTime{Time: time.Now()}}}
	if _, err := client.CoordinationV1().Leases(corev1.NamespaceNodeLease).Create(ctx, l, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
}

// postReady posts Ready=True (and no pressure) as a kubelet does.
func postReady(ctx context.Context, t *testing.T, client kubernetes.Interface, name string) {
	t.Helper()
	err := retryConflict(func() error {
		n, err := client.CoreV1().Nodes().Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			return err
		}
		now := metav1.Now()
		n.Status.Conditions = nil
		for _, c := range []struct {
			t corev1.NodeConditionType
			s corev1.ConditionStatus
		}{{corev1.NodeMemoryPressure, corev1.ConditionFalse}, {corev1.NodeDiskPressure, corev1.ConditionFalse},
			{corev1.NodePIDPressure, corev1.ConditionFalse}, {corev1.NodeReady, corev1.ConditionTrue}} {
			n.Status.Conditions = append(n.Status.Conditions, corev1.NodeCondition{Type: c.t, Status: c.s,
				Reason: "Kubelet", LastHeartbeatTime: now, LastTransitionTime: now})
		}
		_, err = client.CoreV1().Nodes().UpdateStatus(ctx, n, metav1.UpdateOptions{})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
}

func renew(ctx context.Context, t *testing.T, client kubernetes.Interface, name string) {
	err := retryConflict(func() error {
		l, err := client.CoordinationV1().Leases(corev1.NamespaceNodeLease).Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			return err
		}
		l.Spec.RenewTime = &metav1.MicroTime{Time: time.Now()}
		_, err = client.CoordinationV1().Leases(corev1.NamespaceNodeLease).Update(ctx, l, metav1.UpdateOptions{})
		return err
	})
	if err != nil && ctx.Err() == nil {
		t.Errorf("renewing the lease of %s: %v", name, err)
	}
}

func retryConflict(fn func() error) error {
	for {
		err := fn()
		if !apierrors.IsConflict(err) {
			return err
		}
	}
}

// createPod creates a running, ready pod bound to node, without
// tolerations of its own.
func createPod(ctx context.Context, t *testing.T, client kubernetes.Interface, name, node string) {
	t.Helper()
	p := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: name},
		Spec: corev1.PodSpec{NodeName: node, Containers: []corev1.Container{{Name: "main", Image: "busybox"}}}}
	p, err := client.CoreV1().Pods("default").Create(ctx, p, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	p.Status.Phase = corev1.PodRunning
	p.Status.Conditions = []corev1.PodCondition{{Type: corev1.PodReady, Status: corev1.ConditionTrue, LastTransitionTime: metav1.Now()}}
	if _, err := client.CoreV1().Pods("default").UpdateStatus(ctx, p, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
}

func getNode(ctx context.Context, t *testing.T, client kubernetes.Interface, name string) *corev1.Node {
	t.Helper()
	n, err := client.CoreV1().Nodes().Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func readyStatus(n *corev1.Node) corev1.ConditionStatus {
	for _, c := range n.Status.Conditions {
		if c.Type == corev1.NodeReady {
			return c.Status
		}
	}
	return ""
}

func taintKeys(n *corev1.Node) []string {
	var out []string
	for _, t := range n.Spec.Taints {
		out = append(out, fmt.Sprintf("%s:%s", t.Key, t.Effect))
	}
	return out
}

func hasEvent(ctx context.Context, t *testing.T, client kubernetes.Interface, reason string) bool {
	t.Helper()
	list, err := client.CoreV1().Events("").List(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range list.Items {
		if e.Reason == reason {
			return true
		}
	}
	return false
}
