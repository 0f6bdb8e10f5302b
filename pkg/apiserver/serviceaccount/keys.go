package serviceaccount

import (
	"crypto"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"os"

	"github.com/kinc-dev/kinc/pkg/pki"
)

// ParsePublicKeys returns the verification keys in PEM data as upstream's
// --service-account-key-file reads it: every "PUBLIC KEY", "RSA PUBLIC KEY"
// and "CERTIFICATE" block, or, when there is none, the public half of the
// first private key. It fails when it finds no key, or a key that is
// neither RSA nor ECDSA.
func ParsePublicKeys(data []byte) ([]PublicKey, error) {
	var pubs []crypto.PublicKey
	for rest := data; ; {
		var block *pem.Block
		block, rest = pem.Decode(rest)
		if block == nil {
			break
		}
		var (
			k   any
			err error
		)
		switch block.Type {
		case pki.PublicKeyBlockType:
			k, err = x509.ParsePKIXPublicKey(block.Bytes)
		case "RSA PUBLIC KEY":
			k, err = x509.ParsePKCS1PublicKey(block.Bytes)
		case pki.CertificateBlockType:
			var c *x509.Certificate
			if c, err = x509.ParseCertificate(block.Bytes); err == nil {
				k = c.PublicKey
			}
		default:
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("parsing %q block: %w", block.Type, err)
		}
		pubs = append(pubs, k)
	}
	if len(pubs) == 0 {
		priv, err := pki.ParsePrivateKeyPEM(data)
		if err != nil {
			return nil, errors.New("no public or private key found")
		}
		pubs = append(pubs, priv.Public())
	}
	out := make([]PublicKey, 0, len(pubs))
	for _, p := range pubs {
		k, err := NewPublicKey(p)
		if err != nil {
			return nil, err
		}
		out = append(out, k)
	}
	return out, nil
}

// LoadPublicKeys reads every file of --service-account-key-file, in order.
func LoadPublicKeys(files []string) ([]PublicKey, error) {
	var out []PublicKey
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			return nil, err
		}
		keys, err := ParsePublicKeys(data)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", f, err)
		}
		out = append(out, keys...)
	}
	return out, nil
}

// LoadSigningKey reads --service-account-signing-key-file: a PEM RSA or
// ECDSA private key.
func LoadSigningKey(file string) (crypto.Signer, error) {
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, err
	}
	key, err := pki.ParsePrivateKeyPEM(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	if _, _, err := algorithm(key.Public()); err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	return key, nil
}
