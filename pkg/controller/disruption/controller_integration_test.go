package disruption_test

import (
	"context"
	"fmt"
	"log/slog"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	apimeta "k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"

	"github.com/kinc-dev/kinc/pkg/apiserver/apiservertest"
	"github.com/kinc-dev/kinc/pkg/controller/disruption"
)

// TestIntegrationDisruptionBudget runs the controller against a real
// kube-apiserver on etcd: three pods of a ReplicaSet, marked Ready by the
// test as a kubelet would, and a PDB with minAvailable 2 get
// disruptionsAllowed 1 (SufficientPods); one pod not Ready brings it to 0
// (InsufficientPods).
func TestIntegrationDisruptionBudget(t *testing.T) {
	if testing.Short() {
		t.Skip("integration test: starts etcd and kube-apiserver")
	}
	inst := apiservertest.Start(t, apiservertest.Options{})
	client := inst.Client(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	const ns = "default"
	labels := map[string]string{"app": "web"}

	replicas := int32(3)
	rs, err := client.AppsV1().ReplicaSets(ns).Create(ctx, &appsv1.ReplicaSet{
		ObjectMeta: metav1.ObjectMeta{Name: "web"},
		Spec: appsv1.ReplicaSetSpec{Replicas: &replicas, Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Image: "web:1"}}}}},
	}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	isController := true
	for i := range 3 {
		pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("web-%d", i), Labels: labels,
			OwnerReferences: []metav1.OwnerReference{{APIVersion: "apps/v1", Kind: "ReplicaSet", Name: rs.Name, UID: rs.UID, Controller: &isController}}},
			Spec: rs.Spec.Template.Spec}
		if pod, err = client.CoreV1().Pods(ns).Create(ctx, pod, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		setReady(ctx, t, client, pod, corev1.ConditionTrue)
	}
	minAvailable := intstr.FromInt32(2)
	if _, err := client.PolicyV1().PodDisruptionBudgets(ns).Create(ctx, &policyv1.PodDisruptionBudget{
		ObjectMeta: metav1.ObjectMeta{Name: "web"},
		Spec:       policyv1.PodDisruptionBudgetSpec{MinAvailable: &minAvailable, Selector: &metav1.LabelSelector{MatchLabels: labels}},
	}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}

	f := informers.NewSharedInformerFactory(client, 0)
	c := disruption.New(client, f.Core().V1().Pods(), f.Policy().V1().PodDisruptionBudgets(), f.Apps().V1().ReplicaSets(),
		f.Apps().V1().Deployments(), f.Apps().V1().StatefulSets(),
		disruption.Options{Logger: slog.New(slog.NewTextHandler(t.Output(), nil))})
	f.Start(ctx.Done())
	done := make(chan error, 1)
	go func() { done <- c.Run(ctx, 1) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
		f.Shutdown()
	}()

	waitStatus(ctx, t, client, 3, 2, 3, 1, policyv1.SufficientPodsReason)

	pod, err := client.CoreV1().Pods(ns).Get(ctx, "web-1", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	setReady(ctx, t, client, pod, corev1.ConditionFalse)
	waitStatus(ctx, t, client, 3, 2, 2, 0, policyv1.InsufficientPodsReason)
	if st := c.Stats(); st.Errors != 0 {
		t.Errorf("sync errors: %+v", st)
	}
}

// setReady writes pod's Running phase and Ready condition as its kubelet
// would.
func setReady(ctx context.Context, t *testing.T, client kubernetes.Interface, pod *corev1.Pod, ready corev1.ConditionStatus) {
	t.Helper()
	pod = pod.DeepCopy()
	pod.Status.Phase = corev1.PodRunning
	pod.Status.Conditions = []corev1.PodCondition{{Type: corev1.PodReady, Status: ready, LastTransitionTime: metav1.Now()}}
	if _, err := client.CoreV1().Pods(pod.Namespace).UpdateStatus(ctx, pod, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
}

func waitStatus(ctx context.Context, t *testing.T, client kubernetes.Interface, expected, desired, current, allowed int32, reason string) {
	t.Helper()
	var last policyv1.PodDisruptionBudgetStatus
	var gen int64
	err := wait.PollUntilContextTimeout(ctx, 50*time.Millisecond, 20*time.Second, true, func(ctx context.Context) (bool, error) {
		pdb, err := client.PolicyV1().PodDisruptionBudgets("default").Get(ctx, "web", metav1.GetOptions{})
		if err != nil {
			return false, nil
		}
		last, gen = pdb.Status, pdb.Generation
		cond := apimeta.FindStatusCondition(last.Conditions, policyv1.DisruptionAllowedCondition)
		return last.ExpectedPods == expected && last.DesiredHealthy == desired && last.CurrentHealthy == current &&
			last.DisruptionsAllowed == allowed && last.ObservedGeneration == gen && cond != nil && cond.Reason == reason, nil
	})
	if err != nil {
		t.Fatalf("PDB status %+v (generation %d), want expected/desired/current/allowed %d/%d/%d/%d and %s",
			last, gen, expected, desired, current, allowed, reason)
	}
}
