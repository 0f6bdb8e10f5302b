// Package value transforms the bytes the apiserver keeps in etcd on their way
// in and out: encryption at rest, as kube-apiserver's
// --encryption-provider-config does. A Transformer sits between a resource's
// codec and etcd; the stored layouts and prefixes are upstream's, so data
// written by either apiserver reads back in the other.
package value

import (
	"bytes"
	"errors"
)

// Transformer turns plaintext (an encoded object) into what is stored at an
// etcd key and back. Implementations are safe for concurrent use.
type Transformer interface {
	// TransformFromStorage returns the plaintext of data stored at the etcd
	// key dataCtx (authenticated by the providers that can, so a value copied
	// to another key does not read). stale reports that data was not written
	// the way TransformToStorage writes now (an older key, another provider,
	// plaintext): writing the object again changes what is stored. The error
	// never contains key material.
	TransformFromStorage(data, dataCtx []byte) (out []byte, stale bool, err error)
	// TransformToStorage returns what to store at the etcd key dataCtx for
	// the plaintext data. It does not modify data.
	TransformToStorage(data, dataCtx []byte) ([]byte, error)
}

// Identity stores data as it is: the transformer of every resource when
// encryption at rest is not configured.
type Identity struct{}

var _ Transformer = Identity{}

// TransformFromStorage implements Transformer.
func (Identity) TransformFromStorage(data, _ []byte) ([]byte, bool, error) { return data, false, nil }

// TransformToStorage implements Transformer.
func (Identity) TransformToStorage(data, _ []byte) ([]byte, error) { return data, nil }

// EncryptedPrefix starts every value an encrypting provider writes.
const EncryptedPrefix = "k8s:enc:"

// ErrIdentityEncrypted is the error of NewEncryptCheck's transformer reading
// encrypted data.
var ErrIdentityEncrypted = errors.New("identity transformer tried to read encrypted data")

// encryptCheck is the identity provider of an encryption configuration.
type encryptCheck struct{}

// NewEncryptCheck returns the configuration's identity provider: it stores
// plaintext and refuses to read data that starts with EncryptedPrefix
// (ErrIdentityEncrypted), so such data is left to the other providers.
func NewEncryptCheck() Transformer { return encryptCheck{} }

func (encryptCheck) TransformFromStorage(data, _ []byte) ([]byte, bool, error) {
	if bytes.HasPrefix(data, []byte(EncryptedPrefix)) {
		return nil, false, ErrIdentityEncrypted
	}
	return data, false, nil
}

func (encryptCheck) TransformToStorage(data, _ []byte) ([]byte, error) { return data, nil }

// PrefixTransformer is a Transformer whose values start with Prefix.
type PrefixTransformer struct {
	Prefix      []byte
	Transformer Transformer
}

// prefixTransformers writes with the first and reads with the one whose
// prefix the data has.
type prefixTransformers struct {
	transformers []PrefixTransformer
	err          error
}

// NewPrefixTransformers returns a Transformer that writes with the first of
// ts (its prefix, then what its transformer returns) and reads data with the
// first of ts whose prefix the data starts with (trying the next matching
// one when it fails; an empty prefix matches everything and its failures are
// skipped silently). Data read with any but the first is stale. err is the
// error when no prefix matches; the errors of the transformers that matched
// and failed are returned instead when there are any. ts must not be empty.
func NewPrefixTransformers(err error, ts ...PrefixTransformer) Transformer {
	return &prefixTransformers{transformers: ts, err: err}
}

func (p *prefixTransformers) TransformFromStorage(data, dataCtx []byte) ([]byte, bool, error) {
	var errs []error
	for i, t := range p.transformers {
		if !bytes.HasPrefix(data, t.Prefix) {
			continue
		}
		out, stale, err := t.Transformer.TransformFromStorage(data[len(t.Prefix):], dataCtx)
		if err != nil {
			if len(t.Prefix) > 0 {
				errs = append(errs, err)
			}
			continue
		}
		return out, stale || i != 0, nil
	}
	if len(errs) > 0 {
		return nil, false, errors.Join(errs...)
	}
	return nil, false, p.err
}

func (p *prefixTransformers) TransformToStorage(data, dataCtx []byte) ([]byte, error) {
	t := p.transformers[0]
	out, err := t.Transformer.TransformToStorage(data, dataCtx)
	if err != nil {
		return nil, err
	}
	stored := make([]byte, 0, len(t.Prefix)+len(out))
	return append(append(stored, t.Prefix...), out...), nil
}
