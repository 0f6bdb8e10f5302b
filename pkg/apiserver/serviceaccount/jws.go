package serviceaccount

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/asn1"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/big"
	"strings"
)

// The JWS algorithms of service-account tokens, as upstream: RS256 for RSA
// keys, ES256/ES384/ES512 for ECDSA keys on P-256/P-384/P-521.
const (
	algRS256 = "RS256"
	algES256 = "ES256"
	algES384 = "ES384"
	algES512 = "ES512"
)

// KeyID returns the "kid" of a public key as upstream computes it: the
// unpadded base64url SHA-256 of its PKIX DER encoding.
func KeyID(pub crypto.PublicKey) (string, error) {
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return "", fmt.Errorf("serializing public key: %w", err)
	}
	sum := sha256.Sum256(der)
	return base64.RawURLEncoding.EncodeToString(sum[:]), nil
}

// algorithm returns the JWS algorithm of a public key, and its hash.
func algorithm(pub crypto.PublicKey) (string, crypto.Hash, error) {
	switch k := pub.(type) {
	case *rsa.PublicKey:
		return algRS256, crypto.SHA256, nil
	case *ecdsa.PublicKey:
		switch k.Curve {
		case elliptic.P256():
			return algES256, crypto.SHA256, nil
		case elliptic.P384():
			return algES384, crypto.SHA384, nil
		case elliptic.P521():
			return algES512, crypto.SHA512, nil
		}
		return "", 0, errors.New("unsupported ECDSA curve: must be P-256, P-384 or P-521")
	default:
		return "", 0, fmt.Errorf("unsupported public key type %T: must be RSA or ECDSA", pub)
	}
}

// PublicKey is a key that verifies tokens, with its key ID.
type PublicKey struct {
	KeyID string
	Key   crypto.PublicKey
	alg   string
	hash  crypto.Hash
}

// NewPublicKey returns the verification key of pub (an RSA or ECDSA public
// key).
func NewPublicKey(pub crypto.PublicKey) (PublicKey, error) {
	alg, hash, err := algorithm(pub)
	if err != nil {
		return PublicKey{}, err
	}
	kid, err := KeyID(pub)
	if err != nil {
		return PublicKey{}, err
	}
	return PublicKey{KeyID: kid, Key: pub, alg: alg, hash: hash}, nil
}

// Algorithm is the key's JWS "alg".
func (k PublicKey) Algorithm() string { return k.alg }

// signer signs compact JWS tokens with one private key.
type signer struct {
	key  crypto.Signer
	pub  PublicKey
	rand io.Reader
}

func newSigner(key crypto.Signer) (*signer, error) {
	pub, err := NewPublicKey(key.Public())
	if err != nil {
		return nil, err
	}
	return &signer{key: key, pub: pub, rand: rand.Reader}, nil
}

type jwsHeader struct {
	Alg string `json:"alg"`
	Kid string `json:"kid,omitempty"`
}

var b64 = base64.RawURLEncoding

// sign returns the compact serialization of payload (marshalled to JSON)
// signed with the signer's key, with the header {"alg","kid"} as upstream.
func (s *signer) sign(payload any) (string, error) {
	header, err := json.Marshal(jwsHeader{Alg: s.pub.alg, Kid: s.pub.KeyID})
	if err != nil {
		return "", err
	}
	body, err := json.Marshal(payload)
	if err != nil {
		return "", err
	}
	input := b64.EncodeToString(header) + "." + b64.EncodeToString(body)
	h := s.pub.hash.New()
	h.Write([]byte(input))
	sig, err := s.key.Sign(s.rand, h.Sum(nil), s.pub.hash)
	if err != nil {
		return "", fmt.Errorf("signing token: %w", err)
	}
	if ec, ok := s.pub.Key.(*ecdsa.PublicKey); ok {
		// crypto.Signer gives ASN.1; JWS wants r||s, each the curve's size.
		if sig, err = ecdsaJWS(sig, ec.Curve); err != nil {
			return "", err
		}
	}
	return input + "." + b64.EncodeToString(sig), nil
}

type ecdsaSig struct{ R, S *big.Int }

func ecdsaJWS(der []byte, curve elliptic.Curve) ([]byte, error) {
	var sig ecdsaSig
	if rest, err := asn1.Unmarshal(der, &sig); err != nil || len(rest) != 0 {
		return nil, errors.New("signing token: malformed ECDSA signature")
	}
	size := (curve.Params().BitSize + 7) / 8
	out := make([]byte, 2*size)
	sig.R.FillBytes(out[:size])
	sig.S.FillBytes(out[size:])
	return out, nil
}

// Errors of verify. They say what is wrong without repeating the token.
var (
	errMalformed  = errors.New("malformed token")
	errNoKeys     = errors.New("invalid signature, no keys found")
	errSignature  = errors.New("invalid signature")
	errAlgorithm  = errors.New("unsupported signing algorithm")
	errNotCompact = errors.New("token is not a compact JWS")
)

// parsed is a compact JWS split into its parts.
type parsed struct {
	header  jwsHeader
	input   string // header.payload, what the signature covers
	payload []byte
	sig     []byte
}

// parse splits and decodes a compact JWS without verifying it.
func parse(token string) (*parsed, error) {
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return nil, errNotCompact
	}
	hdr, err := b64.DecodeString(parts[0])
	if err != nil {
		return nil, errMalformed
	}
	payload, err := b64.DecodeString(parts[1])
	if err != nil {
		return nil, errMalformed
	}
	sig, err := b64.DecodeString(parts[2])
	if err != nil {
		return nil, errMalformed
	}
	p := &parsed{input: parts[0] + "." + parts[1], payload: payload, sig: sig}
	if err := json.Unmarshal(hdr, &p.header); err != nil {
		return nil, errMalformed
	}
	return p, nil
}

// verify checks p's signature with the keys of its "kid" (every key when
// it has none), as upstream's static key getter: the algorithm must be the
// key's own ("none" and HMAC never verify).
func (p *parsed) verify(keys []PublicKey) error {
	found := false
	for _, k := range keys {
		if p.header.Kid != "" && k.KeyID != p.header.Kid {
			continue
		}
		found = true
		if p.header.Alg != k.alg {
			continue
		}
		if verifySig(k, p.input, p.sig) {
			return nil
		}
	}
	switch {
	case !found:
		return errNoKeys
	case !knownAlg(p.header.Alg):
		return errAlgorithm
	}
	return errSignature
}

func knownAlg(alg string) bool {
	switch alg {
	case algRS256, algES256, algES384, algES512:
		return true
	}
	return false
}

func verifySig(k PublicKey, input string, sig []byte) bool {
	h := k.hash.New()
	h.Write([]byte(input))
	digest := h.Sum(nil)
	switch pub := k.Key.(type) {
	case *rsa.PublicKey:
		return rsa.VerifyPKCS1v15(pub, k.hash, digest, sig) == nil
	case *ecdsa.PublicKey:
		size := (pub.Curve.Params().BitSize + 7) / 8
		if len(sig) != 2*size {
			return false
		}
		r := new(big.Int).SetBytes(sig[:size])
		s := new(big.Int).SetBytes(sig[size:])
		return ecdsa.Verify(pub, digest, r, s)
	}
	return false
}
