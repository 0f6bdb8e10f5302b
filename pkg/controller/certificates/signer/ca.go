package signer

import (
	"bytes"
	"crypto"
	"crypto/x509"
	"fmt"
	"os"
	"sync"

	"github.com/kinc-dev/kinc/pkg/pki"
)

// CA is a signing certificate with its key.
type CA struct {
	Cert *x509.Certificate
	Key  crypto.Signer
}

// CAProvider gives the CA to sign with at the time of each signature, so
// that a CA rotated on disk is picked up. Safe for concurrent use.
type CAProvider interface {
	CurrentCA() (*CA, error)
}

// StaticCA is a CAProvider that never changes.
type StaticCA struct{ CA *CA }

// CurrentCA implements CAProvider.
func (s StaticCA) CurrentCA() (*CA, error) { return s.CA, nil }

// ParseCA parses a PEM CA certificate file's content (exactly one
// certificate, as upstream) and its PEM private key, checking that they
// match.
func ParseCA(certPEM, keyPEM []byte) (*CA, error) {
	certs, err := pki.ParseCertsPEM(certPEM)
	if err != nil {
		return nil, err
	}
	if len(certs) != 1 {
		return nil, fmt.Errorf("expected 1 certificate, found %d", len(certs))
	}
	kp, err := pki.ParseKeyPair(certPEM, keyPEM)
	if err != nil {
		return nil, err
	}
	return &CA{Cert: kp.Cert, Key: kp.Key}, nil
}

// FileCA is a CAProvider reading a certificate file and a key file, as
// upstream's signer does with --cluster-signing-cert-file and
// --cluster-signing-key-file: the files are read again at every
// CurrentCA (signing is rare and they are small) and parsed again when
// their content changed; when the new content does not parse, the last
// good CA is returned with the error.
type FileCA struct {
	certFile, keyFile string

	mu              sync.Mutex
	certPEM, keyPEM []byte
	ca              *CA
}

// NewFileCA loads the CA from certFile and keyFile; it fails when they
// cannot be read or do not hold a matching certificate and key.
func NewFileCA(certFile, keyFile string) (*FileCA, error) {
	f := &FileCA{certFile: certFile, keyFile: keyFile}
	if _, err := f.CurrentCA(); err != nil {
		return nil, err
	}
	return f, nil
}

// CurrentCA implements CAProvider.
func (f *FileCA) CurrentCA() (*CA, error) {
	certPEM, err := os.ReadFile(f.certFile)
	if err != nil {
		return f.last(fmt.Errorf("error reading CA cert file %q: %w", f.certFile, err))
	}
	keyPEM, err := os.ReadFile(f.keyFile)
	if err != nil {
		return f.last(fmt.Errorf("error reading CA key file %q: %w", f.keyFile, err))
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.ca != nil && bytes.Equal(certPEM, f.certPEM) && bytes.Equal(keyPEM, f.keyPEM) {
		return f.ca, nil
	}
	ca, err := ParseCA(certPEM, keyPEM)
	if err != nil {
		return f.ca, fmt.Errorf("error reading CA files %q and %q: %w", f.certFile, f.keyFile, err)
	}
	f.ca, f.certPEM, f.keyPEM = ca, certPEM, keyPEM
	return ca, nil
}

// last returns the last good CA with err.
func (f *FileCA) last(err error) (*CA, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.ca, err
}
