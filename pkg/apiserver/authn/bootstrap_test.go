package authn

import (
	"context"
	"errors"
	"reflect"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	clocktesting "k8s.io/utils/clock/testing"
)

var bootstrapNow = time.Date(2026, 12, 7, 3, 0, 0, 0, time.UTC)

func bootstrapSecret() *corev1.Secret {
	return &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Namespace: "kube-system", Name: "bootstrap-token-abcdef"},
		Type:       BootstrapTokenSecretType,
		Data: map[string][]byte{
			"token-id": []byte("abcdef"), "token-secret": []byte("0123456789abcdef"),
			"usage-bootstrap-authentication": []byte("true"),
			"expiration":                     []byte(bootstrapNow.Add(time.Hour).Format(time.RFC3339)),
			"auth-extra-groups":              []byte("system:bootstrappers:kubeadm:default-node-token"),
		},
	}
}

func bootstrapAuth(s *corev1.Secret, err error) BootstrapTokens {
	return BootstrapTokens{Clock: clocktesting.NewFakePassiveClock(bootstrapNow),
		Secrets: func(_ context.Context, ns, name string) (*corev1.Secret, error) {
			if err != nil {
				return nil, err
			}
			if s == nil || ns != s.Namespace || name != s.Name {
				return nil, apierrors.NewNotFound(schema.GroupResource{Resource: "secrets"}, name)
			}
			return s, nil
		}}
}

func TestBootstrapTokens(t *testing.T) {
	const token = "abcdef.0123456789abcdef"
	u, ok, err := bootstrapAuth(bootstrapSecret(), nil).AuthenticateToken(context.Background(), token)
	want := &User{Name: "system:bootstrap:abcdef",
		Groups: []string{"system:bootstrappers", "system:bootstrappers:kubeadm:default-node-token", "system:authenticated"}}
	if !ok || err != nil || !reflect.DeepEqual(u, want) {
		t.Fatalf("AuthenticateToken = %+v %v %v", u, ok, err)
	}
	for name, mod := range map[string]func(s *corev1.Secret){
		"wrong secret":  func(s *corev1.Secret) { s.Data["token-secret"] = []byte("fedcba9876543210") },
		"wrong id":      func(s *corev1.Secret) { s.Data["token-id"] = []byte("zzzzzz") },
		"wrong type":    func(s *corev1.Secret) { s.Type = corev1.SecretTypeOpaque },
		"not for authn": func(s *corev1.Secret) { delete(s.Data, "usage-bootstrap-authentication") },
		"expired": func(s *corev1.Secret) {
			s.Data["expiration"] = []byte(bootstrapNow.Add(-time.Second).Format(time.RFC3339))
		},
		"bad expiration":    func(s *corev1.Secret) { s.Data["expiration"] = []byte("tomorrow") },
		"bad extra group":   func(s *corev1.Secret) { s.Data["auth-extra-groups"] = []byte("system:masters") },
		"being deleted":     func(s *corev1.Secret) { s.DeletionTimestamp = &metav1.Time{Time: bootstrapNow} },
		"other namespace":   func(s *corev1.Secret) { s.Namespace = "default" },
		"no data":           func(s *corev1.Secret) { s.Data = nil },
		"other secret name": func(s *corev1.Secret) { s.Name = "bootstrap-token-zzzzzz" },
	} {
		s := bootstrapSecret()
		mod(s)
		if u, ok, err := bootstrapAuth(s, nil).AuthenticateToken(context.Background(), token); ok || u != nil || err != nil {
			t.Errorf("%s: %+v %v %v, want not recognized", name, u, ok, err)
		}
	}
	// No expiration: valid forever.
	s := bootstrapSecret()
	delete(s.Data, "expiration")
	delete(s.Data, "auth-extra-groups")
	if u, ok, _ := bootstrapAuth(s, nil).AuthenticateToken(context.Background(), token); !ok ||
		!reflect.DeepEqual(u.Groups, []string{"system:bootstrappers", "system:authenticated"}) {
		t.Errorf("no expiration: %+v %v", u, ok)
	}
	for _, tok := range []string{"abcdef0123456789abcdef", "ABCDEF.0123456789abcdef", "abcdef.0123456789abcde", "x"} {
		if _, ok, err := bootstrapAuth(bootstrapSecret(), nil).AuthenticateToken(context.Background(), tok); ok || err != nil {
			t.Errorf("%q: ok=%v err=%v", tok, ok, err)
		}
	}
	if _, ok, err := bootstrapAuth(nil, errors.New("etcd down")).AuthenticateToken(context.Background(), token); ok || err == nil {
		t.Errorf("lookup failure: ok=%v err=%v", ok, err)
	}
}
