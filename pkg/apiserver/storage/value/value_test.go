package value

import (
	"bytes"
	"crypto/aes"
	"errors"
	"strings"
	"testing"
)

// keyOf returns 32 bytes of key material made of s.
func keyOf(s string) []byte { return []byte(strings.Repeat(s, 32)[:32]) }

// providers returns one transformer of each kind for key material k.
func providers(t *testing.T, k []byte) map[string]Transformer {
	t.Helper()
	block, err := aes.NewCipher(k)
	if err != nil {
		t.Fatal(err)
	}
	g, err := NewGCM(block)
	if err != nil {
		t.Fatal(err)
	}
	var sk [32]byte
	copy(sk[:], k)
	return map[string]Transformer{"aescbc": NewCBC(block), "aesgcm": g, "secretbox": NewSecretbox(sk)}
}

func TestProvidersRoundTrip(t *testing.T) {
	key1, key2 := providers(t, keyOf("a")), providers(t, keyOf("b"))
	for name, tr := range key1 {
		t.Run(name, func(t *testing.T) {
			for _, plain := range [][]byte{{}, []byte("k8s\x00short"), bytes.Repeat([]byte("x"), 16), bytes.Repeat([]byte("y"), 1000)} {
				ctx := []byte("/registry/secrets/default/s")
				stored, err := tr.TransformToStorage(plain, ctx)
				if err != nil {
					t.Fatal(err)
				}
				if len(plain) > 0 && bytes.Contains(stored, plain) {
					t.Fatalf("plaintext visible in %q", stored)
				}
				again, _ := tr.TransformToStorage(plain, ctx)
				if bytes.Equal(stored, again) {
					t.Fatal("two writes of the same data are identical: no random IV/nonce")
				}
				out, stale, err := tr.TransformFromStorage(stored, ctx)
				if err != nil || stale || !bytes.Equal(out, plain) {
					t.Fatalf("read back %q stale=%v err=%v, want %q", out, stale, err, plain)
				}
				if out, _, err := key2[name].TransformFromStorage(stored, ctx); err == nil && bytes.Equal(out, plain) {
					t.Fatal("another key read the data")
				}
			}
		})
	}
}

func TestGCMAuthenticatesTheKey(t *testing.T) {
	tr := providers(t, keyOf("a"))["aesgcm"]
	stored, err := tr.TransformToStorage([]byte("secret"), []byte("/registry/secrets/a/b"))
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := tr.TransformFromStorage(stored, []byte("/registry/secrets/a/c")); err == nil {
		t.Fatal("a value moved to another key decrypted")
	}
}

func TestCorruptData(t *testing.T) {
	for name, tr := range providers(t, keyOf("a")) {
		for _, data := range [][]byte{nil, []byte("short"), bytes.Repeat([]byte{1}, 17), bytes.Repeat([]byte{1}, 64)} {
			if _, _, err := tr.TransformFromStorage(data, nil); err == nil {
				t.Errorf("%s read corrupt data %x", name, data)
			}
		}
	}
}

func TestPrefixTransformersRotation(t *testing.T) {
	errNone := errors.New("no matching prefix found")
	k1, k2 := providers(t, keyOf("a"))["aescbc"], providers(t, keyOf("b"))["aescbc"]
	old := NewPrefixTransformers(errNone,
		PrefixTransformer{Prefix: []byte("k8s:enc:aescbc:v1:key1:"), Transformer: k1},
		PrefixTransformer{Transformer: NewEncryptCheck()})
	rotated := NewPrefixTransformers(errNone,
		PrefixTransformer{Prefix: []byte("k8s:enc:aescbc:v1:key2:"), Transformer: k2},
		PrefixTransformer{Prefix: []byte("k8s:enc:aescbc:v1:key1:"), Transformer: k1},
		PrefixTransformer{Transformer: NewEncryptCheck()})
	ctx := []byte("/registry/secrets/ns/s")

	stored, err := old.TransformToStorage([]byte("k8s\x00plain"), ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(stored, []byte("k8s:enc:aescbc:v1:key1:")) {
		t.Fatalf("stored %q lacks the key's prefix", stored)
	}
	out, stale, err := rotated.TransformFromStorage(stored, ctx)
	if err != nil || !stale || string(out) != "k8s\x00plain" {
		t.Fatalf("rotated read = %q stale=%v err=%v, want the plaintext, stale", out, stale, err)
	}
	// Plaintext written before encryption was on reads through identity, stale.
	out, stale, err = rotated.TransformFromStorage([]byte("k8s\x00old"), ctx)
	if err != nil || !stale || string(out) != "k8s\x00old" {
		t.Fatalf("plaintext read = %q stale=%v err=%v", out, stale, err)
	}
	// Data of a key that is gone: the key's error, not identity's plaintext.
	gone := NewPrefixTransformers(errNone,
		PrefixTransformer{Prefix: []byte("k8s:enc:aescbc:v1:key2:"), Transformer: k2},
		PrefixTransformer{Transformer: NewEncryptCheck()})
	if _, _, err := gone.TransformFromStorage(stored, ctx); !errors.Is(err, errNone) {
		t.Fatalf("read with the key gone: err = %v, want %v", err, errNone)
	}
	// Wrong key material under the right name: the provider's error.
	wrong := NewPrefixTransformers(errNone,
		PrefixTransformer{Prefix: []byte("k8s:enc:aescbc:v1:key1:"), Transformer: k2})
	// (CBC is not authenticated: the padding check fails, or rarely the
	// result is garbage.)
	if out, _, err := wrong.TransformFromStorage(stored, ctx); errors.Is(err, errNone) || err == nil && string(out) == "k8s\x00plain" {
		t.Fatalf("read with the wrong key: %q, err = %v, want the provider's error", out, err)
	}
}

func TestEncryptCheck(t *testing.T) {
	if _, _, err := NewEncryptCheck().TransformFromStorage([]byte("k8s:enc:aescbc:v1:k:xx"), nil); !errors.Is(err, ErrIdentityEncrypted) {
		t.Fatalf("err = %v", err)
	}
	out, stale, err := Identity{}.TransformFromStorage([]byte("k8s:enc:x"), nil)
	if err != nil || stale || string(out) != "k8s:enc:x" {
		t.Fatal("Identity must not check")
	}
}
