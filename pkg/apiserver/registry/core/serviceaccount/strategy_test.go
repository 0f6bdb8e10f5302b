package serviceaccount

import (
	"context"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func TestCleanSecretReferences(t *testing.T) {
	sa := &corev1.ServiceAccount{
		ObjectMeta: metav1.ObjectMeta{Name: "default", Namespace: "ns"},
		Secrets:    []corev1.ObjectReference{{Name: "tok", Namespace: "other", UID: "u"}},
	}
	s := NewStrategy()
	s.PrepareForCreate(context.Background(), sa)
	if sa.Secrets[0] != (corev1.ObjectReference{Name: "tok"}) {
		t.Errorf("secrets %v", sa.Secrets)
	}
	if errs := s.Validate(context.Background(), sa); len(errs) != 0 {
		t.Error(errs)
	}
	if _, f, err := GetAttrs(sa); err != nil || len(f) != 2 || f["metadata.namespace"] != "ns" {
		t.Errorf("%v %v", f, err)
	}
}
