package node_test

import (
	"context"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/kinc-dev/kinc/pkg/apiserver/apiservertest"
	"github.com/kinc-dev/kinc/pkg/pki"
)

// kubeletClient returns a client authenticating as node's kubelet: a
// client certificate with CN system:node:<node>, O system:nodes.
func kubeletClient(t *testing.T, inst *apiservertest.Instance, node string) kubernetes.Interface {
	t.Helper()
	kp, err := inst.CA.Issue(pki.ClientSpec("system:node:"+node, "system:nodes"))
	if err != nil {
		t.Fatal(err)
	}
	cfg := rest.AnonymousClientConfig(inst.Config)
	cfg.CertData, cfg.KeyData = kp.CertPEM, kp.KeyPEM
	return kubernetes.NewForConfigOrDie(cfg)
}

func secretPod(name, node, secret string) *corev1.Pod {
	return &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec: corev1.PodSpec{NodeName: node, Containers: []corev1.Container{{Name: "c", Image: "busybox"}},
			Volumes: []corev1.Volume{{Name: "s", VolumeSource: corev1.VolumeSource{Secret: &corev1.SecretVolumeSource{SecretName: secret}}}}}}
}

// eventually retries fn until it returns nil (the authorizer's graph
// follows the pod store through a watch).
func eventually(t *testing.T, what string, fn func() error) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		err := fn()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: %v", what, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func TestNodeAuthorizerIntegration(t *testing.T) {
	inst := apiservertest.Start(t, apiservertest.Options{ExtraFlags: []string{"--authorization-mode=Node,RBAC"}})
	ctx := context.Background()
	admin := kubernetes.NewForConfigOrDie(inst.Config)
	const ns = "default"
	for _, name := range []string{"secret-a", "secret-b"} {
		if _, err := admin.CoreV1().Secrets(ns).Create(ctx, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: name},
			StringData: map[string]string{"k": name}}, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	for _, p := range []*corev1.Pod{secretPod("pod-a", "a", "secret-a"), secretPod("pod-b", "b", "secret-b")} {
		if _, err := admin.CoreV1().Pods(ns).Create(ctx, p, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	kubelet := kubeletClient(t, inst, "a")

	// Its pod's Secret: allowed (once the graph has seen the pod).
	eventually(t, "get secret-a as node a", func() error {
		s, err := kubelet.CoreV1().Secrets(ns).Get(ctx, "secret-a", metav1.GetOptions{})
		if err == nil && string(s.Data["k"]) != "secret-a" {
			t.Fatalf("secret-a holds %q", s.Data["k"])
		}
		return err
	})
	// As the kubelet's secret manager reads it: a list and watch by name.
	if _, err := kubelet.CoreV1().Secrets(ns).List(ctx, metav1.ListOptions{FieldSelector: "metadata.name=secret-a"}); err != nil {
		t.Fatalf("list secret-a by name: %v", err)
	}
	w, err := kubelet.CoreV1().Secrets(ns).Watch(ctx, metav1.ListOptions{FieldSelector: "metadata.name=secret-a"})
	if err != nil {
		t.Fatalf("watch secret-a by name: %v", err)
	}
	w.Stop()

	// Another node's pod's Secret, and all Secrets: 403 with upstream's reason.
	forbidden := func(what string, err error, reason string) {
		t.Helper()
		if !apierrors.IsForbidden(err) {
			t.Fatalf("%s: got %v, want 403", what, err)
		}
		if reason != "" && !strings.Contains(err.Error(), reason) {
			t.Fatalf("%s: %q does not say %q", what, err.Error(), reason)
		}
	}
	_, err = kubelet.CoreV1().Secrets(ns).Get(ctx, "secret-b", metav1.GetOptions{})
	forbidden("get secret-b as node a", err,
		`secrets "secret-b" is forbidden: User "system:node:a" cannot get resource "secrets" in API group "" in the namespace "default": node: no relationship found between node 'a' and this object`)
	_, err = kubelet.CoreV1().Secrets(ns).List(ctx, metav1.ListOptions{})
	forbidden("list secrets as node a", err, "")

	// Pods: its own by field selector, not everyone's.
	pods, err := kubelet.CoreV1().Pods("").List(ctx, metav1.ListOptions{FieldSelector: "spec.nodeName=a"})
	if err != nil {
		t.Fatalf("list pods on a: %v", err)
	}
	if len(pods.Items) != 1 || pods.Items[0].Name != "pod-a" {
		t.Fatalf("pods on a: %v", pods.Items)
	}
	_, err = kubelet.CoreV1().Pods("").List(ctx, metav1.ListOptions{})
	forbidden("list all pods as node a", err, "can only list/watch pods with spec.nodeName field selector")
	if _, err := kubelet.CoreV1().Pods(ns).Get(ctx, "pod-a", metav1.GetOptions{}); err != nil {
		t.Fatalf("get pod-a as node a: %v", err)
	}
	_, err = kubelet.CoreV1().Pods(ns).Get(ctx, "pod-b", metav1.GetOptions{})
	forbidden("get pod-b as node a", err, "no relationship found between node 'a' and this object")

	// Its own Node; services through the static node rules.
	_, err = kubelet.CoreV1().Nodes().Get(ctx, "a", metav1.GetOptions{})
	if !apierrors.IsNotFound(err) {
		t.Fatalf("get own (missing) node: got %v, want 404", err)
	}
	if _, err := kubelet.CoreV1().Services("").List(ctx, metav1.ListOptions{}); err != nil {
		t.Fatalf("list services as node a: %v", err)
	}

	// Once its pod is gone, the Secret is no longer the node's.
	if err := admin.CoreV1().Pods(ns).Delete(ctx, "pod-a", *metav1.NewDeleteOptions(0)); err != nil {
		t.Fatal(err)
	}
	eventually(t, "secret-a refused after pod-a is deleted", func() error {
		_, err := kubelet.CoreV1().Secrets(ns).Get(ctx, "secret-a", metav1.GetOptions{})
		if apierrors.IsForbidden(err) {
			return nil
		}
		if err == nil {
			return errAllowed
		}
		return err
	})
}

type allowedError struct{}

func (allowedError) Error() string { return "still allowed" }

var errAllowed error = allowedError{}
