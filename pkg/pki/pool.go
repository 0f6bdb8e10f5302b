package pki

import (
	"crypto/x509"
	"fmt"
	"os"
)

// CertPoolFromPEM returns a new pool holding every certificate in data
// (other PEM blocks are skipped). Data without any certificate, or with
// a certificate that does not parse, is an error: an empty pool would
// trust nothing and fail later with a less helpful message.
func CertPoolFromPEM(data []byte) (*x509.CertPool, error) {
	certs, err := ParseCertsPEM(data)
	if err != nil {
		return nil, err
	}
	pool := x509.NewCertPool()
	for _, c := range certs {
		pool.AddCert(c)
	}
	return pool, nil
}

// CertPoolFromFile is CertPoolFromPEM of a file's contents; errors name
// the file.
func CertPoolFromFile(path string) (*x509.CertPool, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read CA bundle: %w", err)
	}
	pool, err := CertPoolFromPEM(data)
	if err != nil {
		return nil, fmt.Errorf("CA bundle %s: %w", path, err)
	}
	return pool, nil
}
