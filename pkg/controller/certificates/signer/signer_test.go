package signer

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"net"
	"slices"
	"testing"
	"time"

	certificatesv1 "k8s.io/api/certificates/v1"
	certificatesv1beta1 "k8s.io/api/certificates/v1beta1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/ptr"

	"github.com/kinc-dev/kinc/pkg/controller/controllertest"
	"github.com/kinc-dev/kinc/pkg/pki"
)

const (
	ds = certificatesv1.UsageDigitalSignature
	ke = certificatesv1.UsageKeyEncipherment
	ca = certificatesv1.UsageClientAuth
	sa = certificatesv1.UsageServerAuth
)

var nodeSubject = pkix.Name{CommonName: "system:node:worker", Organization: []string{"system:nodes"}}

// requestPEM returns a PEM certificate request for tmpl on a new key.
func requestPEM(t *testing.T, tmpl x509.CertificateRequest) []byte {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.CreateCertificateRequest(rand.Reader, &tmpl, key)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE REQUEST", Bytes: der})
}

func newCSR(t *testing.T, name, signerName string, tmpl x509.CertificateRequest, usages ...certificatesv1.KeyUsage) *certificatesv1.CertificateSigningRequest {
	return &certificatesv1.CertificateSigningRequest{
		ObjectMeta: metav1.ObjectMeta{Name: name, UID: types.UID("uid-" + name)},
		Spec: certificatesv1.CertificateSigningRequestSpec{Request: requestPEM(t, tmpl), SignerName: signerName,
			Usages: usages, Username: "kubelet-bootstrap"},
	}
}

func withCondition(csr *certificatesv1.CertificateSigningRequest, t certificatesv1.RequestConditionType) *certificatesv1.CertificateSigningRequest {
	csr.Status.Conditions = append(csr.Status.Conditions, certificatesv1.CertificateSigningRequestCondition{Type: t, Status: corev1.ConditionTrue})
	return csr
}

func approved(csr *certificatesv1.CertificateSigningRequest) *certificatesv1.CertificateSigningRequest {
	return withCondition(csr, certificatesv1.CertificateApproved)
}

// setup returns a fixture over objects and a controller signing for every
// built-in signer with one CA dated from the fixture's clock.
func setup(t *testing.T, objects ...*certificatesv1.CertificateSigningRequest) (*controllertest.Fixture, *Controller, *pki.CA) {
	t.Helper()
	cluster, err := pki.NewCA("kubernetes", pki.Options{Now: controllertest.Epoch})
	if err != nil {
		t.Fatal(err)
	}
	var objs []runtime.Object
	for _, o := range objects {
		objs = append(objs, o)
	}
	f := controllertest.New(t, objs...)
	cas := map[string]CAProvider{}
	for _, name := range Signers() {
		cas[name] = StaticCA{CA: &CA{Cert: cluster.Cert, Key: cluster.Key}}
	}
	c, err := New(f.Client, f.Informers.Certificates().V1().CertificateSigningRequests(),
		Options{CAs: cas, Logger: f.Logger, Clock: f.Clock})
	if err != nil {
		t.Fatal(err)
	}
	return f, c, cluster
}

func statusUpdate(name string) controllertest.Action {
	return controllertest.Action{Verb: "update", Resource: "certificatesigningrequests", Subresource: "status", Name: name}
}

// issued returns the certificate the sync sent for name.
func issued(t *testing.T, f *controllertest.Fixture, name string) *x509.Certificate {
	t.Helper()
	csr := controllertest.Find[*certificatesv1.CertificateSigningRequest](f, statusUpdate(name))
	cert, err := pki.ParseCertPEM(csr.Status.Certificate)
	if err != nil {
		t.Fatalf("status.certificate of %s: %v", name, err)
	}
	return cert
}

func TestSignsApprovedKubeletClientRequest(t *testing.T) {
	csr := approved(newCSR(t, "node-csr-1", certificatesv1.KubeAPIServerClientKubeletSignerName, x509.CertificateRequest{Subject: nodeSubject}, ds, ke, ca))
	f, c, cluster := setup(t, csr)
	f.MustSync(c.sync, "node-csr-1")
	f.ExpectActions(statusUpdate("node-csr-1"))
	cert := issued(t, f, "node-csr-1")
	if _, err := cert.Verify(x509.VerifyOptions{Roots: cluster.Pool(), CurrentTime: f.Clock.Now(),
		KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}); err != nil {
		t.Fatalf("issued certificate does not verify: %v", err)
	}
	if cert.Subject.CommonName != "system:node:worker" || !slices.Equal(cert.Subject.Organization, []string{"system:nodes"}) {
		t.Errorf("subject %v", cert.Subject)
	}
	if cert.KeyUsage != x509.KeyUsageDigitalSignature|x509.KeyUsageKeyEncipherment || !slices.Equal(cert.ExtKeyUsage, []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}) || cert.IsCA {
		t.Errorf("usages %v %v, CA %v", cert.KeyUsage, cert.ExtKeyUsage, cert.IsCA)
	}
	now := f.Clock.Now()
	if !cert.NotBefore.Equal(now.Add(-5*time.Minute)) || !cert.NotAfter.Equal(now.Add(8760*time.Hour-5*time.Minute)) {
		t.Errorf("validity %s – %s, want a year backdated 5m from %s", cert.NotBefore, cert.NotAfter, now)
	}
}

func TestSignsKubeletServingWithRequestedSANs(t *testing.T) {
	ips := []net.IP{net.ParseIP("172.18.0.3").To4(), net.ParseIP("fc00:f853:ccd:e793::3")}
	csr := approved(newCSR(t, "csr-serving", certificatesv1.KubeletServingSignerName,
		x509.CertificateRequest{Subject: nodeSubject, DNSNames: []string{"worker"}, IPAddresses: ips}, ds, sa))
	csr.Spec.ExpirationSeconds = ptr.To[int32](3600)
	f, c, cluster := setup(t, csr)
	f.MustSync(c.sync, "csr-serving")
	cert := issued(t, f, "csr-serving")
	if err := cluster.Verify(cert, x509.ExtKeyUsageServerAuth); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(cert.DNSNames, []string{"worker"}) || len(cert.IPAddresses) != 2 || !cert.IPAddresses[0].Equal(ips[0]) || !cert.IPAddresses[1].Equal(ips[1]) {
		t.Errorf("SANs %v %v", cert.DNSNames, cert.IPAddresses)
	}
	if want := f.Clock.Now().Add(time.Hour); !cert.NotAfter.Equal(want) {
		t.Errorf("NotAfter %s, want %s (short-lived: not backdated)", cert.NotAfter, want)
	}
}

func TestValidationFailureSetsFailedCondition(t *testing.T) {
	for _, tc := range []struct {
		name, signer string
		tmpl         x509.CertificateRequest
		usages       []certificatesv1.KeyUsage
		message      string
	}{
		{"serving with client auth", certificatesv1.KubeletServingSignerName, x509.CertificateRequest{Subject: nodeSubject, IPAddresses: []net.IP{net.ParseIP("10.0.0.1")}},
			[]certificatesv1.KeyUsage{ds, ca}, "usages did not match [digital signature key encipherment server auth]"},
		{"serving without SAN", certificatesv1.KubeletServingSignerName, x509.CertificateRequest{Subject: nodeSubject},
			[]certificatesv1.KeyUsage{ds, sa}, "DNS or IP subjectAltName is required"},
		{"kubelet client not a node", certificatesv1.KubeAPIServerClientKubeletSignerName, x509.CertificateRequest{Subject: pkix.Name{CommonName: "bob", Organization: []string{"system:nodes"}}},
			[]certificatesv1.KeyUsage{ds, ca}, "subject common name does not begin with system:node:"},
		{"apiserver client server auth", certificatesv1.KubeAPIServerClientSignerName, x509.CertificateRequest{Subject: pkix.Name{CommonName: "bob"}},
			[]certificatesv1.KeyUsage{ds, ca, sa}, "invalid usage for client certificate: server auth"},
		{"apiserver client no client auth", certificatesv1.KubeAPIServerClientSignerName, x509.CertificateRequest{Subject: pkix.Name{CommonName: "bob"}},
			[]certificatesv1.KeyUsage{ds}, "missing required usage for client certificate: client auth"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f, c, _ := setup(t, approved(newCSR(t, "bad", tc.signer, tc.tmpl, tc.usages...)))
			f.MustSync(c.sync, "bad")
			f.ExpectActions(statusUpdate("bad"))
			got := controllertest.Find[*certificatesv1.CertificateSigningRequest](f, statusUpdate("bad"))
			if len(got.Status.Certificate) != 0 {
				t.Error("a certificate was issued")
			}
			want := certificatesv1.CertificateSigningRequestCondition{Type: certificatesv1.CertificateFailed, Status: corev1.ConditionTrue,
				Reason: "SignerValidationFailure", Message: tc.message, LastUpdateTime: metav1.NewTime(f.Clock.Now())}
			if n := len(got.Status.Conditions); n != 2 || got.Status.Conditions[1] != want {
				t.Errorf("conditions %+v, want Approved then %+v", got.Status.Conditions, want)
			}
		})
	}
}

func TestSignsAPIServerClientAndLegacyUnknown(t *testing.T) {
	client := approved(newCSR(t, "client", certificatesv1.KubeAPIServerClientSignerName,
		x509.CertificateRequest{Subject: pkix.Name{CommonName: "jane", Organization: []string{"devs"}}}, ca))
	legacy := approved(newCSR(t, "legacy", certificatesv1beta1.LegacyUnknownSignerName,
		x509.CertificateRequest{Subject: pkix.Name{CommonName: "anything"}, EmailAddresses: []string{"a@example.com"}},
		ds, certificatesv1.UsageCodeSigning, sa, ca))
	f, c, _ := setup(t, client, legacy)
	f.MustSync(c.sync, "client")
	f.MustSync(c.sync, "legacy")
	if cert := issued(t, f, "client"); cert.Subject.CommonName != "jane" || cert.KeyUsage != 0 {
		t.Errorf("client: %v, key usage %v", cert.Subject, cert.KeyUsage)
	}
	cert := issued(t, f, "legacy")
	if want := []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth, x509.ExtKeyUsageCodeSigning}; !slices.Equal(cert.ExtKeyUsage, want) {
		t.Errorf("legacy ext usages %v, want sorted %v", cert.ExtKeyUsage, want)
	}
}

func TestLeavesOtherRequestsAlone(t *testing.T) {
	tmpl := x509.CertificateRequest{Subject: nodeSubject}
	csrs := []*certificatesv1.CertificateSigningRequest{
		newCSR(t, "pending", certificatesv1.KubeAPIServerClientKubeletSignerName, tmpl, ds, ca),
		withCondition(approved(newCSR(t, "denied", certificatesv1.KubeAPIServerClientKubeletSignerName, tmpl, ds, ca)), certificatesv1.CertificateDenied),
		withCondition(approved(newCSR(t, "failed", certificatesv1.KubeAPIServerClientKubeletSignerName, tmpl, ds, ca)), certificatesv1.CertificateFailed),
		approved(newCSR(t, "other-signer", "example.com/signer", tmpl, ds, ca)),
	}
	done := approved(newCSR(t, "done", certificatesv1.KubeAPIServerClientKubeletSignerName, tmpl, ds, ca))
	done.Status.Certificate = []byte("issued")
	f, c, _ := setup(t, append(csrs, done)...)
	for _, key := range []string{"pending", "denied", "failed", "other-signer", "done", "gone"} {
		f.MustSync(c.sync, key)
	}
	f.ExpectActions()
}

func TestSignerWithoutCAIgnoresItsRequests(t *testing.T) {
	f := controllertest.New(t, approved(newCSR(t, "serving", certificatesv1.KubeletServingSignerName,
		x509.CertificateRequest{Subject: nodeSubject, DNSNames: []string{"worker"}}, ds, sa)))
	cluster, err := pki.NewCA("kubernetes", pki.Options{Now: controllertest.Epoch})
	if err != nil {
		t.Fatal(err)
	}
	c, err := New(f.Client, f.Informers.Certificates().V1().CertificateSigningRequests(), Options{
		CAs: map[string]CAProvider{certificatesv1.KubeAPIServerClientKubeletSignerName: StaticCA{CA: &CA{Cert: cluster.Cert, Key: cluster.Key}}}})
	if err != nil {
		t.Fatal(err)
	}
	f.MustSync(c.sync, "serving")
	f.ExpectActions()
	if _, err := New(f.Client, f.Informers.Certificates().V1().CertificateSigningRequests(), Options{
		CAs: map[string]CAProvider{"example.com/x": StaticCA{}}}); err == nil {
		t.Error("New accepted a CA for an unknown signer")
	}
}

func TestDuration(t *testing.T) {
	year := 8760 * time.Hour
	for _, tc := range []struct {
		seconds *int32
		want    time.Duration
	}{
		{nil, year},
		{ptr.To[int32](600), 10 * time.Minute},
		{ptr.To[int32](60), 10 * time.Minute},
		{ptr.To[int32](7200), 2 * time.Hour},
		{ptr.To[int32](2 * 31536000), year},
	} {
		if got := Duration(tc.seconds, year); got != tc.want {
			t.Errorf("Duration(%v) = %s, want %s", ptr.Deref(tc.seconds, -1), got, tc.want)
		}
	}
}
