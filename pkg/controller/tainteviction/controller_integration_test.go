package tainteviction_test

import (
	"context"
	"slices"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/kubernetes/scheme"
	typedcorev1 "k8s.io/client-go/kubernetes/typed/core/v1"
	"k8s.io/client-go/tools/record"
	"k8s.io/utils/ptr"

	"github.com/kinc-dev/kinc/pkg/controller/controllertest/integration"
	"github.com/kinc-dev/kinc/pkg/controller/tainteviction"
)

const taintKey = "example.com/maintenance"

// TestIntegrationTaintEviction runs the controller against a real
// kube-apiserver on etcd: a NoExecute taint on a node evicts at once the
// pod that does not tolerate it (DisruptionTarget, TaintManagerEviction
// event), after ~5 s the one tolerating it for 5 s, and never the one
// tolerating it forever; on a second node, the taint removed after 2 s
// cancels the eviction of a pod tolerating it for 5 s.
func TestIntegrationTaintEviction(t *testing.T) {
	_, client := integration.Start(t)
	ctx := t.Context()

	integration.CreateNodes(ctx, t, client, "drained", "spared")
	createPod(ctx, t, client, "bare", "drained", nil)
	createPod(ctx, t, client, "five", "drained", ptr.To[int64](5))
	createPod(ctx, t, client, "forever", "drained", nil, corev1.Toleration{Key: taintKey, Operator: corev1.TolerationOpExists})
	createPod(ctx, t, client, "lucky", "spared", ptr.To[int64](5))

	broadcaster := record.NewBroadcaster()
	broadcaster.StartRecordingToSink(&typedcorev1.EventSinkImpl{Interface: client.CoreV1().Events("")})
	t.Cleanup(broadcaster.Shutdown)
	factory := informers.NewSharedInformerFactory(client, 0)
	c, err := tainteviction.New(client, factory.Core().V1().Nodes(), factory.Core().V1().Pods(), tainteviction.Options{
		Logger:   integration.Logger(t),
		Recorder: broadcaster.NewRecorder(scheme.Scheme, corev1.EventSource{Component: tainteviction.Name})})
	if err != nil {
		t.Fatal(err)
	}
	integration.Run(ctx, t, factory, func(ctx context.Context) error { return c.Run(ctx, 8) })
	time.Sleep(time.Second) // caches synced; nothing tainted: nothing happens
	for _, p := range []string{"bare", "five", "forever", "lucky"} {
		if evicted(ctx, t, client, p) {
			t.Fatalf("%s evicted from an untainted node", p)
		}
	}

	tainted := time.Now()
	for _, n := range []string{"drained", "spared"} {
		setTaints(ctx, t, client, n, []corev1.Taint{{Key: taintKey, Effect: corev1.TaintEffectNoExecute}})
	}
	integration.WaitFor(ctx, t, 5*time.Second, "bare evicted", func() bool { return evicted(ctx, t, client, "bare") })
	if d := time.Since(tainted); d > 3*time.Second {
		t.Errorf("bare evicted after %s, want at once", d)
	}
	p, err := client.CoreV1().Pods("default").Get(ctx, "bare", metav1.GetOptions{})
	if err == nil && !slices.ContainsFunc(p.Status.Conditions, func(c corev1.PodCondition) bool {
		return c.Type == corev1.DisruptionTarget && c.Status == corev1.ConditionTrue && c.Reason == "DeletionByTaintManager"
	}) {
		t.Errorf("bare's conditions %+v lack DisruptionTarget", p.Status.Conditions)
	}
	time.Sleep(2 * time.Second)
	setTaints(ctx, t, client, "spared", nil)
	integration.WaitFor(ctx, t, 10*time.Second, "five evicted", func() bool { return evicted(ctx, t, client, "five") })
	if d := time.Since(tainted); d < 4*time.Second || d > 8*time.Second {
		t.Errorf("five evicted %s after the taint, want ~5s", d)
	}
	time.Sleep(3 * time.Second)
	for _, p := range []string{"forever", "lucky"} {
		if evicted(ctx, t, client, p) {
			t.Errorf("%s evicted", p)
		}
	}
	integration.WaitFor(ctx, t, 5*time.Second, "events", func() bool {
		list, err := client.CoreV1().Events("default").List(ctx, metav1.ListOptions{})
		if err != nil {
			t.Fatal(err)
		}
		want := map[string]bool{"Marking for deletion Pod default/bare": false, "Marking for deletion Pod default/five": false,
			"Cancelling deletion of Pod default/lucky": false}
		for _, e := range list.Items {
			if _, ok := want[e.Message]; ok && e.Reason == "TaintManagerEviction" && e.Source.Component == tainteviction.Name {
				want[e.Message] = true
			}
		}
		return !slices.Contains(mapValues(want), false)
	})
}

func mapValues(m map[string]bool) []bool {
	var out []bool
	for _, v := range m {
		out = append(out, v)
	}
	return out
}

// createPod creates a pod bound to node; tolerationSeconds, when set,
// gives it a toleration of the taint for that long.
func createPod(ctx context.Context, t *testing.T, client kubernetes.Interface, name, node string, tolerationSeconds *int64, tolerations ...corev1.Toleration) {
	t.Helper()
	if tolerationSeconds != nil {
		tolerations = append(tolerations, corev1.Toleration{Key: taintKey, Operator: corev1.TolerationOpExists,
			Effect: corev1.TaintEffectNoExecute, TolerationSeconds: tolerationSeconds})
	}
	p := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: name},
		Spec: corev1.PodSpec{NodeName: node, Tolerations: tolerations, Containers: []corev1.Container{{Name: "main", Image: "busybox"}}}}
	if _, err := client.CoreV1().Pods("default").Create(ctx, p, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
}

func setTaints(ctx context.Context, t *testing.T, client kubernetes.Interface, node string, taints []corev1.Taint) {
	t.Helper()
	for {
		n, err := client.CoreV1().Nodes().Get(ctx, node, metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		n.Spec.Taints = taints
		_, err = client.CoreV1().Nodes().Update(ctx, n, metav1.UpdateOptions{})
		if err == nil {
			return
		}
		if !apierrors.IsConflict(err) {
			t.Fatal(err)
		}
	}
}

// evicted reports whether the pod is gone or being deleted (no kubelet
// finishes a graceful deletion here).
func evicted(ctx context.Context, t *testing.T, client kubernetes.Interface, name string) bool {
	t.Helper()
	p, err := client.CoreV1().Pods("default").Get(ctx, name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return true
	}
	if err != nil {
		t.Fatal(err)
	}
	return p.DeletionTimestamp != nil
}
