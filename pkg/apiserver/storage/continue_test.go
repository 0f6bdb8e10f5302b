package storage

import (
	"encoding/base64"
	"testing"
)

func TestContinueRoundTrip(t *testing.T) {
	token, err := EncodeContinue("/registry/pods/ns/a\x00", "/registry/pods/", 42)
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := base64.RawURLEncoding.DecodeString(token)
	if want := `{"v":"meta.k8s.io/v1","rv":42,"start":"ns/a\u0000"}`; string(raw) != want {
		t.Errorf("token JSON %s, want %s", raw, want)
	}
	key, rv, err := DecodeContinue(token, "/registry/pods/")
	if err != nil || key != "/registry/pods/ns/a\x00" || rv != 42 {
		t.Errorf("decode = %q, %d, %v", key, rv, err)
	}
	// A token is relative: decoded against another prefix it stays inside it.
	if key, _, _ := DecodeContinue(token, "/registry/pods/other/"); key != "/registry/pods/other/ns/a\x00" {
		t.Errorf("decode against another prefix = %q", key)
	}
	if _, err := EncodeContinue("/registry/secrets/x", "/registry/pods/", 1); err == nil {
		t.Error("encoding a key outside the prefix succeeded")
	}
}

func TestDecodeContinueRejects(t *testing.T) {
	enc := func(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }
	for name, token := range map[string]string{
		"not base64":    "!!",
		"not json":      enc("nope"),
		"wrong version": enc(`{"v":"x","rv":1,"start":"a"}`),
		"zero rv":       enc(`{"v":"meta.k8s.io/v1","rv":0,"start":"a"}`),
		"negative rv":   enc(`{"v":"meta.k8s.io/v1","rv":-2,"start":"a"}`),
		"empty start":   enc(`{"v":"meta.k8s.io/v1","rv":1,"start":""}`),
		"traversal":     enc(`{"v":"meta.k8s.io/v1","rv":1,"start":"../secrets/x"}`),
		"dot segment":   enc(`{"v":"meta.k8s.io/v1","rv":1,"start":"a/./b"}`),
	} {
		t.Run(name, func(t *testing.T) {
			if key, _, err := DecodeContinue(token, "/registry/pods/"); err == nil {
				t.Errorf("decoded to %q, want an error", key)
			}
		})
	}
	// rv -1 is the "latest revision" token handed out after compaction.
	if _, rv, err := DecodeContinue(enc(`{"v":"meta.k8s.io/v1","rv":-1,"start":"a"}`), "/p/"); err != nil || rv != -1 {
		t.Errorf("rv -1 token: %d, %v", rv, err)
	}
}
