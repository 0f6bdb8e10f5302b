package kubelet_test

import (
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	v1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/kinc-dev/kinc/pkg/apiserver/apiservertest"
	"github.com/kinc-dev/kinc/pkg/pki"
)

// TestIntegrationKubeletAPIAuth: the kubelet API with kubeadm's
// authentication and authorization (Webhook, no anonymous) on a real
// apiserver with RBAC: no credentials are a 401; a client certificate or a
// bearer token (TokenReview) of a user RBAC does not allow is upstream's
// 403 naming nodes/<subresource>, and allowed once a ClusterRoleBinding
// grants it; the apiserver's own kubelet client certificate
// (kubeadm:cluster-admins) reaches the kubelet through nodes/proxy once
// kubeadm's binding of that group to cluster-admin exists.
func TestIntegrationKubeletAPIAuth(t *testing.T) {
	e := newEnvWith(t, []string{"--authorization-mode=RBAC"}, `  anonymous:
    enabled: false
  webhook:
    enabled: true
    cacheTTL: 0s
authorization:
  mode: Webhook
  webhook:
    cacheAuthorizedTTL: 1s
    cacheUnauthorizedTTL: 1s
`)
	e.writeManifest("static-web.yaml", staticManifest("static-v1"))
	e.startKubelet()
	ctx := context.Background()
	alice, err := e.clientCA.Issue(pki.ClientSpec("alice", "developers"))
	if err != nil {
		t.Fatal(err)
	}
	get := func(path string, cert *pki.KeyPair, token string) (int, string) {
		t.Helper()
		tc := &tls.Config{InsecureSkipVerify: true}
		if cert != nil {
			tc.Certificates = []tls.Certificate{cert.TLSCertificate()}
		}
		req, _ := http.NewRequest("GET", fmt.Sprintf("https://127.0.0.1:%d%s", e.port, path), nil)
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := (&http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{TLSClientConfig: tc}}).Do(req)
		if err != nil {
			return 0, err.Error()
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	eventually(t, "kubelet API answering", 60*time.Second, func() error {
		if code, body := get("/healthz", nil, ""); code != http.StatusUnauthorized || body != "Unauthorized" {
			return fmt.Errorf("anonymous /healthz: %d %q, want 401 Unauthorized", code, body)
		}
		return nil
	})
	if code, body := get("/pods", alice, ""); code != http.StatusForbidden || body != "Forbidden (user=alice, verb=get, resource=nodes, subresource(s)=[pods proxy])\n" {
		t.Errorf("alice /pods: %d %q", code, body)
	}
	if code, body := get("/stats/summary", nil, apiservertest.Token); code != http.StatusForbidden || body != "Forbidden (user=token-user, verb=get, resource=nodes, subresource(s)=[stats])\n" {
		t.Errorf("token-user /stats/summary: %d %q", code, body)
	}
	if code, body := get("/pods", nil, "forged-token"); code != http.StatusUnauthorized {
		t.Errorf("forged token: %d %q, want 401", code, body)
	}
	// Logs through the apiserver, which calls the kubelet with its
	// kubelet client certificate (kubeadm:cluster-admins): nodes/proxy.
	mirror := "static-web-" + nodeName
	eventually(t, "mirror pod running", 60*time.Second, func() error {
		p, err := e.pod("kube-system", mirror)
		if err != nil {
			return err
		}
		return running(p)
	})
	logs := func() (string, error) { return podLogs(e.client, "kube-system", mirror, &v1.PodLogOptions{}) }
	if out, err := logs(); err == nil || !strings.Contains(err.Error(), "Forbidden (user=kube-apiserver-kubelet-client, verb=get, resource=nodes, subresource(s)=[proxy])") {
		t.Errorf("logs without kubeadm's binding: %q %v", out, err)
	}

	rbac := e.client.RbacV1()
	mustCreate := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	_, err = rbac.ClusterRoles().Create(ctx, &rbacv1.ClusterRole{ObjectMeta: metav1.ObjectMeta{Name: "node-reader"},
		Rules: []rbacv1.PolicyRule{{APIGroups: []string{""}, Resources: []string{"nodes/stats", "nodes/pods"}, Verbs: []string{"get"}}}}, metav1.CreateOptions{})
	mustCreate(err)
	_, err = rbac.ClusterRoleBindings().Create(ctx, &rbacv1.ClusterRoleBinding{ObjectMeta: metav1.ObjectMeta{Name: "node-readers"},
		RoleRef:  rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: "node-reader"},
		Subjects: []rbacv1.Subject{{Kind: rbacv1.UserKind, APIGroup: rbacv1.GroupName, Name: "token-user"}, {Kind: rbacv1.GroupKind, APIGroup: rbacv1.GroupName, Name: "developers"}}},
		metav1.CreateOptions{})
	mustCreate(err)
	_, err = rbac.ClusterRoleBindings().Create(ctx, &rbacv1.ClusterRoleBinding{ObjectMeta: metav1.ObjectMeta{Name: "kubeadm:cluster-admins"},
		RoleRef:  rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: "cluster-admin"},
		Subjects: []rbacv1.Subject{{Kind: rbacv1.GroupKind, APIGroup: rbacv1.GroupName, Name: "kubeadm:cluster-admins"}}}, metav1.CreateOptions{})
	mustCreate(err)

	eventually(t, "allowed once bound (after the 1s deny cache)", 20*time.Second, func() error {
		if code, body := get("/pods", alice, ""); code != http.StatusOK {
			return fmt.Errorf("alice /pods: %d %q", code, body)
		}
		if code, body := get("/stats/summary", nil, apiservertest.Token); code != http.StatusOK {
			return fmt.Errorf("token-user /stats/summary: %d %q", code, body)
		}
		if out, err := logs(); err != nil || !strings.Contains(out, "static-v1") {
			return fmt.Errorf("logs through the apiserver: %q %v", out, err)
		}
		return nil
	})
	// nodes/pods does not reach exec or logs (nodes/proxy).
	if code, body := get("/containerLogs/kube-system/x/y", alice, ""); code != http.StatusForbidden || body != "Forbidden (user=alice, verb=get, resource=nodes, subresource(s)=[proxy])\n" {
		t.Errorf("alice /containerLogs: %d %q", code, body)
	}
}
