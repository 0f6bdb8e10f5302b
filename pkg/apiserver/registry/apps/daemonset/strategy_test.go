package daemonset

import (
	"context"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/util/validation/field"
	"k8s.io/utils/ptr"

	. "github.com/kinc-dev/kinc/pkg/apiserver/registry/internal/regtest"
)

func newDS() *appsv1.DaemonSet {
	labels := map[string]string{"app": "agent"}
	return &appsv1.DaemonSet{
		ObjectMeta: metav1.ObjectMeta{Name: "agent", Namespace: "kube-system"},
		Spec: appsv1.DaemonSetSpec{
			Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Image: "agent:1"}}}},
		},
	}
}

func TestStrategy(t *testing.T) {
	s := NewStrategy()
	ds := newDS()
	s.PrepareForCreate(context.Background(), ds)
	ru := ds.Spec.UpdateStrategy.RollingUpdate
	if ds.Spec.UpdateStrategy.Type != appsv1.RollingUpdateDaemonSetStrategyType || *ru.MaxUnavailable != intstr.FromInt32(1) ||
		*ru.MaxSurge != intstr.FromInt32(0) || *ds.Spec.RevisionHistoryLimit != 10 || ds.Generation != 1 {
		t.Errorf("defaults: %+v", ds.Spec)
	}
	Expect(t, s.Validate(context.Background(), ds))

	noSel := newDS()
	noSel.Spec.Selector = nil
	s.PrepareForCreate(context.Background(), noSel)
	Expect(t, s.Validate(context.Background(), noSel), E(field.ErrorTypeInvalid, "spec.template.metadata.labels"))

	both := newDS()
	both.Spec.UpdateStrategy.RollingUpdate = &appsv1.RollingUpdateDaemonSet{MaxUnavailable: ptr.To(intstr.FromInt32(1)), MaxSurge: ptr.To(intstr.FromInt32(1))}
	s.PrepareForCreate(context.Background(), both)
	Expect(t, s.Validate(context.Background(), both), E(field.ErrorTypeInvalid, "spec.updateStrategy.rollingUpdate.maxSurge"))

	up := ds.DeepCopy()
	up.Spec.Selector = &metav1.LabelSelector{MatchLabels: map[string]string{"app": "agent", "v": "2"}}
	up.Spec.Template.Labels = map[string]string{"app": "agent", "v": "2"}
	s.PrepareForUpdate(context.Background(), up, ds)
	if up.Generation != 2 {
		t.Errorf("generation %d", up.Generation)
	}
	Expect(t, s.ValidateUpdate(context.Background(), up, ds), E(field.ErrorTypeInvalid, "spec.selector"))
}

// TestTemplateGeneration: the deprecated.daemonset.template.generation
// annotation is the server's, as upstream's: 1 on create whatever the
// client sent, one more when the template changes, kept otherwise and on
// /status.
func TestTemplateGeneration(t *testing.T) {
	s, st := NewStrategy(), NewStatusStrategy()
	gen := func(ds *appsv1.DaemonSet) string { return ds.Annotations[appsv1.DeprecatedTemplateGeneration] }
	ds := newDS()
	ds.Annotations = map[string]string{appsv1.DeprecatedTemplateGeneration: "7"}
	s.PrepareForCreate(context.Background(), ds)
	if gen(ds) != "1" {
		t.Fatalf("created with template generation %q, want 1", gen(ds))
	}
	scaled := ds.DeepCopy()
	scaled.Spec.MinReadySeconds = 5
	delete(scaled.Annotations, appsv1.DeprecatedTemplateGeneration)
	s.PrepareForUpdate(context.Background(), scaled, ds)
	if gen(scaled) != "1" {
		t.Errorf("a spec change outside the template: template generation %q, want 1", gen(scaled))
	}
	changed := scaled.DeepCopy()
	changed.Spec.Template.Spec.Containers[0].Image = "agent:2"
	s.PrepareForUpdate(context.Background(), changed, scaled)
	if gen(changed) != "2" {
		t.Errorf("a template change: template generation %q, want 2", gen(changed))
	}
	status := changed.DeepCopy()
	status.Annotations[appsv1.DeprecatedTemplateGeneration] = "9"
	st.PrepareForUpdate(context.Background(), status, changed)
	if gen(status) != "2" {
		t.Errorf("a /status update changed the template generation to %q", gen(status))
	}
}
