package pki

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
)

// KeyAlgorithm selects the type of newly generated private keys.
type KeyAlgorithm string

const (
	// ECDSAP256 is an ECDSA key on the NIST P-256 curve. It is the default
	// (the zero KeyAlgorithm means ECDSAP256) because it is ~1000x faster to
	// generate than RSA 2048.
	ECDSAP256 KeyAlgorithm = "ECDSA-P256"
	// RSA2048 is a 2048-bit RSA key, kubeadm's default.
	RSA2048 KeyAlgorithm = "RSA-2048"
)

// PEM block types used by this package.
const (
	CertificateBlockType   = "CERTIFICATE"
	ECPrivateKeyBlockType  = "EC PRIVATE KEY"
	RSAPrivateKeyBlockType = "RSA PRIVATE KEY"
	PrivateKeyBlockType    = "PRIVATE KEY"
	PublicKeyBlockType     = "PUBLIC KEY"
)

// GenerateKey returns a new private key of the given algorithm. The zero
// KeyAlgorithm means ECDSAP256.
func GenerateKey(alg KeyAlgorithm) (crypto.Signer, error) {
	switch alg {
	case "", ECDSAP256:
		k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			return nil, fmt.Errorf("generate ecdsa key: %w", err)
		}
		return k, nil
	case RSA2048:
		k, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			return nil, fmt.Errorf("generate rsa key: %w", err)
		}
		return k, nil
	default:
		return nil, fmt.Errorf("unknown key algorithm %q", alg)
	}
}

// EncodePrivateKeyPEM encodes an ECDSA key as "EC PRIVATE KEY" and an RSA
// key as "RSA PRIVATE KEY"; any other key type as PKCS #8 "PRIVATE KEY".
func EncodePrivateKeyPEM(key crypto.Signer) ([]byte, error) {
	switch k := key.(type) {
	case *ecdsa.PrivateKey:
		der, err := x509.MarshalECPrivateKey(k)
		if err != nil {
			return nil, fmt.Errorf("marshal ecdsa key: %w", err)
		}
		return pem.EncodeToMemory(&pem.Block{Type: ECPrivateKeyBlockType, Bytes: der}), nil
	case *rsa.PrivateKey:
		der := x509.MarshalPKCS1PrivateKey(k)
		return pem.EncodeToMemory(&pem.Block{Type: RSAPrivateKeyBlockType, Bytes: der}), nil
	case nil:
		return nil, errors.New("encode private key: key is nil")
	default:
		der, err := x509.MarshalPKCS8PrivateKey(key)
		if err != nil {
			return nil, fmt.Errorf("marshal pkcs8 key: %w", err)
		}
		return pem.EncodeToMemory(&pem.Block{Type: PrivateKeyBlockType, Bytes: der}), nil
	}
}

// ParsePrivateKeyPEM returns the first private key in data. It accepts
// "EC PRIVATE KEY", "RSA PRIVATE KEY" and PKCS #8 "PRIVATE KEY" blocks and
// skips any other block (such as openssl's "EC PARAMETERS").
func ParsePrivateKeyPEM(data []byte) (crypto.Signer, error) {
	for rest := data; ; {
		var block *pem.Block
		block, rest = pem.Decode(rest)
		if block == nil {
			return nil, errors.New("parse private key: no private key PEM block found")
		}
		var (
			key any
			err error
		)
		switch block.Type {
		case ECPrivateKeyBlockType:
			key, err = x509.ParseECPrivateKey(block.Bytes)
		case RSAPrivateKeyBlockType:
			key, err = x509.ParsePKCS1PrivateKey(block.Bytes)
		case PrivateKeyBlockType:
			key, err = x509.ParsePKCS8PrivateKey(block.Bytes)
		default:
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("parse private key %q block: %w", block.Type, err)
		}
		signer, ok := key.(crypto.Signer)
		if !ok {
			return nil, fmt.Errorf("parse private key: %T is not a signing key", key)
		}
		return signer, nil
	}
}

// EncodePublicKeyPEM encodes a public key as a PKIX "PUBLIC KEY" block, the
// format of kubeadm's sa.pub.
func EncodePublicKeyPEM(pub crypto.PublicKey) ([]byte, error) {
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return nil, fmt.Errorf("marshal public key: %w", err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: PublicKeyBlockType, Bytes: der}), nil
}

// ParsePublicKeysPEM returns every "PUBLIC KEY" block in data, in order
// (kube-apiserver's --service-account-key-file may hold several). It fails
// when there is none.
func ParsePublicKeysPEM(data []byte) ([]crypto.PublicKey, error) {
	var keys []crypto.PublicKey
	for rest := data; ; {
		var block *pem.Block
		block, rest = pem.Decode(rest)
		if block == nil {
			break
		}
		if block.Type != PublicKeyBlockType {
			continue
		}
		k, err := x509.ParsePKIXPublicKey(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("parse public key: %w", err)
		}
		keys = append(keys, k)
	}
	if len(keys) == 0 {
		return nil, errors.New("parse public key: no PUBLIC KEY PEM block found")
	}
	return keys, nil
}

// ServiceAccountKey is the key pair the apiserver signs service-account
// tokens with (sa.key) and verifies them with (sa.pub).
type ServiceAccountKey struct {
	Key        crypto.Signer
	PrivatePEM []byte // contents of sa.key
	PublicPEM  []byte // contents of sa.pub
}

// NewServiceAccountKey generates a service-account key pair. With ECDSAP256
// tokens are signed ES256, with RSA2048 RS256.
func NewServiceAccountKey(alg KeyAlgorithm) (*ServiceAccountKey, error) {
	key, err := GenerateKey(alg)
	if err != nil {
		return nil, err
	}
	return newServiceAccountKey(key)
}

// ParseServiceAccountKey rebuilds a ServiceAccountKey from the PEM of sa.key.
func ParseServiceAccountKey(privatePEM []byte) (*ServiceAccountKey, error) {
	key, err := ParsePrivateKeyPEM(privatePEM)
	if err != nil {
		return nil, err
	}
	return newServiceAccountKey(key)
}

func newServiceAccountKey(key crypto.Signer) (*ServiceAccountKey, error) {
	priv, err := EncodePrivateKeyPEM(key)
	if err != nil {
		return nil, err
	}
	pub, err := EncodePublicKeyPEM(key.Public())
	if err != nil {
		return nil, err
	}
	return &ServiceAccountKey{Key: key, PrivatePEM: priv, PublicPEM: pub}, nil
}
