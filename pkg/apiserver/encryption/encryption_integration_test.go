package encryption_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"os"
	"path/filepath"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/kinc-dev/kinc/pkg/apiserver/apiservertest"
)

var key1 = base64.StdEncoding.EncodeToString([]byte("0123456789abcdef0123456789abcdef"))

const (
	encrypting = `apiVersion: apiserver.config.k8s.io/v1
kind: EncryptionConfiguration
resources:
- resources: [secrets]
  providers:
  - aescbc:
      keys:
      - name: key1
        secret: KEY1
  - identity: {}
- resources: ["*.apps"]
  providers:
  - secretbox:
      keys:
      - name: sb
        secret: KEY1
`
	// decrypting writes plaintext and still reads what key1 wrote.
	decrypting = `apiVersion: apiserver.config.k8s.io/v1
kind: EncryptionConfiguration
resources:
- resources: [secrets]
  providers:
  - identity: {}
  - aescbc:
      keys:
      - name: key1
        secret: KEY1
`
)

// TestIntegrationEncryptionAtRest runs the kube-apiserver binary with
// --encryption-provider-config and looks at etcd: a Secret is stored
// encrypted with key1 and reads back, a Deployment with secretbox, a
// ConfigMap stays plaintext protobuf; after a restart with identity first
// the old Secret still reads and new ones are plaintext.
func TestIntegrationEncryptionAtRest(t *testing.T) {
	if testing.Short() {
		t.Skip("starts etcd and kube-apiserver")
	}
	ctx := context.Background()
	cfgPath := filepath.Join(t.TempDir(), "encryption-config.yaml")
	writeConfig := func(text string) {
		if err := os.WriteFile(cfgPath, []byte(strings.ReplaceAll(text, "KEY1", key1)), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	writeConfig(encrypting)
	inst := apiservertest.Start(t, apiservertest.Options{ExtraFlags: []string{"--encryption-provider-config=" + cfgPath}})
	c := inst.Client(t)
	raw := func(key string) []byte {
		t.Helper()
		resp, err := inst.Etcd.Get(ctx, "/registry/"+key)
		if err != nil || len(resp.Kvs) != 1 {
			t.Fatalf("etcd get %s: %v (%d keys)", key, err, len(resp.Kvs))
		}
		return resp.Kvs[0].Value
	}

	secret := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "s1"}, StringData: map[string]string{"password": "hunter2-hunter2"}}
	if _, err := c.CoreV1().Secrets("default").Create(ctx, secret, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	if v := raw("secrets/default/s1"); !bytes.HasPrefix(v, []byte("k8s:enc:aescbc:v1:key1:")) || bytes.Contains(v, []byte("hunter2")) {
		t.Fatalf("secret stored as %q, want aescbc with key1", v)
	}
	got, err := c.CoreV1().Secrets("default").Get(ctx, "s1", metav1.GetOptions{})
	if err != nil || string(got.Data["password"]) != "hunter2-hunter2" {
		t.Fatalf("get secret: %v %v", got, err)
	}
	if list, err := c.CoreV1().Secrets("").List(ctx, metav1.ListOptions{}); err != nil || len(list.Items) == 0 {
		t.Fatalf("list secrets: %v", err)
	}

	cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "c1"}, Data: map[string]string{"k": "visible"}}
	if _, err := c.CoreV1().ConfigMaps("default").Create(ctx, cm, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	if v := raw("configmaps/default/c1"); !bytes.HasPrefix(v, []byte("k8s\x00")) || !bytes.Contains(v, []byte("visible")) {
		t.Fatalf("configmap stored as %q, want plaintext protobuf", v)
	}

	one := int32(1)
	dep := &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Name: "d1"}, Spec: appsv1.DeploymentSpec{
		Replicas: &one,
		Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "d1"}},
		Template: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": "d1"}},
			Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Image: "busybox"}}}},
	}}
	if _, err := c.AppsV1().Deployments("default").Create(ctx, dep, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	if v := raw("deployments/default/d1"); !bytes.HasPrefix(v, []byte("k8s:enc:secretbox:v1:sb:")) {
		t.Fatalf("deployment stored as %q, want secretbox", v)
	}

	writeConfig(decrypting)
	inst.Restart(t)
	got, err = c.CoreV1().Secrets("default").Get(ctx, "s1", metav1.GetOptions{})
	if err != nil || string(got.Data["password"]) != "hunter2-hunter2" {
		t.Fatalf("get the old secret after the restart: %v %v", got, err)
	}
	secret2 := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "s2"}, StringData: map[string]string{"k": "plain-now"}}
	if _, err := c.CoreV1().Secrets("default").Create(ctx, secret2, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	if v := raw("secrets/default/s2"); !bytes.HasPrefix(v, []byte("k8s\x00")) {
		t.Fatalf("new secret stored as %q, want plaintext with identity first", v)
	}
	// An update of the old secret rewrites it as the first provider writes.
	got.Labels = map[string]string{"rewritten": "yes"}
	if _, err := c.CoreV1().Secrets("default").Update(ctx, got, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	if v := raw("secrets/default/s1"); !bytes.HasPrefix(v, []byte("k8s\x00")) {
		t.Fatalf("updated secret stored as %q, want plaintext", v)
	}
	// The deployments' provider is gone: their data is an internal error
	// naming the key, not a crash.
	_, err = c.AppsV1().Deployments("default").Get(ctx, "d1", metav1.GetOptions{})
	if err == nil || !strings.Contains(err.Error(), "/registry/deployments/default/d1") {
		t.Fatalf("get a deployment without its key: %v, want an error naming the key", err)
	}
	if _, err := c.CoreV1().Namespaces().Get(ctx, "default", metav1.GetOptions{}); err != nil {
		t.Fatalf("apiserver unwell after the undecryptable read: %v", err)
	}
}

// TestIntegrationEncryptionConfigInvalid checks that a bad configuration
// stops the apiserver with upstream's message.
func TestIntegrationEncryptionConfigInvalid(t *testing.T) {
	if testing.Short() {
		t.Skip("starts etcd and kube-apiserver")
	}
	cfgPath := filepath.Join(t.TempDir(), "encryption-config.yaml")
	bad := strings.ReplaceAll(encrypting, "KEY1", base64.StdEncoding.EncodeToString([]byte("short")))
	if err := os.WriteFile(cfgPath, []byte(bad), 0o600); err != nil {
		t.Fatal(err)
	}
	log := apiservertest.StartFailing(t, apiservertest.Options{ExtraFlags: []string{"--encryption-provider-config=" + cfgPath}})
	if !strings.Contains(log, "secret is not of the expected length, got 5, expected one of [16 24 32]") {
		t.Fatalf("log does not say why:\n%s", log)
	}
}
