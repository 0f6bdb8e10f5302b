package cleaner

import (
	"testing"
	"time"

	certificatesv1 "k8s.io/api/certificates/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/kinc-dev/kinc/pkg/controller/controllertest"
	"github.com/kinc-dev/kinc/pkg/pki"
)

// certificate returns a PEM certificate valid until notAfter.
func certificate(t *testing.T, notAfter time.Time) []byte {
	t.Helper()
	issuedAt := notAfter.Add(-time.Hour)
	ca, err := pki.NewCA("kubernetes", pki.Options{Now: func() time.Time { return issuedAt }})
	if err != nil {
		t.Fatal(err)
	}
	spec := pki.ClientSpec("system:node:worker", "system:nodes")
	spec.Validity = time.Hour
	kp, err := ca.Issue(spec)
	if err != nil {
		t.Fatal(err)
	}
	return kp.CertPEM
}

func TestCleansFinishedRequests(t *testing.T) {
	now := controllertest.Epoch()
	ago := func(d time.Duration) metav1.Time { return metav1.NewTime(now.Add(-d)) }
	cond := func(typ certificatesv1.RequestConditionType, at metav1.Time) certificatesv1.CertificateSigningRequestCondition {
		return certificatesv1.CertificateSigningRequestCondition{Type: typ, Status: corev1.ConditionTrue, LastUpdateTime: at}
	}
	for _, tc := range []struct {
		name    string
		created time.Duration
		conds   []certificatesv1.CertificateSigningRequestCondition
		cert    []byte
		deleted bool
	}{
		{"issued 61m ago", 2 * time.Hour, []certificatesv1.CertificateSigningRequestCondition{cond(certificatesv1.CertificateApproved, ago(61*time.Minute))}, certificate(t, now.Add(time.Hour)), true},
		{"issued 59m ago", 2 * time.Hour, []certificatesv1.CertificateSigningRequestCondition{cond(certificatesv1.CertificateApproved, ago(59*time.Minute))}, certificate(t, now.Add(time.Hour)), false},
		{"issued and expired", 2 * time.Hour, []certificatesv1.CertificateSigningRequestCondition{cond(certificatesv1.CertificateApproved, ago(time.Minute))}, certificate(t, now.Add(-time.Second)), true},
		{"denied 61m ago", 2 * time.Hour, []certificatesv1.CertificateSigningRequestCondition{cond(certificatesv1.CertificateDenied, ago(61*time.Minute))}, nil, true},
		{"denied 59m ago", 2 * time.Hour, []certificatesv1.CertificateSigningRequestCondition{cond(certificatesv1.CertificateDenied, ago(59*time.Minute))}, nil, false},
		{"failed 61m ago", 2 * time.Hour, []certificatesv1.CertificateSigningRequestCondition{cond(certificatesv1.CertificateApproved, ago(2*time.Hour)), cond(certificatesv1.CertificateFailed, ago(61*time.Minute))}, nil, true},
		{"pending 25h", 25 * time.Hour, nil, nil, true},
		{"pending 23h", 23 * time.Hour, nil, nil, false},
		{"approved unissued 25h", 26 * time.Hour, []certificatesv1.CertificateSigningRequestCondition{cond(certificatesv1.CertificateApproved, ago(25*time.Hour))}, nil, true},
		{"approved unissued 23h", 26 * time.Hour, []certificatesv1.CertificateSigningRequestCondition{cond(certificatesv1.CertificateApproved, ago(23*time.Hour))}, nil, false},
		{"approved without time", 26 * time.Hour, []certificatesv1.CertificateSigningRequestCondition{cond(certificatesv1.CertificateApproved, metav1.Time{})}, nil, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			csr := &certificatesv1.CertificateSigningRequest{
				ObjectMeta: metav1.ObjectMeta{Name: "csr", UID: types.UID("uid-csr"), CreationTimestamp: ago(tc.created)},
				Status:     certificatesv1.CertificateSigningRequestStatus{Conditions: tc.conds, Certificate: tc.cert},
			}
			f := controllertest.New(t, csr)
			c := New(f.Client, f.Informers.Certificates().V1().CertificateSigningRequests(), Options{Logger: f.Logger, Clock: f.Clock})
			f.MustSync(c.sync, "csr")
			if tc.deleted {
				f.ExpectActions(controllertest.Action{Verb: "delete", Resource: "certificatesigningrequests", Name: "csr"})
			} else {
				f.ExpectActions()
			}
		})
	}
}

// TestPassQueuesEveryRequest runs the cleaner: its first pass finds the
// old pending request and deletes it, and leaves the fresh one.
func TestPassQueuesEveryRequest(t *testing.T) {
	old := &certificatesv1.CertificateSigningRequest{ObjectMeta: metav1.ObjectMeta{Name: "old", UID: "uid-old",
		CreationTimestamp: metav1.NewTime(controllertest.Epoch().Add(-48 * time.Hour))}}
	fresh := &certificatesv1.CertificateSigningRequest{ObjectMeta: metav1.ObjectMeta{Name: "fresh", UID: "uid-fresh",
		CreationTimestamp: metav1.NewTime(controllertest.Epoch())}}
	f := controllertest.New(t, old, fresh)
	c := New(f.Client, f.Informers.Certificates().V1().CertificateSigningRequests(), Options{Logger: f.Logger, Clock: f.Clock})
	f.Start()
	done := make(chan error, 1)
	go func() { done <- c.Run(f.Ctx, 1) }()
	deadline := time.Now().Add(10 * time.Second)
	for len(f.Actions()) == 0 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	f.ExpectActions(controllertest.Action{Verb: "delete", Resource: "certificatesigningrequests", Name: "old"})
}
