package config

import (
	"strings"
	"testing"
)

func TestEncryptionAtRest(t *testing.T) {
	t.Parallel()
	for name, tc := range map[string]struct{ doc, wantErr string }{
		"default": {doc: "apiVersion: kinc.dev/v1alpha4\nkind: Cluster\nencryptionAtRest: {}\n"},
		"chosen":  {doc: "apiVersion: kinc.dev/v1alpha4\nkind: Cluster\nencryptionAtRest:\n  provider: secretbox\n  resources: [secrets, configmaps, '*.apps']\n"},
		"kind apiVersion": {doc: "apiVersion: kind.x-k8s.io/v1alpha4\nkind: Cluster\nencryptionAtRest: {}\n",
			wantErr: "encryptionAtRest: a kinc extension of kind's format: it needs apiVersion kinc.dev/v1alpha4"},
		"provider": {doc: "apiVersion: kinc.dev/v1alpha4\nkind: Cluster\nencryptionAtRest: {provider: kms}\n",
			wantErr: `encryptionAtRest: provider "kms" is not one of aescbc, aesgcm, secretbox`},
		"resources": {doc: "apiVersion: kinc.dev/v1alpha4\nkind: Cluster\nencryptionAtRest: {resources: ['*']}\n",
			wantErr: "use '*.' to encrypt all the resources"},
		"and the flag": {doc: `apiVersion: kinc.dev/v1alpha4
kind: Cluster
encryptionAtRest: {}
kubeadmConfigPatches:
- |
  kind: ClusterConfiguration
  apiServer:
    extraArgs:
      encryption-provider-config: /etc/kubernetes/pki/mine.yaml
`, wantErr: "kinc writes --encryption-provider-config itself"},
	} {
		t.Run(name, func(t *testing.T) {
			c, err := load(t, tc.doc)
			switch {
			case tc.wantErr == "" && err != nil:
				t.Fatal(err)
			case tc.wantErr == "" && c.EncryptionAtRest == nil:
				t.Fatal("encryptionAtRest lost")
			case tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)):
				t.Fatalf("err = %v, want %q", err, tc.wantErr)
			}
		})
	}
}
