package poddisruptionbudget_test

import (
	"context"
	"strings"
	"testing"

	policyv1 "k8s.io/api/policy/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"

	"github.com/kinc-dev/kinc/pkg/apiserver/apiservertest"
)

// TestIntegrationPodDisruptionBudgets creates, reads, lists and updates a
// PodDisruptionBudget through client-go against the real apiserver on
// etcd, writes its status as the disruption controller does, and gets
// 422s with upstream's messages for minAvailable with maxUnavailable and a
// negative status count.
func TestIntegrationPodDisruptionBudgets(t *testing.T) {
	if testing.Short() {
		t.Skip("integration test: starts etcd and kube-apiserver")
	}
	inst := apiservertest.Start(t, apiservertest.Options{})
	pdbs := inst.Client(t).PolicyV1().PodDisruptionBudgets("default")
	ctx := context.Background()

	pdb := &policyv1.PodDisruptionBudget{
		ObjectMeta: metav1.ObjectMeta{Name: "web", Labels: map[string]string{"app": "web"}},
		Spec: policyv1.PodDisruptionBudgetSpec{MinAvailable: ptr.To(intstr.FromInt32(1)),
			Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "web"}}},
	}
	created, err := pdbs.Create(ctx, pdb, metav1.CreateOptions{})
	if err != nil {
		t.Fatalf("create: %v", err)
	}
	if created.Generation != 1 {
		t.Errorf("generation %d", created.Generation)
	}
	if _, err := pdbs.Get(ctx, "web", metav1.GetOptions{}); err != nil {
		t.Fatalf("get: %v", err)
	}
	list, err := pdbs.List(ctx, metav1.ListOptions{LabelSelector: "app=web"})
	if err != nil || len(list.Items) != 1 {
		t.Fatalf("list: %v, %d items", err, len(list.Items))
	}

	created.Spec.MinAvailable = ptr.To(intstr.FromString("50%"))
	updated, err := pdbs.Update(ctx, created, metav1.UpdateOptions{})
	if err != nil {
		t.Fatalf("update: %v", err)
	}
	if updated.Generation != 2 || updated.Spec.MinAvailable.String() != "50%" {
		t.Errorf("after update: generation %d, minAvailable %v", updated.Generation, updated.Spec.MinAvailable)
	}

	updated.Status = policyv1.PodDisruptionBudgetStatus{ObservedGeneration: 2, DisruptionsAllowed: 1, CurrentHealthy: 2, DesiredHealthy: 1, ExpectedPods: 2,
		Conditions: []metav1.Condition{{Type: policyv1.DisruptionAllowedCondition, Status: metav1.ConditionTrue,
			Reason: policyv1.SufficientPodsReason, LastTransitionTime: metav1.Now()}}}
	st, err := pdbs.UpdateStatus(ctx, updated, metav1.UpdateOptions{})
	if err != nil {
		t.Fatalf("update status: %v", err)
	}
	if st.Status.DisruptionsAllowed != 1 || st.Generation != 2 {
		t.Errorf("after status update: %+v, generation %d", st.Status, st.Generation)
	}
	st.Status.DisruptionsAllowed = -1
	_, err = pdbs.UpdateStatus(ctx, st, metav1.UpdateOptions{})
	expectInvalid(t, err, "status.disruptionsAllowed: Invalid value: -1: must be greater than or equal to 0")

	both := pdb.DeepCopy()
	both.Name = "both"
	both.Spec.MaxUnavailable = ptr.To(intstr.FromInt32(1))
	_, err = pdbs.Create(ctx, both, metav1.CreateOptions{})
	expectInvalid(t, err, "minAvailable and maxUnavailable cannot be both set")
}

func expectInvalid(t *testing.T, err error, want string) {
	t.Helper()
	if !apierrors.IsInvalid(err) || !strings.Contains(err.Error(), want) {
		t.Errorf("got %v, want 422 with %q", err, want)
	}
}
