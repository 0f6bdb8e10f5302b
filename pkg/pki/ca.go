package pki

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"fmt"
	"math/big"
	"net"
	"os"
	"time"
)

// Options tune how a CA makes keys and dates certificates.
type Options struct {
	// KeyAlgorithm is the type of every key generated; zero means ECDSAP256.
	KeyAlgorithm KeyAlgorithm
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

func (o Options) now() time.Time {
	if o.Now != nil {
		return o.Now()
	}
	return time.Now()
}

// CA is a certificate authority: a self-signed CA certificate with its key.
// Issue may be called from several goroutines at once.
type CA struct {
	KeyPair
	opts Options
}

// NewCA generates a key and a self-signed CA certificate named cn, valid for
// CAValidity.
func NewCA(cn string, opts Options) (*CA, error) {
	if cn == "" {
		return nil, errors.New("new ca: common name is empty")
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
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: cn},
		NotBefore:             now.Add(-Backdate),
		NotAfter:              now.Add(CAValidity),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment | x509.KeyUsageCertSign,
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		return nil, fmt.Errorf("create ca certificate %q: %w", cn, err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, fmt.Errorf("parse ca certificate %q: %w", cn, err)
	}
	kp, err := newKeyPair(cert, key)
	if err != nil {
		return nil, err
	}
	return &CA{KeyPair: *kp, opts: opts}, nil
}

// ParseCA rebuilds a CA from the PEM of its certificate and key (ca.crt and
// ca.key). The certificate must be a CA and match the key.
func ParseCA(certPEM, keyPEM []byte, opts Options) (*CA, error) {
	kp, err := ParseKeyPair(certPEM, keyPEM)
	if err != nil {
		return nil, fmt.Errorf("parse ca: %w", err)
	}
	if !kp.Cert.IsCA {
		return nil, fmt.Errorf("parse ca: certificate %q is not a ca", kp.Cert.Subject.CommonName)
	}
	return &CA{KeyPair: *kp, opts: opts}, nil
}

// LoadCA reads a CA from a certificate file and a key file.
func LoadCA(certFile, keyFile string, opts Options) (*CA, error) {
	certPEM, err := os.ReadFile(certFile)
	if err != nil {
		return nil, fmt.Errorf("load ca: %w", err)
	}
	keyPEM, err := os.ReadFile(keyFile)
	if err != nil {
		return nil, fmt.Errorf("load ca: %w", err)
	}
	return ParseCA(certPEM, keyPEM, opts)
}

// Pool returns a new pool holding only the CA certificate.
func (ca *CA) Pool() *x509.CertPool {
	p := x509.NewCertPool()
	p.AddCert(ca.Cert)
	return p
}

// Issue generates a key and a certificate for spec, signed by the CA.
func (ca *CA) Issue(spec CertSpec) (*KeyPair, error) {
	if spec.CommonName == "" {
		return nil, errors.New("issue certificate: common name is empty")
	}
	if len(spec.Usages) == 0 {
		return nil, fmt.Errorf("issue certificate %q: no extended key usage", spec.CommonName)
	}
	key, err := GenerateKey(ca.opts.KeyAlgorithm)
	if err != nil {
		return nil, err
	}
	return ca.sign(spec, key)
}

// Renew issues a new certificate for an existing key pair: the same key,
// subject, DNS names and usages, the IP SANs ips (kubeadm's "certs renew"
// also keeps the key). A node whose IP changed renews its serving
// certificates this way. The new certificate is valid for LeafValidity.
func (ca *CA) Renew(kp *KeyPair, ips []net.IP) (*KeyPair, error) {
	if kp == nil || kp.Cert == nil || kp.Key == nil {
		return nil, errors.New("renew certificate: no key pair")
	}
	c := kp.Cert
	spec := CertSpec{
		CommonName:   c.Subject.CommonName,
		Organization: c.Subject.Organization,
		DNSNames:     c.DNSNames,
		IPs:          ips,
		Usages:       c.ExtKeyUsage,
	}
	if spec.CommonName == "" {
		return nil, errors.New("renew certificate: common name is empty")
	}
	if len(spec.Usages) == 0 {
		return nil, fmt.Errorf("renew certificate %q: no extended key usage", spec.CommonName)
	}
	return ca.sign(spec, kp.Key)
}

// sign issues a certificate for spec over key's public half.
func (ca *CA) sign(spec CertSpec, key crypto.Signer) (*KeyPair, error) {
	serial, err := newSerial()
	if err != nil {
		return nil, err
	}
	validity := spec.Validity
	if validity <= 0 {
		validity = LeafValidity
	}
	keyUsage := x509.KeyUsageDigitalSignature
	if _, isRSA := key.(*rsa.PrivateKey); isRSA {
		keyUsage |= x509.KeyUsageKeyEncipherment
	}
	now := ca.opts.now().UTC()
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: spec.CommonName, Organization: spec.Organization},
		DNSNames:              dedupStrings(spec.DNSNames),
		IPAddresses:           dedupIPs(spec.IPs),
		NotBefore:             now.Add(-Backdate),
		NotAfter:              now.Add(validity),
		KeyUsage:              keyUsage,
		ExtKeyUsage:           spec.Usages,
		BasicConstraintsValid: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.Cert, key.Public(), ca.Key)
	if err != nil {
		return nil, fmt.Errorf("create certificate %q: %w", spec.CommonName, err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, fmt.Errorf("parse certificate %q: %w", spec.CommonName, err)
	}
	return newKeyPair(cert, key)
}

// Verify checks that cert chains to the CA for the given usage.
func (ca *CA) Verify(cert *x509.Certificate, usage x509.ExtKeyUsage) error {
	_, err := cert.Verify(x509.VerifyOptions{
		Roots:       ca.Pool(),
		CurrentTime: ca.opts.now(),
		KeyUsages:   []x509.ExtKeyUsage{usage},
	})
	if err != nil {
		return fmt.Errorf("verify %q against ca %q: %w", cert.Subject.CommonName, ca.Cert.Subject.CommonName, err)
	}
	return nil
}

// newSerial returns a random positive 128-bit serial number.
func newSerial() (*big.Int, error) {
	limit := new(big.Int).Lsh(big.NewInt(1), 128)
	n, err := rand.Int(rand.Reader, limit)
	if err != nil {
		return nil, fmt.Errorf("generate serial number: %w", err)
	}
	return n.Add(n, big.NewInt(1)), nil
}

// signerMatches reports whether key is the private half of pub.
func signerMatches(key crypto.Signer, pub crypto.PublicKey) bool {
	type equaler interface{ Equal(crypto.PublicKey) bool }
	e, ok := key.Public().(equaler)
	return ok && e.Equal(pub)
}
