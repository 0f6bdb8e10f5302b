package pki

import (
	"crypto/x509"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestCertPoolFromPEM(t *testing.T) {
	t.Parallel()
	a, err := NewCA("a", Options{})
	if err != nil {
		t.Fatal(err)
	}
	b, err := NewCA("b", Options{})
	if err != nil {
		t.Fatal(err)
	}
	leafA, err := a.Issue(ServerSpec("x", []string{"x"}, nil))
	if err != nil {
		t.Fatal(err)
	}
	leafB, err := b.Issue(ServerSpec("x", []string{"x"}, nil))
	if err != nil {
		t.Fatal(err)
	}
	// A bundle with a key block between the certificates trusts both CAs.
	bundle := append(append(append([]byte(nil), a.CertPEM...), a.KeyPEM...), b.CertPEM...)
	pool, err := CertPoolFromPEM(bundle)
	if err != nil {
		t.Fatal(err)
	}
	for _, leaf := range []*KeyPair{leafA, leafB} {
		if _, err := leaf.Cert.Verify(x509.VerifyOptions{Roots: pool, DNSName: "x"}); err != nil {
			t.Errorf("bundle does not trust %s: %v", leaf.Cert.Issuer.CommonName, err)
		}
	}
	onlyA, err := CertPoolFromPEM(a.CertPEM)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := leafB.Cert.Verify(x509.VerifyOptions{Roots: onlyA, DNSName: "x"}); err == nil {
		t.Error("pool of a trusts b's leaf")
	}
	for _, bad := range [][]byte{nil, []byte("not pem"), a.KeyPEM,
		[]byte("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n")} {
		if _, err := CertPoolFromPEM(bad); err == nil {
			t.Errorf("CertPoolFromPEM(%.20q) succeeded", bad)
		}
	}
}

func TestCertPoolFromFile(t *testing.T) {
	t.Parallel()
	ca, err := NewCA("a", Options{})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	good, empty := filepath.Join(dir, "ca.crt"), filepath.Join(dir, "empty.crt")
	if err := os.WriteFile(good, ca.CertPEM, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(empty, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := CertPoolFromFile(good); err != nil {
		t.Error(err)
	}
	if _, err := CertPoolFromFile(empty); err == nil || !strings.Contains(err.Error(), empty) {
		t.Errorf("empty bundle: %v", err)
	}
	if _, err := CertPoolFromFile(filepath.Join(dir, "absent.crt")); err == nil || !strings.Contains(err.Error(), "absent.crt") {
		t.Errorf("absent bundle: %v", err)
	}
}
