package replicaset

import (
	"context"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/validation/field"
	"k8s.io/utils/ptr"

	. "github.com/kinc-dev/kinc/pkg/apiserver/registry/internal/regtest"
)

func newRS() *appsv1.ReplicaSet {
	labels := map[string]string{"app": "web"}
	return &appsv1.ReplicaSet{
		ObjectMeta: metav1.ObjectMeta{Name: "web-1", Namespace: "default"},
		Spec: appsv1.ReplicaSetSpec{
			Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Image: "nginx"}}}},
		},
	}
}

func TestStrategy(t *testing.T) {
	s := NewStrategy()
	rs := newRS()
	s.PrepareForCreate(context.Background(), rs)
	if *rs.Spec.Replicas != 1 || rs.Generation != 1 || rs.Spec.Template.Spec.DNSPolicy != corev1.DNSClusterFirst {
		t.Errorf("defaults: %+v", rs.Spec)
	}
	Expect(t, s.Validate(context.Background(), rs))

	empty := newRS()
	empty.Spec.Selector = &metav1.LabelSelector{}
	s.PrepareForCreate(context.Background(), empty)
	Expect(t, s.Validate(context.Background(), empty), E(field.ErrorTypeInvalid, "spec.selector"))
	if errs := s.Validate(context.Background(), empty); errs[0].Detail != "empty selector is invalid for deployment" {
		t.Errorf("detail %q", errs[0].Detail)
	}

	up := rs.DeepCopy()
	up.Spec.Replicas = ptr.To[int32](0)
	s.PrepareForUpdate(context.Background(), up, rs)
	if up.Generation != 2 {
		t.Errorf("generation %d", up.Generation)
	}
	up.Spec.Selector = &metav1.LabelSelector{MatchExpressions: []metav1.LabelSelectorRequirement{{Key: "app", Operator: metav1.LabelSelectorOpExists}}}
	Expect(t, s.ValidateUpdate(context.Background(), up, rs), E(field.ErrorTypeInvalid, "spec.selector"))

	rs.Status.Replicas = 4
	_, f, _ := GetAttrs(rs)
	if f["status.replicas"] != "4" || len(f) != 3 {
		t.Errorf("fields %v", f)
	}
}
