package namespace

import (
	"context"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/validation/field"

	. "github.com/kinc-dev/kinc/pkg/apiserver/registry/internal/regtest"
)

func TestCreate(t *testing.T) {
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "team-a"}, Status: corev1.NamespaceStatus{Phase: corev1.NamespaceTerminating}}
	s := NewStrategy()
	s.PrepareForCreate(context.Background(), ns)
	if ns.Status.Phase != corev1.NamespaceActive || len(ns.Spec.Finalizers) != 1 || ns.Spec.Finalizers[0] != corev1.FinalizerKubernetes {
		t.Errorf("got %+v %+v", ns.Spec, ns.Status)
	}
	if ns.Labels[corev1.LabelMetadataName] != "team-a" {
		t.Errorf("labels %v", ns.Labels)
	}
	Expect(t, s.Validate(context.Background(), ns))

	tests := []struct {
		name string
		ns   *corev1.Namespace
		want []Err
	}{
		{"bad finalizer", &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "x"}, Spec: corev1.NamespaceSpec{Finalizers: []corev1.FinalizerName{"foo"}}},
			[]Err{E(field.ErrorTypeInvalid, "spec.finalizers")}},
		{"qualified finalizer", &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "x"}, Spec: corev1.NamespaceSpec{Finalizers: []corev1.FinalizerName{"example.com/f"}}}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s.PrepareForCreate(context.Background(), tc.ns)
			Expect(t, s.Validate(context.Background(), tc.ns), tc.want...)
		})
	}
}

func TestNameFunc(t *testing.T) {
	if len(NameFunc("team-a", false)) != 0 || len(NameFunc("team.a", false)) == 0 {
		t.Error("namespace names are DNS labels")
	}
}

func TestUpdateAndStatus(t *testing.T) {
	old := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "x"}}
	NewStrategy().PrepareForCreate(context.Background(), old)

	ns := old.DeepCopy()
	ns.Spec.Finalizers = nil
	ns.Status.Phase = corev1.NamespaceTerminating
	ns.Labels[corev1.LabelMetadataName] = "other"
	NewStrategy().PrepareForUpdate(context.Background(), ns, old)
	if len(ns.Spec.Finalizers) != 1 || ns.Status.Phase != corev1.NamespaceActive || ns.Labels[corev1.LabelMetadataName] != "x" {
		t.Errorf("update changed finalizers/status/label: %+v", ns)
	}

	st := old.DeepCopy()
	st.Status.Phase = corev1.NamespaceTerminating
	st.Spec.Finalizers = nil
	NewStatusStrategy().PrepareForUpdate(context.Background(), st, old)
	if len(st.Spec.Finalizers) != 1 {
		t.Error("status update changed spec")
	}
	Expect(t, NewStatusStrategy().ValidateUpdate(context.Background(), st, old), E(field.ErrorTypeInvalid, "status.Phase"))
	now := metav1.Now()
	st.DeletionTimestamp = &now
	Expect(t, NewStatusStrategy().ValidateUpdate(context.Background(), st, old))

	fin := st.DeepCopy()
	fin.Spec.Finalizers = nil
	fin.Status.Phase = corev1.NamespaceActive
	NewFinalizeStrategy().PrepareForUpdate(context.Background(), fin, st)
	if len(fin.Spec.Finalizers) != 0 || fin.Status.Phase != corev1.NamespaceTerminating {
		t.Errorf("finalize: %+v %+v", fin.Spec, fin.Status)
	}
}

func TestGetAttrs(t *testing.T) {
	_, f, err := GetAttrs(&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "x"}, Status: corev1.NamespaceStatus{Phase: corev1.NamespaceActive}})
	if err != nil || len(f) != 2 || f["status.phase"] != "Active" || f["metadata.name"] != "x" {
		t.Errorf("%v %v", f, err)
	}
}
