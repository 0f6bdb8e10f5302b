//go:build e2e

package cluster

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"
)

// encryptionConfigPath is where kinc writes the generated configuration
// (nodeconfig.EncryptionConfigPath).
const encryptionConfigPath = "/etc/kubernetes/pki/encryption-config.yaml"

// TestEncryptionAtRest creates a one-node cluster with kinc's
// encryptionAtRest extension: the control plane holds the generated
// configuration (root-only), the apiserver runs with it, a Secret is stored
// in etcd as k8s:enc:aescbc:v1:key1:… and reads back through the API, and a
// ConfigMap (not listed) stays plaintext protobuf.
func TestEncryptionAtRest(t *testing.T) {
	m := newMulti(t, "kinc-e2e-encryption", 6*time.Minute)
	m.create("apiVersion: kinc.dev/v1alpha4\nkind: Cluster\nencryptionAtRest: {resources: [secrets]}\n")
	cp := m.name + "-control-plane"

	if out, err := m.node(cp, "stat", "-c", "%a", encryptionConfigPath); err != nil || strings.TrimSpace(out) != "600" {
		t.Errorf("%s: mode %q (%v), want 600", encryptionConfigPath, out, err)
	}
	cmd := m.mustKubectl("", "-n", "kube-system", "get", "pod", "kube-apiserver-"+cp, "-o", "jsonpath={.spec.containers[0].command}")
	if !strings.Contains(cmd, "--encryption-provider-config="+encryptionConfigPath) {
		t.Errorf("apiserver command %s lacks --encryption-provider-config", cmd)
	}

	m.mustKubectl("", "create", "secret", "generic", "enc", "--from-literal=password=hunter2-e2e")
	m.mustKubectl("", "create", "configmap", "plain", "--from-literal=k=visible-e2e")
	got := m.mustKubectl("", "get", "secret", "enc", "-o", "jsonpath={.data.password}")
	if want := base64.StdEncoding.EncodeToString([]byte("hunter2-e2e")); strings.TrimSpace(got) != want {
		t.Errorf("secret reads back %q, want %q", got, want)
	}
	if v := m.etcdValue(cp, "/registry/secrets/default/enc"); !bytes.HasPrefix(v, []byte("k8s:enc:aescbc:v1:key1:")) ||
		bytes.Contains(v, []byte("hunter2-e2e")) {
		t.Errorf("secret stored as %q, want aescbc with key1", v)
	}
	if v := m.etcdValue(cp, "/registry/configmaps/default/plain"); !bytes.HasPrefix(v, []byte("k8s\x00")) ||
		!bytes.Contains(v, []byte("visible-e2e")) {
		t.Errorf("configmap stored as %q, want plaintext protobuf", v)
	}
}

// etcdValue reads key from the control plane's etcd through its JSON
// gateway, with the etcd healthcheck client certificate.
func (m *multi) etcdValue(node, key string) []byte {
	m.t.Helper()
	body := fmt.Sprintf(`{"key":%q}`, base64.StdEncoding.EncodeToString([]byte(key)))
	out, err := m.node(node, "sh", "-c", "cd /etc/kubernetes/pki/etcd && curl -sS --max-time 5 --cacert ca.crt "+
		"--cert healthcheck-client.crt --key healthcheck-client.key -X POST -d '"+body+"' https://127.0.0.1:2379/v3/kv/range")
	if err != nil {
		m.t.Fatal(err)
	}
	var resp struct {
		Kvs []struct {
			Value []byte `json:"value"` // base64 in the gateway's JSON
		} `json:"kvs"`
	}
	if err := json.Unmarshal([]byte(out), &resp); err != nil || len(resp.Kvs) != 1 {
		m.t.Fatalf("etcd range %s: %v: %s", key, err, out)
	}
	return resp.Kvs[0].Value
}
