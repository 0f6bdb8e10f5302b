package certificates_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"net"
	"net/url"
	"testing"

	certificatesv1 "k8s.io/api/certificates/v1"
	corev1 "k8s.io/api/core/v1"

	"github.com/kinc-dev/kinc/pkg/controller/certificates"
)

func request(t *testing.T, tmpl x509.CertificateRequest) *x509.CertificateRequest {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.CreateCertificateRequest(rand.Reader, &tmpl, key)
	if err != nil {
		t.Fatal(err)
	}
	req, err := certificates.ParseRequest(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE REQUEST", Bytes: der}))
	if err != nil {
		t.Fatal(err)
	}
	return req
}

const (
	ds = certificatesv1.UsageDigitalSignature
	ke = certificatesv1.UsageKeyEncipherment
	ca = certificatesv1.UsageClientAuth
	sa = certificatesv1.UsageServerAuth
)

func TestValidateKubeletClient(t *testing.T) {
	node := pkix.Name{CommonName: "system:node:worker", Organization: []string{"system:nodes"}}
	for _, tc := range []struct {
		name   string
		tmpl   x509.CertificateRequest
		usages []certificatesv1.KeyUsage
		want   string
	}{
		{"ecdsa usages", x509.CertificateRequest{Subject: node}, []certificatesv1.KeyUsage{ds, ca}, ""},
		{"rsa usages", x509.CertificateRequest{Subject: node}, []certificatesv1.KeyUsage{ke, ds, ca}, ""},
		{"extra group", x509.CertificateRequest{Subject: pkix.Name{CommonName: node.CommonName, Organization: []string{"system:nodes", "x"}}},
			[]certificatesv1.KeyUsage{ds, ca}, "subject organization is not system:nodes"},
		{"dns san", x509.CertificateRequest{Subject: node, DNSNames: []string{"worker"}}, []certificatesv1.KeyUsage{ds, ca}, "DNS subjectAltNames are not allowed"},
		{"ip san", x509.CertificateRequest{Subject: node, IPAddresses: []net.IP{net.ParseIP("10.0.0.1")}}, []certificatesv1.KeyUsage{ds, ca}, "IP subjectAltNames are not allowed"},
		{"email san", x509.CertificateRequest{Subject: node, EmailAddresses: []string{"a@b.c"}}, []certificatesv1.KeyUsage{ds, ca}, "Email subjectAltNames are not allowed"},
		{"not a node", x509.CertificateRequest{Subject: pkix.Name{CommonName: "bob", Organization: []string{"system:nodes"}}},
			[]certificatesv1.KeyUsage{ds, ca}, "subject common name does not begin with system:node:"},
		{"server auth", x509.CertificateRequest{Subject: node}, []certificatesv1.KeyUsage{ds, ca, sa},
			"usages did not match [client auth digital signature key encipherment]"},
		{"no digital signature", x509.CertificateRequest{Subject: node}, []certificatesv1.KeyUsage{ca},
			"usages did not match [client auth digital signature key encipherment]"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := certificates.ValidateKubeletClient(request(t, tc.tmpl), tc.usages)
			if got := errString(err); got != tc.want {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
}

func TestValidateKubeletServing(t *testing.T) {
	node := pkix.Name{CommonName: "system:node:worker", Organization: []string{"system:nodes"}}
	ip := []net.IP{net.ParseIP("172.18.0.3")}
	for _, tc := range []struct {
		name   string
		tmpl   x509.CertificateRequest
		usages []certificatesv1.KeyUsage
		want   string
	}{
		{"ip", x509.CertificateRequest{Subject: node, IPAddresses: ip}, []certificatesv1.KeyUsage{ds, sa}, ""},
		{"dns rsa", x509.CertificateRequest{Subject: node, DNSNames: []string{"worker"}}, []certificatesv1.KeyUsage{ds, ke, sa}, ""},
		{"no san", x509.CertificateRequest{Subject: node}, []certificatesv1.KeyUsage{ds, sa}, "DNS or IP subjectAltName is required"},
		{"uri san", x509.CertificateRequest{Subject: node, IPAddresses: ip, URIs: []*url.URL{{Scheme: "spiffe", Host: "x"}}},
			[]certificatesv1.KeyUsage{ds, sa}, "URI subjectAltNames are not allowed"},
		{"client auth", x509.CertificateRequest{Subject: node, IPAddresses: ip}, []certificatesv1.KeyUsage{ds, ca},
			"usages did not match [digital signature key encipherment server auth]"},
		{"no org", x509.CertificateRequest{Subject: pkix.Name{CommonName: node.CommonName}, IPAddresses: ip},
			[]certificatesv1.KeyUsage{ds, sa}, "subject organization is not system:nodes"},
		{"not a node", x509.CertificateRequest{Subject: pkix.Name{CommonName: "web", Organization: []string{"system:nodes"}}, IPAddresses: ip},
			[]certificatesv1.KeyUsage{ds, sa}, "subject common name does not begin with system:node:"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := certificates.ValidateKubeletServing(request(t, tc.tmpl), tc.usages)
			if got := errString(err); got != tc.want {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
}

func TestParseRequestRefusesOtherBlocks(t *testing.T) {
	for _, in := range [][]byte{nil, []byte("junk"), pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: []byte{1}})} {
		if _, err := certificates.ParseRequest(in); errString(err) != "PEM block type must be CERTIFICATE REQUEST" {
			t.Errorf("ParseRequest(%q) = %v", in, err)
		}
	}
}

func TestApprovalState(t *testing.T) {
	csr := func(conds ...certificatesv1.CertificateSigningRequestCondition) *certificatesv1.CertificateSigningRequest {
		return &certificatesv1.CertificateSigningRequest{Status: certificatesv1.CertificateSigningRequestStatus{Conditions: conds}}
	}
	approved := certificatesv1.CertificateSigningRequestCondition{Type: certificatesv1.CertificateApproved, Status: corev1.ConditionTrue}
	denied := certificatesv1.CertificateSigningRequestCondition{Type: certificatesv1.CertificateDenied, Status: corev1.ConditionTrue}
	failedEmpty := certificatesv1.CertificateSigningRequestCondition{Type: certificatesv1.CertificateFailed}
	failedFalse := certificatesv1.CertificateSigningRequestCondition{Type: certificatesv1.CertificateFailed, Status: corev1.ConditionFalse}
	if !certificates.IsApproved(csr(approved)) || certificates.IsApproved(csr(approved, denied)) || certificates.IsApproved(csr()) {
		t.Error("IsApproved: want true only for Approved without Denied")
	}
	if !certificates.HasTrueCondition(csr(failedEmpty), certificatesv1.CertificateFailed) ||
		certificates.HasTrueCondition(csr(failedFalse), certificatesv1.CertificateFailed) {
		t.Error("HasTrueCondition: an empty status counts as True, False does not")
	}
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}
