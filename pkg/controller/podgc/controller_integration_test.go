package podgc_test

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

	"github.com/kinc-dev/kinc/pkg/controller/controllertest/integration"
	"github.com/kinc-dev/kinc/pkg/controller/podgc"
)

const hold = "example.com/hold"

// TestIntegrationPodGC runs the controller (a pass every 500 ms, a 1 s
// quarantine, a threshold of 1 terminated pod) against a real
// kube-apiserver on etcd: the pods of a deleted node are marked Failed
// with DisruptionTarget (DeletionByPodGC) and deleted (one kept by a
// finalizer shows it); a pod of a live node stays; of two succeeded pods
// the older is deleted; a terminating unscheduled pod is force-deleted.
func TestIntegrationPodGC(t *testing.T) {
	_, client := integration.Start(t)
	ctx := t.Context()

	integration.CreateNodes(ctx, t, client, "doomed", "alive")
	createPod(ctx, t, client, "orphan", "doomed", corev1.PodRunning)
	createPod(ctx, t, client, "held-orphan", "doomed", corev1.PodRunning, hold)
	createPod(ctx, t, client, "resident", "alive", corev1.PodRunning)
	createPod(ctx, t, client, "done-old", "alive", corev1.PodSucceeded)
	time.Sleep(1100 * time.Millisecond) // creationTimestamp has seconds
	createPod(ctx, t, client, "done-new", "alive", corev1.PodSucceeded)
	createPod(ctx, t, client, "stuck", "", corev1.PodPending, hold)
	if err := client.CoreV1().Pods("default").Delete(ctx, "stuck", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}

	factory := informers.NewSharedInformerFactory(client, 0)
	c := podgc.New(client, factory.Core().V1().Pods(), factory.Core().V1().Nodes(), podgc.Options{
		TerminatedPodGCThreshold: 1, GCCheckPeriod: 500 * time.Millisecond, QuarantineTime: time.Second,
		Logger: integration.Logger(t)})
	integration.Run(ctx, t, factory, func(ctx context.Context) error { return c.Run(ctx, 1) })

	integration.WaitFor(ctx, t, 20*time.Second, "done-old deleted", func() bool { return gone(ctx, t, client, "done-old") })
	integration.WaitFor(ctx, t, 20*time.Second, "stuck force-deleted (Failed, then held by its finalizer)", func() bool {
		p := get(ctx, t, client, "stuck")
		return p != nil && p.Status.Phase == corev1.PodFailed && p.DeletionGracePeriodSeconds != nil && *p.DeletionGracePeriodSeconds == 0
	})
	release(ctx, t, client, "stuck")
	time.Sleep(2 * time.Second) // quarantine and passes: the live node's pods stay
	for _, p := range []string{"resident", "done-new", "orphan", "held-orphan"} {
		if gone(ctx, t, client, p) {
			t.Fatalf("%s deleted", p)
		}
	}

	if err := client.CoreV1().Nodes().Delete(ctx, "doomed", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	deleted := time.Now()
	integration.WaitFor(ctx, t, 20*time.Second, "orphan deleted", func() bool { return gone(ctx, t, client, "orphan") })
	if d := time.Since(deleted); d < 900*time.Millisecond {
		t.Errorf("orphan deleted %s after its node, before the 1s quarantine", d)
	}
	integration.WaitFor(ctx, t, 20*time.Second, "held-orphan marked and deleted", func() bool {
		p := get(ctx, t, client, "held-orphan")
		return p != nil && p.DeletionTimestamp != nil
	})
	p := get(ctx, t, client, "held-orphan")
	if p.Status.Phase != corev1.PodFailed || !slices.ContainsFunc(p.Status.Conditions, func(c corev1.PodCondition) bool {
		return c.Type == corev1.DisruptionTarget && c.Status == corev1.ConditionTrue && c.Reason == "DeletionByPodGC" &&
			c.Message == "PodGC: node no longer exists"
	}) {
		t.Errorf("orphan's status %+v, want Failed with DisruptionTarget", p.Status)
	}
	release(ctx, t, client, "held-orphan")
	for _, p := range []string{"resident", "done-new"} {
		if gone(ctx, t, client, p) {
			t.Errorf("%s deleted", p)
		}
	}
	if st := c.Stats(); st.Errors != 0 {
		t.Errorf("sync errors: %+v", st)
	}
}

func createPod(ctx context.Context, t *testing.T, client kubernetes.Interface, name, node string, phase corev1.PodPhase, finalizers ...string) {
	t.Helper()
	p := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: name, Finalizers: finalizers},
		Spec: corev1.PodSpec{NodeName: node, Containers: []corev1.Container{{Name: "main", Image: "busybox"}}}}
	p, err := client.CoreV1().Pods("default").Create(ctx, p, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if phase != corev1.PodPending {
		p.Status.Phase = phase
		if _, err := client.CoreV1().Pods("default").UpdateStatus(ctx, p, metav1.UpdateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
}

func get(ctx context.Context, t *testing.T, client kubernetes.Interface, name string) *corev1.Pod {
	t.Helper()
	p, err := client.CoreV1().Pods("default").Get(ctx, name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func gone(ctx context.Context, t *testing.T, client kubernetes.Interface, name string) bool {
	return get(ctx, t, client, name) == nil
}

// release removes the test's finalizer, letting a deleted pod go.
func release(ctx context.Context, t *testing.T, client kubernetes.Interface, name string) {
	t.Helper()
	for {
		p := get(ctx, t, client, name)
		if p == nil {
			return
		}
		p.Finalizers = slices.DeleteFunc(p.Finalizers, func(f string) bool { return f == hold })
		_, err := client.CoreV1().Pods("default").Update(ctx, p, metav1.UpdateOptions{})
		if err == nil || apierrors.IsNotFound(err) {
			return
		}
		if !apierrors.IsConflict(err) {
			t.Fatal(err)
		}
	}
}
