package pki

import (
	"crypto/x509"
	"net"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"
)

var testNow = time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)

func testOptions(alg KeyAlgorithm) Options {
	return Options{KeyAlgorithm: alg, Now: func() time.Time { return testNow }}
}

func TestNewCA(t *testing.T) {
	ca, err := NewCA("kubernetes", testOptions(""))
	if err != nil {
		t.Fatal(err)
	}
	c := ca.Cert
	if !c.IsCA || !c.BasicConstraintsValid || c.KeyUsage&x509.KeyUsageCertSign == 0 {
		t.Fatalf("not a CA: IsCA=%v usage=%v", c.IsCA, c.KeyUsage)
	}
	if c.Subject.CommonName != "kubernetes" {
		t.Fatalf("CN = %q", c.Subject.CommonName)
	}
	if want := testNow.Add(CAValidity); !c.NotAfter.Equal(want) {
		t.Fatalf("NotAfter = %v, want %v", c.NotAfter, want)
	}
	if want := testNow.Add(-Backdate); !c.NotBefore.Equal(want) {
		t.Fatalf("NotBefore = %v, want %v", c.NotBefore, want)
	}
	if err := c.CheckSignatureFrom(c); err != nil {
		t.Fatalf("not self-signed: %v", err)
	}
	if _, err := NewCA("", testOptions("")); err == nil {
		t.Fatal("want error for empty CN")
	}
}

func TestParseCA(t *testing.T) {
	ca, err := NewCA("etcd-ca", testOptions(""))
	if err != nil {
		t.Fatal(err)
	}
	other, err := NewCA("other", testOptions(""))
	if err != nil {
		t.Fatal(err)
	}
	leaf, err := ca.Issue(ClientSpec("someone"))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name           string
		cert, key      []byte
		wantErr        bool
		wantCommonName string
	}{
		{"round trip", ca.CertPEM, ca.KeyPEM, false, "etcd-ca"},
		{"mismatched key", ca.CertPEM, other.KeyPEM, true, ""},
		{"leaf is not a ca", leaf.CertPEM, leaf.KeyPEM, true, ""},
		{"garbage cert", []byte("x"), ca.KeyPEM, true, ""},
		{"garbage key", ca.CertPEM, []byte("x"), true, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseCA(tt.cert, tt.key, testOptions(""))
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, wantErr %v", err, tt.wantErr)
			}
			if err == nil && got.Cert.Subject.CommonName != tt.wantCommonName {
				t.Fatalf("CN = %q", got.Cert.Subject.CommonName)
			}
		})
	}
}

func TestLoadCAIssuesVerifiableCerts(t *testing.T) {
	ca, err := NewCA("kubernetes", testOptions(""))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	certFile, keyFile := filepath.Join(dir, "ca.crt"), filepath.Join(dir, "ca.key")
	if err := os.WriteFile(certFile, ca.CertPEM, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, ca.KeyPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	loaded, err := LoadCA(certFile, keyFile, testOptions(""))
	if err != nil {
		t.Fatal(err)
	}
	kp, err := loaded.Issue(ServerSpec("x", []string{"x"}, nil))
	if err != nil {
		t.Fatal(err)
	}
	if err := ca.Verify(kp.Cert, x509.ExtKeyUsageServerAuth); err != nil {
		t.Fatalf("cert from loaded CA does not verify against original: %v", err)
	}
	if _, err := LoadCA(filepath.Join(dir, "missing"), keyFile, testOptions("")); err == nil {
		t.Fatal("want error for missing file")
	}
}

func TestIssue(t *testing.T) {
	for _, alg := range []KeyAlgorithm{ECDSAP256, RSA2048} {
		ca, err := NewCA("kubernetes", testOptions(alg))
		if err != nil {
			t.Fatal(err)
		}
		tests := []struct {
			name      string
			spec      CertSpec
			usage     x509.ExtKeyUsage
			wrongUse  x509.ExtKeyUsage
			wantDNS   []string
			wantIPs   []string
			wantValid time.Duration
		}{
			{
				name:      "server dedups SANs",
				spec:      ServerSpec("srv", []string{"a", "b", "a", ""}, []net.IP{net.ParseIP("10.0.0.1"), net.ParseIP("10.0.0.1"), nil}),
				usage:     x509.ExtKeyUsageServerAuth,
				wrongUse:  x509.ExtKeyUsageClientAuth,
				wantDNS:   []string{"a", "b"},
				wantIPs:   []string{"10.0.0.1"},
				wantValid: LeafValidity,
			},
			{
				name:      "client with groups and custom validity",
				spec:      CertSpec{CommonName: "u", Organization: []string{"g1", "g2"}, Usages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}, Validity: time.Hour},
				usage:     x509.ExtKeyUsageClientAuth,
				wrongUse:  x509.ExtKeyUsageServerAuth,
				wantValid: time.Hour,
			},
		}
		for _, tt := range tests {
			t.Run(string(alg)+"/"+tt.name, func(t *testing.T) {
				kp, err := ca.Issue(tt.spec)
				if err != nil {
					t.Fatal(err)
				}
				c := kp.Cert
				if err := ca.Verify(c, tt.usage); err != nil {
					t.Fatal(err)
				}
				if err := ca.Verify(c, tt.wrongUse); err == nil {
					t.Fatalf("verified for usage %v it does not have", tt.wrongUse)
				}
				if c.IsCA {
					t.Fatal("leaf is a CA")
				}
				if c.Subject.CommonName != tt.spec.CommonName || !slices.Equal(c.Subject.Organization, tt.spec.Organization) {
					t.Fatalf("subject = %v", c.Subject)
				}
				if !slices.Equal(c.DNSNames, tt.wantDNS) {
					t.Fatalf("DNS = %v, want %v", c.DNSNames, tt.wantDNS)
				}
				if got := ipStrings(c.IPAddresses); !slices.Equal(got, tt.wantIPs) {
					t.Fatalf("IPs = %v, want %v", got, tt.wantIPs)
				}
				if got := c.NotAfter.Sub(testNow); got != tt.wantValid {
					t.Fatalf("validity = %v, want %v", got, tt.wantValid)
				}
				hasKE := c.KeyUsage&x509.KeyUsageKeyEncipherment != 0
				if hasKE != (alg == RSA2048) || c.KeyUsage&x509.KeyUsageDigitalSignature == 0 {
					t.Fatalf("key usage %v for %s", c.KeyUsage, alg)
				}
				if _, err := ParseKeyPair(kp.CertPEM, kp.KeyPEM); err != nil {
					t.Fatalf("PEM does not parse back: %v", err)
				}
			})
		}
	}
}

func TestIssueRejectsIncompleteSpec(t *testing.T) {
	ca, err := NewCA("kubernetes", testOptions(""))
	if err != nil {
		t.Fatal(err)
	}
	for name, spec := range map[string]CertSpec{
		"no common name": {Usages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}},
		"no usage":       {CommonName: "x"},
	} {
		if _, err := ca.Issue(spec); err == nil {
			t.Errorf("%s: want error", name)
		}
	}
}

func ipStrings(ips []net.IP) []string {
	var out []string
	for _, ip := range ips {
		out = append(out, ip.String())
	}
	return out
}

func TestRenewKeepsKeyNamesAndUsages(t *testing.T) {
	ca, err := NewCA("kubernetes", testOptions(""))
	if err != nil {
		t.Fatal(err)
	}
	old, err := ca.Issue(CertSpec{CommonName: "kube-apiserver", Organization: []string{"o"},
		DNSNames: []string{"node", "kubernetes"}, IPs: []net.IP{net.ParseIP("172.18.0.2"), net.ParseIP("10.96.0.1")},
		Usages: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth}})
	if err != nil {
		t.Fatal(err)
	}
	ips := []net.IP{net.ParseIP("172.18.0.9"), net.ParseIP("10.96.0.1")}
	renewed, err := ca.Renew(old, ips)
	if err != nil {
		t.Fatal(err)
	}
	c := renewed.Cert
	if !signerMatches(old.Key, c.PublicKey) || string(renewed.KeyPEM) != string(old.KeyPEM) {
		t.Error("the renewed certificate has a new key")
	}
	if c.SerialNumber.Cmp(old.Cert.SerialNumber) == 0 {
		t.Error("serial number reused")
	}
	if c.Subject.CommonName != "kube-apiserver" || !slices.Equal(c.Subject.Organization, []string{"o"}) ||
		!slices.Equal(c.DNSNames, old.Cert.DNSNames) || !slices.Equal(c.ExtKeyUsage, old.Cert.ExtKeyUsage) {
		t.Errorf("subject/names/usages changed: %v %v %v", c.Subject, c.DNSNames, c.ExtKeyUsage)
	}
	if len(c.IPAddresses) != 2 || !c.IPAddresses[0].Equal(ips[0]) || !c.IPAddresses[1].Equal(ips[1]) {
		t.Errorf("IPs = %v, want %v", c.IPAddresses, ips)
	}
	if err := ca.Verify(c, x509.ExtKeyUsageServerAuth); err != nil {
		t.Error(err)
	}
	if _, err := ca.Renew(nil, ips); err == nil {
		t.Error("renewing nothing must fail")
	}
	if _, err := ca.Renew(&KeyPair{Cert: &x509.Certificate{}, Key: old.Key}, ips); err == nil {
		t.Error("renewing a certificate without a common name must fail")
	}
}
