package pki

import (
	"crypto"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"net"
	"time"
)

// Validity periods, as kubeadm uses them.
const (
	// CAValidity is the lifetime of a self-signed CA.
	CAValidity = 10 * 365 * 24 * time.Hour
	// LeafValidity is the default lifetime of an issued certificate.
	LeafValidity = 365 * 24 * time.Hour
	// Backdate is subtracted from "now" for NotBefore so that a node whose
	// clock runs slightly behind still accepts a fresh certificate.
	Backdate = 5 * time.Minute
)

// CertSpec describes a certificate to issue.
type CertSpec struct {
	// CommonName is the subject CN; Kubernetes reads it as the user name.
	CommonName string
	// Organization is the subject O; Kubernetes reads it as the groups.
	Organization []string
	// DNSNames and IPs are the subject alternative names. Duplicates are
	// dropped.
	DNSNames []string
	IPs      []net.IP
	// Usages are the extended key usages; at least one is required.
	Usages []x509.ExtKeyUsage
	// Validity is the lifetime; zero means LeafValidity.
	Validity time.Duration
}

// ServerSpec returns a spec for a TLS server certificate.
func ServerSpec(cn string, dnsNames []string, ips []net.IP) CertSpec {
	return CertSpec{CommonName: cn, DNSNames: dnsNames, IPs: ips,
		Usages: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
}

// ClientSpec returns a spec for a TLS client certificate authenticating as
// user cn in the given groups.
func ClientSpec(cn string, groups ...string) CertSpec {
	return CertSpec{CommonName: cn, Organization: groups,
		Usages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}
}

// KeyPair is a certificate with its private key, parsed and PEM encoded.
// Treat it as immutable.
type KeyPair struct {
	Cert    *x509.Certificate
	Key     crypto.Signer
	CertPEM []byte
	KeyPEM  []byte
}

// ParseKeyPair parses a PEM certificate (the first CERTIFICATE block) and a
// PEM private key, and checks that they belong together.
func ParseKeyPair(certPEM, keyPEM []byte) (*KeyPair, error) {
	cert, err := ParseCertPEM(certPEM)
	if err != nil {
		return nil, err
	}
	key, err := ParsePrivateKeyPEM(keyPEM)
	if err != nil {
		return nil, err
	}
	if !signerMatches(key, cert.PublicKey) {
		return nil, fmt.Errorf("certificate %q does not match its private key", cert.Subject.CommonName)
	}
	return newKeyPair(cert, key)
}

// newKeyPair fills the PEM fields for a freshly made certificate and key.
func newKeyPair(cert *x509.Certificate, key crypto.Signer) (*KeyPair, error) {
	keyPEM, err := EncodePrivateKeyPEM(key)
	if err != nil {
		return nil, err
	}
	return &KeyPair{Cert: cert, Key: key, CertPEM: EncodeCertPEM(cert), KeyPEM: keyPEM}, nil
}

// TLSCertificate returns the pair as a tls.Certificate for a server or
// client configuration.
func (kp *KeyPair) TLSCertificate() tls.Certificate {
	return tls.Certificate{Certificate: [][]byte{kp.Cert.Raw}, PrivateKey: kp.Key, Leaf: kp.Cert}
}

// EncodeCertPEM encodes a certificate as a "CERTIFICATE" PEM block.
func EncodeCertPEM(cert *x509.Certificate) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: CertificateBlockType, Bytes: cert.Raw})
}

// ParseCertPEM returns the first certificate in data.
func ParseCertPEM(data []byte) (*x509.Certificate, error) {
	certs, err := ParseCertsPEM(data)
	if err != nil {
		return nil, err
	}
	return certs[0], nil
}

// ParseCertsPEM returns every certificate in data, in order, skipping
// non-certificate blocks. It fails when there is none.
func ParseCertsPEM(data []byte) ([]*x509.Certificate, error) {
	var certs []*x509.Certificate
	for rest := data; ; {
		var block *pem.Block
		block, rest = pem.Decode(rest)
		if block == nil {
			break
		}
		if block.Type != CertificateBlockType {
			continue
		}
		c, err := x509.ParseCertificate(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("parse certificate: %w", err)
		}
		certs = append(certs, c)
	}
	if len(certs) == 0 {
		return nil, errors.New("parse certificate: no CERTIFICATE PEM block found")
	}
	return certs, nil
}

// dedupStrings returns s without empty strings and repeats, keeping order.
func dedupStrings(s []string) []string {
	seen := make(map[string]bool, len(s))
	out := make([]string, 0, len(s))
	for _, v := range s {
		if v == "" || seen[v] {
			continue
		}
		seen[v] = true
		out = append(out, v)
	}
	return out
}

// dedupIPs returns ips without nils and repeats, keeping order.
func dedupIPs(ips []net.IP) []net.IP {
	seen := make(map[string]bool, len(ips))
	out := make([]net.IP, 0, len(ips))
	for _, ip := range ips {
		if ip == nil || seen[ip.String()] {
			continue
		}
		seen[ip.String()] = true
		out = append(out, ip)
	}
	return out
}
