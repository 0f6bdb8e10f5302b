package certificatesigningrequest

import (
	"context"
	"strings"
	"testing"
	"time"

	certificatesv1 "k8s.io/api/certificates/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/validation/field"
	clocktesting "k8s.io/utils/clock/testing"
	"k8s.io/utils/ptr"

	"github.com/kinc-dev/kinc/pkg/apiserver/authn"
	. "github.com/kinc-dev/kinc/pkg/apiserver/registry/internal/regtest"
)

func TestCreateRecordsTheUser(t *testing.T) {
	c := newCSR(t)
	c.Spec.Username, c.Spec.Groups = "admin", []string{"system:masters"}
	c.Spec.Extra = map[string]certificatesv1.ExtraValue{"x": {"y"}}
	c.Status.Certificate = []byte("forged")
	ctx := userContext(&authn.User{Name: "system:bootstrap:abcdef", UID: "u-1", Groups: []string{"system:bootstrappers", "system:authenticated"}})
	s := NewStrategy()
	s.PrepareForCreate(ctx, c)
	Expect(t, s.Validate(ctx, c))
	if c.Spec.Username != "system:bootstrap:abcdef" || c.Spec.UID != "u-1" || strings.Join(c.Spec.Groups, ",") != "system:bootstrappers,system:authenticated" ||
		c.Spec.Extra != nil || c.Status.Certificate != nil {
		t.Errorf("spec %+v, status %+v", c.Spec, c.Status)
	}

	anon := newCSR(t)
	anon.Spec.Username = "admin"
	s.PrepareForCreate(context.Background(), anon)
	if anon.Spec.Username != "" || anon.Spec.Groups != nil {
		t.Errorf("without a user: %+v", anon.Spec)
	}
}

func TestValidate(t *testing.T) {
	tests := []struct {
		name   string
		mutate func(*csr)
		want   []Err
		detail string
	}{
		{"serving", func(c *csr) {
			c.Spec.SignerName = certificatesv1.KubeletServingSignerName
			c.Spec.Usages = []certificatesv1.KeyUsage{certificatesv1.UsageDigitalSignature, certificatesv1.UsageServerAuth}
			c.Spec.ExpirationSeconds = ptr.To[int32](600)
		}, nil, ""},
		{"custom signer", func(c *csr) { c.Spec.SignerName = "example.com/my-signer" }, nil, ""},
		{"not PEM", func(c *csr) { c.Spec.Request = []byte("hello") },
			[]Err{E(field.ErrorTypeInvalid, "spec.request")}, "PEM block type must be CERTIFICATE REQUEST"},
		{"a certificate, not a request", func(c *csr) { c.Spec.Request = certificatePEM(t) },
			[]Err{E(field.ErrorTypeInvalid, "spec.request")}, "PEM block type must be CERTIFICATE REQUEST"},
		{"garbage DER", func(c *csr) {
			c.Spec.Request = []byte("-----BEGIN CERTIFICATE REQUEST-----\nAAAA\n-----END CERTIFICATE REQUEST-----\n")
		},
			[]Err{E(field.ErrorTypeInvalid, "spec.request")}, ""},
		{"no usages", func(c *csr) { c.Spec.Usages = nil }, []Err{E(field.ErrorTypeRequired, "spec.usages")}, ""},
		{"unknown and duplicate usages", func(c *csr) {
			c.Spec.Usages = []certificatesv1.KeyUsage{"client auth", "flying", "client auth"}
		}, []Err{E(field.ErrorTypeNotSupported, "spec.usages[1]"), E(field.ErrorTypeDuplicate, "spec.usages[2]")}, ""},
		{"no signer", func(c *csr) { c.Spec.SignerName = "" }, []Err{E(field.ErrorTypeRequired, "spec.signerName")}, ""},
		{"legacy signer", func(c *csr) { c.Spec.SignerName = "kubernetes.io/legacy-unknown" },
			[]Err{E(field.ErrorTypeInvalid, "spec.signerName")}, "the legacy signerName is not allowed via this API version"},
		{"signer without path", func(c *csr) { c.Spec.SignerName = "example.com" },
			[]Err{E(field.ErrorTypeInvalid, "spec.signerName")}, "must be a fully qualified domain and path of the form 'example.com/signer-name'"},
		{"signer with a one-label domain", func(c *csr) { c.Spec.SignerName = "example/signer" },
			[]Err{E(field.ErrorTypeInvalid, "spec.signerName")}, "should be a domain with at least two segments separated by dots"},
		{"short expiration", func(c *csr) { c.Spec.ExpirationSeconds = ptr.To[int32](599) },
			[]Err{E(field.ErrorTypeInvalid, "spec.expirationSeconds")}, "may not specify a duration less than 600 seconds (10 minutes)"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := newCSR(t)
			tc.mutate(c)
			s := NewStrategy()
			s.PrepareForCreate(context.Background(), c)
			errs := s.Validate(context.Background(), c)
			Expect(t, errs, tc.want...)
			if tc.detail != "" && (len(errs) == 0 || errs[0].Detail != tc.detail) {
				t.Errorf("detail of %v, want %q", errs, tc.detail)
			}
		})
	}
}

// stored returns a created request, as the store keeps it.
func stored(t *testing.T) *csr {
	c := newCSR(t)
	ctx := userContext(&authn.User{Name: "system:node:kinc-worker", Groups: []string{"system:nodes"}})
	NewStrategy().PrepareForCreate(ctx, c)
	Expect(t, NewStrategy().Validate(ctx, c))
	return c
}

func condition(t certificatesv1.RequestConditionType, reason string) certificatesv1.CertificateSigningRequestCondition {
	return certificatesv1.CertificateSigningRequestCondition{Type: t, Status: corev1.ConditionTrue, Reason: reason}
}

func TestUpdateKeepsSpecAndStatus(t *testing.T) {
	old := stored(t)
	c := old.DeepCopy()
	c.Labels = map[string]string{"a": "b"}
	c.Spec.Usages = []certificatesv1.KeyUsage{certificatesv1.UsageServerAuth}
	c.Status.Conditions = []certificatesv1.CertificateSigningRequestCondition{condition(certificatesv1.CertificateApproved, "Self")}
	s := NewStrategy()
	s.PrepareForUpdate(context.Background(), c, old)
	Expect(t, s.ValidateUpdate(context.Background(), c, old))
	if len(c.Spec.Usages) != 2 || len(c.Status.Conditions) != 0 || c.Labels["a"] != "b" {
		t.Errorf("after update: labels %v, spec %+v, status %+v", c.Labels, c.Spec, c.Status)
	}
}

func TestApprovalAndStatus(t *testing.T) {
	now := time.Date(2026, 12, 6, 21, 0, 0, 0, time.UTC)
	sub := NewStatusStrategy(clocktesting.NewFakePassiveClock(now))
	approval := withApproval(context.Background())
	status := context.Background()
	write := func(ctx context.Context, old *csr, mutate func(*csr)) (*csr, field.ErrorList) {
		c := old.DeepCopy()
		mutate(c)
		sub.PrepareForUpdate(ctx, c, old)
		return c, sub.ValidateUpdate(ctx, c, old)
	}
	old := stored(t)
	cert := certificatePEM(t)

	// /approval adds Approved, stamped now; a certificate sent along is dropped.
	approved, errs := write(approval, old, func(c *csr) {
		c.Status.Conditions = append(c.Status.Conditions, condition(certificatesv1.CertificateApproved, "AutoApproved"))
		c.Status.Certificate = cert
		c.Spec.Usages = nil
	})
	Expect(t, errs)
	if len(approved.Status.Conditions) != 1 || !approved.Status.Conditions[0].LastUpdateTime.Time.Equal(now) ||
		!approved.Status.Conditions[0].LastTransitionTime.Time.Equal(now) || approved.Status.Certificate != nil || len(approved.Spec.Usages) != 2 {
		t.Errorf("after approval: %+v", approved.Status)
	}
	// /approval may not add Denied next to Approved, nor remove Approved.
	_, errs = write(approval, approved, func(c *csr) {
		c.Status.Conditions = append(c.Status.Conditions, condition(certificatesv1.CertificateDenied, "No"))
	})
	Expect(t, errs, E(field.ErrorTypeInvalid, "status.conditions"))
	_, errs = write(approval, approved, func(c *csr) { c.Status.Conditions = nil })
	Expect(t, errs, E(field.ErrorTypeForbidden, "status.conditions"))

	// /status may not approve: the stored Approved conditions stay, a new one is refused.
	_, errs = write(status, old, func(c *csr) {
		c.Status.Conditions = append(c.Status.Conditions, condition(certificatesv1.CertificateApproved, "Self"))
	})
	Expect(t, errs, E(field.ErrorTypeForbidden, "status.conditions"))
	kept, errs := write(status, approved, func(c *csr) { c.Status.Conditions[0].Reason = "Changed" })
	Expect(t, errs)
	if kept.Status.Conditions[0].Reason != "AutoApproved" {
		t.Errorf("/status changed the Approved condition: %+v", kept.Status.Conditions[0])
	}

	// /status sets the certificate once, and a Failed condition.
	issued, errs := write(status, approved, func(c *csr) { c.Status.Certificate = cert })
	Expect(t, errs)
	if string(issued.Status.Certificate) != string(cert) {
		t.Error("certificate not set")
	}
	_, errs = write(status, issued, func(c *csr) { c.Status.Certificate = certificatePEM(t) })
	Expect(t, errs, E(field.ErrorTypeForbidden, "status.certificate"))
	_, errs = write(status, approved, func(c *csr) { c.Status.Certificate = []byte("not a certificate") })
	Expect(t, errs, E(field.ErrorTypeInvalid, "status.certificate"))
	_, errs = write(status, approved, func(c *csr) {
		c.Status.Conditions = append(c.Status.Conditions, condition(certificatesv1.CertificateFailed, "SignerValidationFailure"))
	})
	Expect(t, errs)
	_, errs = write(approval, old, func(c *csr) {
		c.Status.Certificate = nil
		c.Status.Conditions = []certificatesv1.CertificateSigningRequestCondition{{Type: "Approved", Status: corev1.ConditionFalse}}
	})
	Expect(t, errs, E(field.ErrorTypeNotSupported, "status.conditions[0].status"))

	// A stored transition time is kept for a condition of the same type and status.
	earlier := metav1.NewTime(now.Add(-time.Hour))
	withTime := approved.DeepCopy()
	withTime.Status.Conditions = append(withTime.Status.Conditions, certificatesv1.CertificateSigningRequestCondition{
		Type: "Progress", Status: corev1.ConditionTrue, LastTransitionTime: earlier, LastUpdateTime: earlier})
	again, errs := write(status, withTime, func(c *csr) { c.Status.Conditions[1].LastTransitionTime = metav1.Time{} })
	Expect(t, errs)
	if !again.Status.Conditions[1].LastTransitionTime.Equal(&earlier) {
		t.Errorf("transition time %v, want %v", again.Status.Conditions[1].LastTransitionTime, earlier)
	}
}

func TestGetAttrs(t *testing.T) {
	_, f, err := GetAttrs(stored(t))
	if err != nil || f["spec.signerName"] != certificatesv1.KubeAPIServerClientKubeletSignerName || f["metadata.name"] != "csr-x2k9f" {
		t.Errorf("fields %v, %v", f, err)
	}
	if _, ok := f["metadata.namespace"]; ok {
		t.Error("a cluster-scoped kind has no metadata.namespace field")
	}
}
