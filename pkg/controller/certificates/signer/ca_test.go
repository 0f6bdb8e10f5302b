package signer

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/kinc-dev/kinc/pkg/pki"
)

// TestFileCAReloads checks that a CA rewritten on disk is used from the
// next CurrentCA, and that a broken rewrite keeps the last good CA with an
// error.
func TestFileCAReloads(t *testing.T) {
	dir := t.TempDir()
	certFile, keyFile := filepath.Join(dir, "ca.crt"), filepath.Join(dir, "ca.key")
	write := func(ca *pki.CA) {
		t.Helper()
		if err := os.WriteFile(certFile, ca.CertPEM, 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(keyFile, ca.KeyPEM, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	first, err := pki.NewCA("first", pki.Options{})
	if err != nil {
		t.Fatal(err)
	}
	second, err := pki.NewCA("second", pki.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := NewFileCA(certFile, keyFile); err == nil {
		t.Fatal("NewFileCA of missing files succeeded")
	}
	write(first)
	f, err := NewFileCA(certFile, keyFile)
	if err != nil {
		t.Fatal(err)
	}
	write(second)
	if ca, err := f.CurrentCA(); err != nil || ca.Cert.Subject.CommonName != "second" {
		t.Fatalf("after rotation: %v, %v", ca, err)
	}
	if err := os.WriteFile(keyFile, first.KeyPEM, 0o600); err != nil { // mismatched pair
		t.Fatal(err)
	}
	if ca, err := f.CurrentCA(); err == nil || ca == nil || ca.Cert.Subject.CommonName != "second" {
		t.Fatalf("mismatched pair: %v, %v; want the last good CA and an error", ca, err)
	}
	if err := os.WriteFile(certFile, append(append([]byte{}, first.CertPEM...), second.CertPEM...), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := f.CurrentCA(); err == nil {
		t.Fatal("two certificates accepted")
	}
}
