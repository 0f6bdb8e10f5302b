package pki

import (
	"crypto/tls"
	"crypto/x509"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestSelfSignedServing(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	kp, err := SelfSignedServing(Options{Now: func() time.Time { return now }}, "127.0.0.1", "localhost", "localhost")
	if err != nil {
		t.Fatal(err)
	}
	c := kp.Cert
	if c.Subject.CommonName != "localhost@1767323045" {
		t.Errorf("common name %q", c.Subject.CommonName)
	}
	if len(c.DNSNames) != 1 || c.DNSNames[0] != "localhost" || len(c.IPAddresses) != 1 || !c.IPAddresses[0].Equal(net.ParseIP("127.0.0.1")) {
		t.Errorf("SANs %v %v", c.DNSNames, c.IPAddresses)
	}
	if !c.NotBefore.Equal(now.Add(-Backdate)) || !c.NotAfter.Equal(now.Add(LeafValidity)) {
		t.Errorf("validity %v – %v", c.NotBefore, c.NotAfter)
	}
	if len(c.ExtKeyUsage) != 1 || c.ExtKeyUsage[0] != x509.ExtKeyUsageServerAuth {
		t.Errorf("usages %v", c.ExtKeyUsage)
	}
	// It verifies against itself as the only root, for both names.
	for _, name := range []string{"localhost", "127.0.0.1"} {
		if _, err := c.Verify(x509.VerifyOptions{Roots: mustPool(t, kp.CertPEM), DNSName: name, CurrentTime: now}); err != nil {
			t.Errorf("verify for %s: %v", name, err)
		}
	}
	if _, err := SelfSignedServing(Options{}); err == nil {
		t.Error("no host accepted")
	}
	if _, err := SelfSignedServing(Options{}, ""); err == nil {
		t.Error("an empty host accepted")
	}
}

// TestSelfSignedServingHandshake: a client trusting the certificate's own
// PEM completes a real TLS handshake with a server using it.
func TestSelfSignedServingHandshake(t *testing.T) {
	t.Parallel()
	kp, err := SelfSignedServing(Options{}, "localhost", "127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, "hi") }))
	srv.TLS = &tls.Config{Certificates: []tls.Certificate{kp.TLSCertificate()}}
	srv.StartTLS()
	defer srv.Close()
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: mustPool(t, kp.CertPEM)}}}
	resp, err := client.Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	other, err := SelfSignedServing(Options{}, "localhost")
	if err != nil {
		t.Fatal(err)
	}
	client = &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: mustPool(t, other.CertPEM)}}}
	if resp, err := client.Get(srv.URL); err == nil {
		resp.Body.Close()
		t.Error("a client trusting another self-signed certificate connected")
	}
}

func TestLoadOrCreateSelfSigned(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "pki")
	crt, key := filepath.Join(dir, "kubelet.crt"), filepath.Join(dir, "kubelet.key")
	first, err := LoadOrCreateSelfSigned(crt, key, Options{}, "node-a")
	if err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(key); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("key file: %v %v", fi, err)
	}
	if fi, err := os.Stat(dir); err != nil || fi.Mode().Perm() != 0o700 {
		t.Errorf("dir: %v %v", fi, err)
	}
	// A second call keeps the same pair.
	again, err := LoadOrCreateSelfSigned(crt, key, Options{}, "node-b")
	if err != nil {
		t.Fatal(err)
	}
	if !again.Cert.Equal(first.Cert) || again.Cert.DNSNames[0] != "node-a" {
		t.Errorf("pair replaced: %v", again.Cert.DNSNames)
	}
	// A missing half makes a new pair.
	if err := os.Remove(key); err != nil {
		t.Fatal(err)
	}
	fresh, err := LoadOrCreateSelfSigned(crt, key, Options{}, "node-b")
	if err != nil {
		t.Fatal(err)
	}
	if fresh.Cert.Equal(first.Cert) || fresh.Cert.DNSNames[0] != "node-b" {
		t.Errorf("no new pair: %v", fresh.Cert.DNSNames)
	}
	// A corrupt pair is an error naming it, and is left alone.
	if err := os.WriteFile(crt, []byte("garbage"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadOrCreateSelfSigned(crt, key, Options{}, "node-b"); err == nil || !strings.Contains(err.Error(), crt) {
		t.Errorf("corrupt pair: %v", err)
	}
	if b, _ := os.ReadFile(crt); string(b) != "garbage" {
		t.Error("corrupt pair overwritten")
	}
}

func mustPool(t *testing.T, pemData []byte) *x509.CertPool {
	t.Helper()
	p, err := CertPoolFromPEM(pemData)
	if err != nil {
		t.Fatal(err)
	}
	return p
}
