package secret

import (
	"context"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/validation/field"
	"k8s.io/utils/ptr"

	. "github.com/kinc-dev/kinc/pkg/apiserver/registry/internal/regtest"
)

func TestDefaults(t *testing.T) {
	s := &corev1.Secret{Data: map[string][]byte{"a": []byte("1")}, StringData: map[string]string{"a": "2", "b": "3"}}
	NewStrategy().PrepareForCreate(context.Background(), s)
	if s.Type != corev1.SecretTypeOpaque || string(s.Data["a"]) != "2" || string(s.Data["b"]) != "3" || s.StringData != nil {
		t.Errorf("got %+v", s)
	}
}

func TestValidate(t *testing.T) {
	tests := []struct {
		name string
		s    corev1.Secret
		want []Err
	}{
		{"opaque", corev1.Secret{Data: map[string][]byte{"k": nil}}, nil},
		{"bad key", corev1.Secret{Data: map[string][]byte{"a b": nil}}, []Err{E(field.ErrorTypeInvalid, "data[a b]")}},
		{"tls", corev1.Secret{Type: corev1.SecretTypeTLS}, []Err{E(field.ErrorTypeRequired, "data[tls.crt]"), E(field.ErrorTypeRequired, "data[tls.key]")}},
		{"dockerconfigjson", corev1.Secret{Type: corev1.SecretTypeDockerConfigJson, Data: map[string][]byte{".dockerconfigjson": []byte("{")}},
			[]Err{E(field.ErrorTypeInvalid, "data[.dockerconfigjson]")}},
		{"sa token", corev1.Secret{Type: corev1.SecretTypeServiceAccountToken},
			[]Err{E(field.ErrorTypeRequired, "metadata.annotations[kubernetes.io/service-account.name]")}},
		{"basic auth", corev1.Secret{Type: corev1.SecretTypeBasicAuth, Data: map[string][]byte{"username": nil}}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := tc.s
			NewStrategy().PrepareForCreate(context.Background(), &s)
			Expect(t, NewStrategy().Validate(context.Background(), &s), tc.want...)
		})
	}
}

func TestUpdate(t *testing.T) {
	old := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "s"}, Type: corev1.SecretTypeOpaque, Data: map[string][]byte{"k": []byte("v")}, Immutable: ptr.To(true)}
	n := old.DeepCopy()
	n.Type = "example.com/other"
	n.StringData = map[string]string{"k": "w"}
	NewStrategy().PrepareForUpdate(context.Background(), n, old)
	Expect(t, NewStrategy().ValidateUpdate(context.Background(), n, old),
		E(field.ErrorTypeInvalid, "type"), E(field.ErrorTypeForbidden, "data"))

	_, f, err := GetAttrs(old)
	if err != nil || f["type"] != "Opaque" || len(f) != 3 {
		t.Errorf("%v %v", f, err)
	}
}
