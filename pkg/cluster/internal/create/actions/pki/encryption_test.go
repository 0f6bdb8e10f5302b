package pki

import (
	"os"
	"path/filepath"
	"testing"

	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/kinc-dev/kinc/pkg/apiserver/encryption"
	"github.com/kinc-dev/kinc/pkg/cluster/config"
	"github.com/kinc-dev/kinc/pkg/cluster/internal/nodeconfig"
)

func TestEncryptionFiles(t *testing.T) {
	if files, err := EncryptionFiles(&config.Cluster{}); err != nil || len(files) != 0 {
		t.Fatalf("without encryptionAtRest: %v %v", files, err)
	}
	files, err := EncryptionFiles(&config.Cluster{EncryptionAtRest: &config.EncryptionAtRest{Resources: []string{"secrets", "*.apps"}}})
	if err != nil || len(files) != 1 {
		t.Fatalf("%v %v", files, err)
	}
	f := files[0]
	if f.Path != nodeconfig.EncryptionConfigPath || f.Mode != 0o600 {
		t.Fatalf("file %s mode %v", f.Path, f.Mode)
	}
	// What the apiserver will load.
	p := filepath.Join(t.TempDir(), "enc.yaml")
	if err := os.WriteFile(p, f.Data, 0o600); err != nil {
		t.Fatal(err)
	}
	ts, err := encryption.Load(p)
	if err != nil {
		t.Fatalf("%v\n%s", err, f.Data)
	}
	stored, err := ts.For(schema.GroupResource{Group: "apps", Resource: "deployments"}).TransformToStorage([]byte("x"), nil)
	if err != nil || string(stored[:len(encryption.PrefixAESCBC)]) != encryption.PrefixAESCBC {
		t.Fatalf("stored %q, %v", stored, err)
	}
}
