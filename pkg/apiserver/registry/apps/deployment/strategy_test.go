package deployment

import (
	"context"
	"testing"

	"github.com/google/go-cmp/cmp"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/util/validation/field"
	"k8s.io/utils/ptr"

	. "github.com/kinc-dev/kinc/pkg/apiserver/registry/internal/regtest"
)

func newDeployment() *appsv1.Deployment {
	labels := map[string]string{"app": "web"}
	return &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "default", UID: "u"},
		Spec: appsv1.DeploymentSpec{
			Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "nginx", Image: "nginx:1.27"}}},
			},
		},
	}
}

func TestDefaults(t *testing.T) {
	d := newDeployment()
	d.Generation = 7
	d.Status.Replicas = 3
	NewStrategy().PrepareForCreate(context.Background(), d)
	if d.Generation != 1 || d.Status.Replicas != 0 {
		t.Errorf("generation %d status %+v", d.Generation, d.Status)
	}
	want := appsv1.DeploymentSpec{
		Replicas: ptr.To[int32](1),
		Selector: d.Spec.Selector,
		Strategy: appsv1.DeploymentStrategy{Type: appsv1.RollingUpdateDeploymentStrategyType, RollingUpdate: &appsv1.RollingUpdateDeployment{
			MaxUnavailable: ptr.To(intstr.FromString("25%")), MaxSurge: ptr.To(intstr.FromString("25%"))}},
		RevisionHistoryLimit:    ptr.To[int32](10),
		ProgressDeadlineSeconds: ptr.To[int32](600),
		Template: corev1.PodTemplateSpec{
			ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": "web"}},
			Spec: corev1.PodSpec{
				Containers: []corev1.Container{{Name: "nginx", Image: "nginx:1.27", ImagePullPolicy: corev1.PullIfNotPresent,
					TerminationMessagePath: "/dev/termination-log", TerminationMessagePolicy: corev1.TerminationMessageReadFile}},
				RestartPolicy: corev1.RestartPolicyAlways, TerminationGracePeriodSeconds: ptr.To[int64](30),
				DNSPolicy: corev1.DNSClusterFirst, SecurityContext: &corev1.PodSecurityContext{}, SchedulerName: "default-scheduler",
			},
		},
	}
	if diff := cmp.Diff(want, d.Spec); diff != "" {
		t.Errorf("spec (-want +got):\n%s", diff)
	}
}

func TestValidate(t *testing.T) {
	tests := []struct {
		name   string
		mutate func(*appsv1.Deployment)
		want   []Err
	}{
		{"valid", func(*appsv1.Deployment) {}, nil},
		{"no selector", func(d *appsv1.Deployment) { d.Spec.Selector = nil }, []Err{
			E(field.ErrorTypeRequired, "spec.selector"), E(field.ErrorTypeInvalid, "spec.template.metadata.labels")}},
		{"empty selector", func(d *appsv1.Deployment) { d.Spec.Selector = &metav1.LabelSelector{} }, []Err{E(field.ErrorTypeInvalid, "spec.selector")}},
		{"selector does not match", func(d *appsv1.Deployment) { d.Spec.Template.Labels = map[string]string{"app": "other"} },
			[]Err{E(field.ErrorTypeInvalid, "spec.template.metadata.labels")}},
		{"no containers", func(d *appsv1.Deployment) { d.Spec.Template.Spec.Containers = nil },
			[]Err{E(field.ErrorTypeRequired, "spec.template.spec.containers")}},
		{"restartPolicy", func(d *appsv1.Deployment) { d.Spec.Template.Spec.RestartPolicy = corev1.RestartPolicyNever },
			[]Err{E(field.ErrorTypeNotSupported, "spec.template.spec.restartPolicy")}},
		{"negative replicas", func(d *appsv1.Deployment) { d.Spec.Replicas = ptr.To[int32](-1) }, []Err{E(field.ErrorTypeInvalid, "spec.replicas")}},
		{"both zero", func(d *appsv1.Deployment) {
			d.Spec.Strategy.RollingUpdate = &appsv1.RollingUpdateDeployment{MaxUnavailable: ptr.To(intstr.FromInt32(0)), MaxSurge: ptr.To(intstr.FromString("0%"))}
		}, []Err{E(field.ErrorTypeInvalid, "spec.strategy.rollingUpdate.maxUnavailable")}},
		{"recreate with rollingUpdate", func(d *appsv1.Deployment) {
			d.Spec.Strategy = appsv1.DeploymentStrategy{Type: appsv1.RecreateDeploymentStrategyType, RollingUpdate: &appsv1.RollingUpdateDeployment{}}
		}, []Err{E(field.ErrorTypeForbidden, "spec.strategy.rollingUpdate")}},
		{"bad strategy", func(d *appsv1.Deployment) { d.Spec.Strategy.Type = "BlueGreen" }, []Err{E(field.ErrorTypeNotSupported, "spec.strategy")}},
		{"progress deadline", func(d *appsv1.Deployment) { d.Spec.MinReadySeconds = 600 },
			[]Err{E(field.ErrorTypeInvalid, "spec.progressDeadlineSeconds")}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d := newDeployment()
			tc.mutate(d)
			s := NewStrategy()
			s.PrepareForCreate(context.Background(), d)
			Expect(t, s.Validate(context.Background(), d), tc.want...)
		})
	}
}

func TestUpdate(t *testing.T) {
	old := newDeployment()
	s := NewStrategy()
	s.PrepareForCreate(context.Background(), old)
	old.Status.Replicas = 1

	scaled := old.DeepCopy()
	scaled.Spec.Replicas = ptr.To[int32](3)
	scaled.Status.Replicas = 9
	scaled.Generation = 42
	s.PrepareForUpdate(context.Background(), scaled, old)
	if scaled.Generation != 2 || scaled.Status.Replicas != 1 {
		t.Errorf("generation %d status %d", scaled.Generation, scaled.Status.Replicas)
	}
	Expect(t, s.ValidateUpdate(context.Background(), scaled, old))

	labelled := old.DeepCopy()
	labelled.Labels = map[string]string{"x": "y"}
	s.PrepareForUpdate(context.Background(), labelled, old)
	if labelled.Generation != 1 {
		t.Errorf("label change bumped generation to %d", labelled.Generation)
	}
	annotated := old.DeepCopy()
	annotated.Annotations = map[string]string{"x": "y"}
	s.PrepareForUpdate(context.Background(), annotated, old)
	if annotated.Generation != 2 {
		t.Errorf("annotation change left generation at %d", annotated.Generation)
	}

	moved := old.DeepCopy()
	moved.Spec.Selector = &metav1.LabelSelector{MatchLabels: map[string]string{"app": "web", "tier": "fe"}}
	moved.Spec.Template.Labels["tier"] = "fe"
	s.PrepareForUpdate(context.Background(), moved, old)
	Expect(t, s.ValidateUpdate(context.Background(), moved, old), E(field.ErrorTypeInvalid, "spec.selector"))

	st := old.DeepCopy()
	st.Spec.Replicas = ptr.To[int32](5)
	st.Status.Replicas, st.Status.ReadyReplicas = 2, 3
	NewStatusStrategy().PrepareForUpdate(context.Background(), st, old)
	if *st.Spec.Replicas != 1 || st.Generation != 1 {
		t.Errorf("status update changed spec/generation")
	}
	Expect(t, NewStatusStrategy().ValidateUpdate(context.Background(), st, old), E(field.ErrorTypeInvalid, "status.readyReplicas"))
}
