package statefulset

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

func newSS() *appsv1.StatefulSet {
	labels := map[string]string{"app": "db"}
	return &appsv1.StatefulSet{
		ObjectMeta: metav1.ObjectMeta{Name: "db", Namespace: "default"},
		Spec: appsv1.StatefulSetSpec{
			ServiceName: "db",
			Selector:    &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "db", Image: "postgres:16",
					VolumeMounts: []corev1.VolumeMount{{Name: "data", MountPath: "/var/lib/postgresql"}}}}}},
			VolumeClaimTemplates: []corev1.PersistentVolumeClaim{{ObjectMeta: metav1.ObjectMeta{Name: "data"}}},
		},
	}
}

func TestDefaults(t *testing.T) {
	ss := newSS()
	NewStrategy().PrepareForCreate(context.Background(), ss)
	s := ss.Spec
	if s.PodManagementPolicy != appsv1.OrderedReadyPodManagement || s.UpdateStrategy.Type != appsv1.RollingUpdateStatefulSetStrategyType ||
		*s.UpdateStrategy.RollingUpdate.Partition != 0 || *s.Replicas != 1 || *s.RevisionHistoryLimit != 10 ||
		s.PersistentVolumeClaimRetentionPolicy.WhenDeleted != appsv1.RetainPersistentVolumeClaimRetentionPolicyType ||
		*s.VolumeClaimTemplates[0].Spec.VolumeMode != corev1.PersistentVolumeFilesystem ||
		s.VolumeClaimTemplates[0].Status.Phase != corev1.ClaimPending || ss.Generation != 1 {
		t.Errorf("defaults: %+v", s)
	}
	Expect(t, NewStrategy().Validate(context.Background(), ss))
}

func TestValidate(t *testing.T) {
	tests := []struct {
		name   string
		mutate func(*appsv1.StatefulSet)
		want   []Err
	}{
		{"empty selector", func(s *appsv1.StatefulSet) { s.Spec.Selector = &metav1.LabelSelector{} }, []Err{E(field.ErrorTypeInvalid, "spec.selector")}},
		{"podManagementPolicy", func(s *appsv1.StatefulSet) { s.Spec.PodManagementPolicy = "Random" }, []Err{E(field.ErrorTypeInvalid, "spec.podManagementPolicy")}},
		{"onDelete with rollingUpdate", func(s *appsv1.StatefulSet) {
			s.Spec.UpdateStrategy = appsv1.StatefulSetUpdateStrategy{Type: appsv1.OnDeleteStatefulSetStrategyType, RollingUpdate: &appsv1.RollingUpdateStatefulSetStrategy{}}
		}, []Err{E(field.ErrorTypeInvalid, "spec.updateStrategy.rollingUpdate")}},
		{"mount without claim or volume", func(s *appsv1.StatefulSet) { s.Spec.VolumeClaimTemplates = nil },
			[]Err{E(field.ErrorTypeNotFound, "spec.template.spec.containers[0].volumeMounts[0].name")}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ss := newSS()
			tc.mutate(ss)
			NewStrategy().PrepareForCreate(context.Background(), ss)
			Expect(t, NewStrategy().Validate(context.Background(), ss), tc.want...)
		})
	}
}

func TestNameFunc(t *testing.T) {
	if len(NameFunc("db", false)) != 0 || len(NameFunc("db.primary", false)) == 0 {
		t.Error("statefulset names are DNS labels")
	}
}

func TestUpdate(t *testing.T) {
	old := newSS()
	s := NewStrategy()
	s.PrepareForCreate(context.Background(), old)

	ok := old.DeepCopy()
	ok.Spec.Replicas = ptr.To[int32](3)
	ok.Spec.Template.Spec.Containers[0].Image = "postgres:17"
	s.PrepareForUpdate(context.Background(), ok, old)
	Expect(t, s.ValidateUpdate(context.Background(), ok, old))
	if ok.Generation != 2 {
		t.Errorf("generation %d", ok.Generation)
	}

	bad := old.DeepCopy()
	bad.Spec.ServiceName = "other"
	s.PrepareForUpdate(context.Background(), bad, old)
	errs := s.ValidateUpdate(context.Background(), bad, old)
	Expect(t, errs, E(field.ErrorTypeForbidden, "spec"))
	if want := "updates to statefulset spec for fields other than 'replicas', 'ordinals', 'template', 'updateStrategy', 'persistentVolumeClaimRetentionPolicy' and 'minReadySeconds' are forbidden"; errs[0].Detail != want {
		t.Errorf("detail %q", errs[0].Detail)
	}

	st := old.DeepCopy()
	st.Spec.ServiceName = "x"
	st.Status.Replicas = 1
	NewStatusStrategy().PrepareForUpdate(context.Background(), st, old)
	if st.Spec.ServiceName != "db" {
		t.Error("status update changed spec")
	}
}
