package value

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"errors"
	"fmt"
)

// gcm is upstream's aesgcm layout: a random 12-byte nonce, then the GCM
// sealed data with the etcd key as additional data.
type gcm struct {
	aead cipher.AEAD
}

// NewGCM returns the aesgcm transformer of an AES block (16, 24 or 32-byte
// key). Values are nonce (12 bytes) + GCM ciphertext and tag, authenticated
// with the etcd key they are stored at.
func NewGCM(block cipher.Block) (Transformer, error) {
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, err
	}
	if n := aead.NonceSize(); n != 12 {
		return nil, fmt.Errorf("crypto/cipher.NewGCM returned unexpected nonce size: %d", n)
	}
	return &gcm{aead: aead}, nil
}

func (t *gcm) TransformFromStorage(data, dataCtx []byte) ([]byte, bool, error) {
	n := t.aead.NonceSize()
	if len(data) < n {
		return nil, false, errors.New("the stored data was shorter than the required size")
	}
	out, err := t.aead.Open(nil, data[:n], data[n:], dataCtx)
	return out, false, err
}

func (t *gcm) TransformToStorage(data, dataCtx []byte) ([]byte, error) {
	n := t.aead.NonceSize()
	out := make([]byte, n, n+len(data)+t.aead.Overhead())
	if _, err := rand.Read(out); err != nil {
		return nil, fmt.Errorf("failed to write nonce for AES-GCM: %w", err)
	}
	return t.aead.Seal(out, out[:n], data, dataCtx), nil
}

// cbc is upstream's aescbc layout: a random IV, then the CBC ciphertext of
// the PKCS#7-padded data.
type cbc struct {
	block cipher.Block
}

// NewCBC returns the aescbc transformer of an AES block. Values are IV (16
// bytes) + CBC ciphertext of the data padded with PKCS#7; they are not
// authenticated.
func NewCBC(block cipher.Block) Transformer { return &cbc{block: block} }

var (
	errInvalidBlockSize    = errors.New("the stored data is not a multiple of the block size")
	errInvalidPKCS7Data    = errors.New("invalid PKCS7 data (empty or not padded)")
	errInvalidPKCS7Padding = errors.New("invalid padding on input")
)

func (t *cbc) TransformFromStorage(data, _ []byte) ([]byte, bool, error) {
	bs := aes.BlockSize
	if len(data) < bs {
		return nil, false, errors.New("the stored data was shorter than the required size")
	}
	iv, data := data[:bs], data[bs:]
	if len(data)%bs != 0 {
		return nil, false, errInvalidBlockSize
	}
	out := make([]byte, len(data))
	cipher.NewCBCDecrypter(t.block, iv).CryptBlocks(out, data)
	if len(out) == 0 {
		return nil, false, errInvalidPKCS7Data
	}
	pad := int(out[len(out)-1])
	if pad == 0 || pad > bs || pad > len(out) {
		return nil, false, errInvalidPKCS7Padding
	}
	for _, b := range out[len(out)-pad:] {
		if int(b) != pad {
			return nil, false, errInvalidPKCS7Padding
		}
	}
	return out[:len(out)-pad], false, nil
}

func (t *cbc) TransformToStorage(data, _ []byte) ([]byte, error) {
	bs := aes.BlockSize
	pad := bs - len(data)%bs
	out := make([]byte, bs+len(data)+pad)
	iv := out[:bs]
	if _, err := rand.Read(iv); err != nil {
		return nil, fmt.Errorf("unable to read sufficient random bytes: %w", err)
	}
	copy(out[bs:], data)
	for i := bs + len(data); i < len(out); i++ {
		out[i] = byte(pad)
	}
	cipher.NewCBCEncrypter(t.block, iv).CryptBlocks(out[bs:], out[bs:])
	return out, nil
}
