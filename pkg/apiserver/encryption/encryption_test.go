package encryption

import (
	"bytes"
	"encoding/base64"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/kinc-dev/kinc/pkg/apiserver/storage/value"
)

func b64(n int, c string) string {
	return base64.StdEncoding.EncodeToString([]byte(strings.Repeat(c, n)))
}

func write(t *testing.T, text string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "enc.yaml")
	if err := os.WriteFile(p, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

const header = "apiVersion: apiserver.config.k8s.io/v1\nkind: EncryptionConfiguration\n"

var secrets = schema.GroupResource{Resource: "secrets"}

func TestLoadAndTransform(t *testing.T) {
	cfg := header + `resources:
- resources: [secrets]
  providers:
  - aescbc:
      keys:
      - {name: key1, secret: ` + b64(32, "a") + `}
      - {name: key0, secret: ` + b64(16, "b") + `}
  - identity: {}
- resources: ["*.apps"]
  providers:
  - aesgcm: {keys: [{name: g, secret: ` + b64(24, "c") + `}]}
- resources: ["*.*"]
  providers:
  - secretbox: {keys: [{name: s, secret: ` + b64(32, "d") + `}]}
`
	ts, err := Load(write(t, cfg))
	if err != nil {
		t.Fatal(err)
	}
	ctx := []byte("/registry/x")
	for _, tc := range []struct {
		gr     schema.GroupResource
		prefix string
	}{
		{secrets, "k8s:enc:aescbc:v1:key1:"},
		{schema.GroupResource{Group: "apps", Resource: "deployments"}, "k8s:enc:aesgcm:v1:g:"},
		{schema.GroupResource{Resource: "configmaps"}, "k8s:enc:secretbox:v1:s:"},
		{schema.GroupResource{Group: "batch", Resource: "jobs"}, "k8s:enc:secretbox:v1:s:"},
	} {
		tr := ts.For(tc.gr)
		stored, err := tr.TransformToStorage([]byte("k8s\x00data"), ctx)
		if err != nil || !bytes.HasPrefix(stored, []byte(tc.prefix)) {
			t.Fatalf("%v: stored %q, err %v, want prefix %q", tc.gr, stored, err, tc.prefix)
		}
		out, stale, err := tr.TransformFromStorage(stored, ctx)
		if err != nil || stale || string(out) != "k8s\x00data" {
			t.Fatalf("%v: read %q stale=%v err=%v", tc.gr, out, stale, err)
		}
	}
	// identity second reads plaintext; data of the second key reads, stale.
	tr := ts.For(secrets)
	if out, stale, err := tr.TransformFromStorage([]byte("k8s\x00old"), ctx); err != nil || !stale || string(out) != "k8s\x00old" {
		t.Fatalf("plaintext: %q stale=%v err=%v", out, stale, err)
	}
	// Rotation: key0 first now, key1's data still reads.
	rotated, err := Load(write(t, header+`resources:
- resources: [secrets]
  providers:
  - aescbc:
      keys:
      - {name: key0, secret: `+b64(16, "b")+`}
      - {name: key1, secret: `+b64(32, "a")+`}
`))
	if err != nil {
		t.Fatal(err)
	}
	stored, _ := tr.TransformToStorage([]byte("k8s\x00data"), ctx)
	if out, stale, err := rotated.For(secrets).TransformFromStorage(stored, ctx); err != nil || !stale || string(out) != "k8s\x00data" {
		t.Fatalf("after rotation: %q stale=%v err=%v", out, stale, err)
	}
	if _, _, err := rotated.For(secrets).TransformFromStorage([]byte("k8s\x00old"), ctx); err == nil {
		t.Fatal("plaintext read without identity")
	}
}

func TestUnconfiguredResources(t *testing.T) {
	ts, err := Load(write(t, header+"resources:\n- resources: [secrets]\n  providers: [{identity: {}}]\n"))
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := ts.For(schema.GroupResource{Resource: "configmaps"}).TransformFromStorage([]byte("k8s:enc:aescbc:v1:k:x"), nil); !errors.Is(err, value.ErrIdentityEncrypted) {
		t.Fatalf("err = %v", err)
	}
	var none *Transformers
	if _, ok := none.For(secrets).(value.Identity); !ok {
		t.Fatal("no configuration: want identity")
	}
}

func TestLoadErrors(t *testing.T) {
	secret := b64(8, "z")
	for name, tc := range map[string]struct{ cfg, want string }{
		"aes key size": {header + "resources:\n- resources: [secrets]\n  providers: [{aescbc: {keys: [{name: k, secret: " + secret + "}]}}]\n",
			`resources[0].providers[0].aescbc.keys[0].secret: Invalid value: "REDACTED": secret is not of the expected length, got 8, expected one of [16 24 32]`},
		"secretbox key size": {header + "resources:\n- resources: [secrets]\n  providers: [{secretbox: {keys: [{name: k, secret: " + b64(16, "z") + "}]}}]\n",
			"secret is not of the expected length, got 16, expected one of [32]"},
		"not base64": {header + "resources:\n- resources: [secrets]\n  providers: [{aesgcm: {keys: [{name: k, secret: '!!'}]}}]\n",
			"secrets must be base64 encoded"},
		"no keys": {header + "resources:\n- resources: [secrets]\n  providers: [{aesgcm: {keys: []}}]\n",
			"at least one keys is required"},
		"unknown provider": {header + "resources:\n- resources: [secrets]\n  providers: [{rot13: {}}]\n",
			"provider does not contain any of the expected providers: KMS, AESGCM, AESCBC, Secretbox, Identity"},
		"two providers": {header + "resources:\n- resources: [secrets]\n  providers: [{identity: {}, aescbc: {keys: [{name: k, secret: " + secret + "}]}}]\n",
			"more than one provider specified in a single element"},
		"kms": {header + "resources:\n- resources: [secrets]\n  providers: [{kms: {apiVersion: v2, name: p, endpoint: 'unix:///k.sock'}}]\n",
			"resources[0].providers[0].kms: Forbidden: the kms provider is not supported by this apiserver"},
		"no resources": {header + "resources: []\n", "resources: Required value: at least one resources is required"},
		"star":         {header + "resources:\n- resources: ['*']\n  providers: [{identity: {}}]\n", "use '*.' to encrypt all the resources"},
		"overlap":      {header + "resources:\n- resources: [secrets, '*.']\n  providers: [{identity: {}}]\n", "overlapping resources"},
		"masked": {header + "resources:\n- resources: ['*.*']\n  providers: [{identity: {}}]\n- resources: [secrets]\n  providers: [{identity: {}}]\n",
			`resource "secrets" is masked by earlier rule "*.*"`},
		"kind":  {"apiVersion: v1\nkind: ConfigMap\n", "got unexpected config type: /v1, Kind=ConfigMap"},
		"empty": {"", "is empty"},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := Load(write(t, tc.cfg))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want it to contain %q", err, tc.want)
			}
			if strings.Contains(err.Error(), secret) {
				t.Fatalf("error %q shows the key", err)
			}
		})
	}
}

func TestGenerateConfig(t *testing.T) {
	for _, provider := range []string{"", ProviderAESCBC, ProviderAESGCM, ProviderSecretbox} {
		data, err := GenerateConfig(provider, nil)
		if err != nil {
			t.Fatal(err)
		}
		ts, err := Load(write(t, string(data)))
		if err != nil {
			t.Fatalf("%s: load what was generated: %v\n%s", provider, err, data)
		}
		want := "k8s:enc:" + provider + ":v1:key1:"
		if provider == "" {
			want = PrefixAESCBC + "key1:"
		}
		stored, err := ts.For(secrets).TransformToStorage([]byte("k8s\x00x"), nil)
		if err != nil || !bytes.HasPrefix(stored, []byte(want)) {
			t.Fatalf("%s: stored %q, %v", provider, stored, err)
		}
		if _, _, err := ts.For(secrets).TransformFromStorage([]byte("k8s\x00plain"), nil); err != nil {
			t.Fatalf("%s: plaintext does not read: %v", provider, err)
		}
	}
	a, _ := GenerateConfig("", []string{"secrets", "configmaps"})
	b, _ := GenerateConfig("", []string{"secrets", "configmaps"})
	if bytes.Equal(a, b) {
		t.Fatal("two generated configurations share their key")
	}
	if err := CheckGenerated("kms", nil); err == nil {
		t.Fatal("kms accepted")
	}
	if err := CheckGenerated("", []string{"*"}); err == nil || !strings.Contains(err.Error(), "use '*.'") {
		t.Fatalf("err = %v", err)
	}
}
