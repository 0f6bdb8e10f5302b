package pki

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"reflect"
	"testing"
)

func TestKeyRoundTrip(t *testing.T) {
	tests := []struct {
		alg       KeyAlgorithm
		blockType string
		wantType  any
	}{
		{"", ECPrivateKeyBlockType, &ecdsa.PrivateKey{}},
		{ECDSAP256, ECPrivateKeyBlockType, &ecdsa.PrivateKey{}},
		{RSA2048, RSAPrivateKeyBlockType, &rsa.PrivateKey{}},
	}
	for _, tt := range tests {
		t.Run(string(tt.alg), func(t *testing.T) {
			key, err := GenerateKey(tt.alg)
			if err != nil {
				t.Fatal(err)
			}
			if reflect.TypeOf(key) != reflect.TypeOf(tt.wantType) {
				t.Fatalf("key type %T, want %T", key, tt.wantType)
			}
			data, err := EncodePrivateKeyPEM(key)
			if err != nil {
				t.Fatal(err)
			}
			if b, _ := pem.Decode(data); b == nil || b.Type != tt.blockType {
				t.Fatalf("PEM block %v, want type %q", b, tt.blockType)
			}
			got, err := ParsePrivateKeyPEM(data)
			if err != nil {
				t.Fatal(err)
			}
			if !signerMatches(got, key.Public()) {
				t.Fatal("parsed key differs from generated key")
			}
			pub, err := EncodePublicKeyPEM(key.Public())
			if err != nil {
				t.Fatal(err)
			}
			pubs, err := ParsePublicKeysPEM(pub)
			if err != nil {
				t.Fatal(err)
			}
			if len(pubs) != 1 || !signerMatches(key, pubs[0]) {
				t.Fatal("public key did not round-trip")
			}
		})
	}
}

func TestParsePrivateKeyPEMFormats(t *testing.T) {
	key, err := GenerateKey(ECDSAP256)
	if err != nil {
		t.Fatal(err)
	}
	pkcs8, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	sec1, err := EncodePrivateKeyPEM(key)
	if err != nil {
		t.Fatal(err)
	}
	params := pem.EncodeToMemory(&pem.Block{Type: "EC PARAMETERS", Bytes: []byte{6, 8, 42, 134, 72, 206, 61, 3, 1, 7}})
	tests := []struct {
		name    string
		data    []byte
		wantErr bool
	}{
		{"sec1", sec1, false},
		{"pkcs8", pem.EncodeToMemory(&pem.Block{Type: PrivateKeyBlockType, Bytes: pkcs8}), false},
		{"openssl ec parameters first", append(append([]byte{}, params...), sec1...), false},
		{"empty", nil, true},
		{"not pem", []byte("hello"), true},
		{"corrupt", pem.EncodeToMemory(&pem.Block{Type: ECPrivateKeyBlockType, Bytes: []byte{1, 2, 3}}), true},
		{"certificate only", pem.EncodeToMemory(&pem.Block{Type: CertificateBlockType, Bytes: []byte{1}}), true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParsePrivateKeyPEM(tt.data)
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, wantErr %v", err, tt.wantErr)
			}
			if err == nil && !signerMatches(got, key.Public()) {
				t.Fatal("wrong key")
			}
		})
	}
}

func TestGenerateKeyUnknownAlgorithm(t *testing.T) {
	if _, err := GenerateKey("DSA-1024"); err == nil {
		t.Fatal("want error for unknown algorithm")
	}
}

func TestServiceAccountKey(t *testing.T) {
	sa, err := NewServiceAccountKey(ECDSAP256)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(sa.PublicPEM, []byte("BEGIN PUBLIC KEY")) {
		t.Fatalf("sa.pub is not a PUBLIC KEY block:\n%s", sa.PublicPEM)
	}
	again, err := ParseServiceAccountKey(sa.PrivatePEM)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(again.PublicPEM, sa.PublicPEM) {
		t.Fatal("public key derived from sa.key differs from sa.pub")
	}
}
