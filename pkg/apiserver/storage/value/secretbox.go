package value

import (
	"crypto/rand"
	"errors"
	"fmt"

	"golang.org/x/crypto/nacl/secretbox"
)

const secretboxNonceSize = 24

// secretboxTransformer is upstream's secretbox layout: a random 24-byte
// nonce, then the NaCl secretbox sealed data (XSalsa20 and Poly1305).
type secretboxTransformer struct {
	key [32]byte
}

// NewSecretbox returns the secretbox transformer of a 32-byte key. Values are
// nonce (24 bytes) + secretbox.Seal of the data.
func NewSecretbox(key [32]byte) Transformer { return &secretboxTransformer{key: key} }

func (t *secretboxTransformer) TransformFromStorage(data, _ []byte) ([]byte, bool, error) {
	if len(data) < secretbox.Overhead+secretboxNonceSize {
		return nil, false, errors.New("the stored data was shorter than the required size")
	}
	var nonce [secretboxNonceSize]byte
	copy(nonce[:], data)
	out, ok := secretbox.Open(nil, data[secretboxNonceSize:], &nonce, &t.key)
	if !ok {
		return nil, false, errors.New("secretbox: the stored data cannot be opened with this key")
	}
	return out, false, nil
}

func (t *secretboxTransformer) TransformToStorage(data, _ []byte) ([]byte, error) {
	var nonce [secretboxNonceSize]byte
	if _, err := rand.Read(nonce[:]); err != nil {
		return nil, fmt.Errorf("unable to read sufficient random bytes: %w", err)
	}
	return secretbox.Seal(nonce[:], data, &nonce, &t.key), nil
}
