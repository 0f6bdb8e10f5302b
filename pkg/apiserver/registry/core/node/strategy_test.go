package node

import (
	"context"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/validation/field"

	. "github.com/kinc-dev/kinc/pkg/apiserver/registry/internal/regtest"
)

func newNode() *corev1.Node {
	return &corev1.Node{
		ObjectMeta: metav1.ObjectMeta{Name: "kinc-worker"},
		Status:     corev1.NodeStatus{Capacity: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("2"), corev1.ResourcePods: resource.MustParse("110")}},
	}
}

func TestCreate(t *testing.T) {
	n := newNode()
	n.Spec.PodCIDR = "10.244.1.0/24"
	s := NewStrategy()
	s.PrepareForCreate(context.Background(), n)
	if n.Status.Allocatable.Cpu().String() != "2" || len(n.Spec.PodCIDRs) != 1 {
		t.Errorf("defaults: %+v", n)
	}
	Expect(t, s.Validate(context.Background(), n))

	bad := newNode()
	bad.Spec.Taints = []corev1.Taint{{Key: "k", Effect: corev1.TaintEffectNoSchedule}, {Key: "k", Effect: corev1.TaintEffectNoSchedule}, {Key: "j"}}
	bad.Spec.PodCIDRs = []string{"nope"}
	bad.Status.Capacity[corev1.ResourcePods] = resource.MustParse("1.5")
	s.PrepareForCreate(context.Background(), bad)
	Expect(t, s.Validate(context.Background(), bad),
		E(field.ErrorTypeDuplicate, "metadata.taints[1]"), E(field.ErrorTypeRequired, "metadata.taints[2].effect"),
		E(field.ErrorTypeInvalid, "spec.podCIDRs[0]"),
		E(field.ErrorTypeInvalid, "status.capacity.pods"), E(field.ErrorTypeInvalid, "status.allocatable.pods"))
}

func TestUpdate(t *testing.T) {
	old := newNode()
	old.Spec.PodCIDRs = []string{"10.244.1.0/24"}
	old.Spec.ProviderID = "kinc://x"
	NewStrategy().PrepareForCreate(context.Background(), old)

	n := old.DeepCopy()
	n.Spec.Unschedulable = true
	n.Status.Capacity = nil
	NewStrategy().PrepareForUpdate(context.Background(), n, old)
	if n.Status.Capacity == nil {
		t.Error("main update changed status")
	}
	Expect(t, NewStrategy().ValidateUpdate(context.Background(), n, old))

	n.Spec.PodCIDRs, n.Spec.PodCIDR = []string{"10.244.2.0/24"}, ""
	n.Spec.ProviderID = "other"
	Expect(t, NewStrategy().ValidateUpdate(context.Background(), n, old),
		E(field.ErrorTypeForbidden, "spec.podCIDRs"), E(field.ErrorTypeForbidden, "spec.providerID"))

	st := old.DeepCopy()
	st.Spec.Unschedulable = true
	st.Status.Conditions = []corev1.NodeCondition{{Type: corev1.NodeReady, Status: corev1.ConditionTrue}}
	NewStatusStrategy().PrepareForUpdate(context.Background(), st, old)
	if st.Spec.Unschedulable || len(st.Status.Conditions) != 1 {
		t.Errorf("status strategy: %+v", st)
	}
}

func TestGetAttrs(t *testing.T) {
	n := newNode()
	n.Spec.Unschedulable = true
	_, f, err := GetAttrs(n)
	if err != nil || len(f) != 2 || f["spec.unschedulable"] != "true" || f["metadata.name"] != "kinc-worker" {
		t.Errorf("%v %v", f, err)
	}
}
