package configmap

import (
	"context"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/validation/field"
	"k8s.io/utils/ptr"

	. "github.com/kinc-dev/kinc/pkg/apiserver/registry/internal/regtest"
)

func TestValidate(t *testing.T) {
	tests := []struct {
		name string
		cm   corev1.ConfigMap
		want []Err
	}{
		{"valid", corev1.ConfigMap{Data: map[string]string{"a.conf": "x"}, BinaryData: map[string][]byte{"b": nil}}, nil},
		{"bad key", corev1.ConfigMap{Data: map[string]string{"a/b": "x"}}, []Err{E(field.ErrorTypeInvalid, "data[a/b]")}},
		{"bad binary key", corev1.ConfigMap{BinaryData: map[string][]byte{"..": nil}}, []Err{E(field.ErrorTypeInvalid, "binaryData[..]")}},
		{"key in both", corev1.ConfigMap{Data: map[string]string{"k": ""}, BinaryData: map[string][]byte{"k": nil}}, []Err{E(field.ErrorTypeInvalid, "data[k]")}},
		{"too large", corev1.ConfigMap{Data: map[string]string{"k": strings.Repeat("x", MaxSize+1)}}, []Err{E(field.ErrorTypeTooLong, "[]")}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cm := tc.cm
			NewStrategy().PrepareForCreate(context.Background(), &cm)
			Expect(t, NewStrategy().Validate(context.Background(), &cm), tc.want...)
		})
	}
}

func TestImmutable(t *testing.T) {
	old := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "c"}, Data: map[string]string{"k": "v"}, Immutable: ptr.To(true)}
	s := NewStrategy()

	same := old.DeepCopy()
	same.Labels = map[string]string{"a": "b"}
	s.PrepareForUpdate(context.Background(), same, old)
	Expect(t, s.ValidateUpdate(context.Background(), same, old))

	changed := old.DeepCopy()
	changed.Data["k"] = "w"
	changed.Immutable = ptr.To(false)
	s.PrepareForUpdate(context.Background(), changed, old)
	Expect(t, s.ValidateUpdate(context.Background(), changed, old),
		E(field.ErrorTypeForbidden, "immutable"), E(field.ErrorTypeForbidden, "data"))

	mutable := old.DeepCopy()
	mutable.Immutable = nil
	mutable.Data["k"] = "w"
	Expect(t, s.ValidateUpdate(context.Background(), changed, mutable))
}
