package pki

import (
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
)

// SelfSignedServing makes the serving certificate a daemon uses when it is
// given none, as upstream components do: a certificate signed by its own
// key, for hosts (DNS names or IP addresses; at least one), valid for
// LeafValidity from opts' clock, backdated by Backdate. Its common name is
// "<first DNS name, else first IP>@<unix seconds>" (upstream's form). It is
// marked as a CA so that a client may trust it by adding it to a pool, and
// carries the server-auth usage only.
func SelfSignedServing(opts Options, hosts ...string) (*KeyPair, error) {
	dns, ips := splitHostsIPs(hosts...)
	if len(dns) == 0 && len(ips) == 0 {
		return nil, errors.New("self-signed certificate: no host given")
	}
	key, err := GenerateKey(opts.KeyAlgorithm)
	if err != nil {
		return nil, err
	}
	serial, err := newSerial()
	if err != nil {
		return nil, err
	}
	now := opts.now().UTC()
	var first string
	if len(dns) > 0 {
		first = dns[0]
	} else {
		first = ips[0].String()
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: first + "@" + strconv.FormatInt(now.Unix(), 10)},
		NotBefore:             now.Add(-Backdate),
		NotAfter:              now.Add(LeafValidity),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
		DNSNames:              dedupStrings(dns),
		IPAddresses:           dedupIPs(ips),
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		return nil, fmt.Errorf("create self-signed certificate for %v: %w", hosts, err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, fmt.Errorf("parse self-signed certificate: %w", err)
	}
	return newKeyPair(cert, key)
}

// LoadOrCreateSelfSigned returns the pair in certFile and keyFile when
// both exist, and otherwise makes a SelfSignedServing pair for hosts and
// writes it there (directories 0700, the key 0600), so that a restarted
// daemon keeps serving the certificate its clients may have pinned. A pair
// that exists but does not parse, or whose halves do not match, is an
// error naming the files: it is never silently replaced.
func LoadOrCreateSelfSigned(certFile, keyFile string, opts Options, hosts ...string) (*KeyPair, error) {
	certPEM, certErr := os.ReadFile(certFile)
	keyPEM, keyErr := os.ReadFile(keyFile)
	switch {
	case certErr == nil && keyErr == nil:
		kp, err := ParseKeyPair(certPEM, keyPEM)
		if err != nil {
			return nil, fmt.Errorf("self-signed pair %s, %s: %w", certFile, keyFile, err)
		}
		return kp, nil
	case certErr != nil && !errors.Is(certErr, fs.ErrNotExist):
		return nil, certErr
	case keyErr != nil && !errors.Is(keyErr, fs.ErrNotExist):
		return nil, keyErr
	}
	kp, err := SelfSignedServing(opts, hosts...)
	if err != nil {
		return nil, err
	}
	for _, dir := range []string{filepath.Dir(certFile), filepath.Dir(keyFile)} {
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return nil, err
		}
	}
	if err := os.WriteFile(keyFile, kp.KeyPEM, 0o600); err != nil {
		return nil, err
	}
	if err := os.WriteFile(certFile, kp.CertPEM, 0o644); err != nil {
		return nil, err
	}
	return kp, nil
}
