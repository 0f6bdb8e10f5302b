package kubeapply

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	rbacv1 "k8s.io/api/rbac/v1"

	"github.com/kinc-dev/kinc/manifests"
)

func TestCreate(t *testing.T) {
	var got []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		var obj map[string]any
		if r.Method != http.MethodPost || r.Header.Get("Content-Type") != "application/json" || json.Unmarshal(body, &obj) != nil {
			t.Errorf("%s %s %q: %s", r.Method, r.URL.Path, r.Header.Get("Content-Type"), body)
		}
		got = append(got, r.URL.Path)
		switch {
		case strings.HasSuffix(r.URL.Path, "/serviceaccounts"):
			w.WriteHeader(http.StatusConflict)
			w.Write([]byte(`{"kind":"Status","reason":"AlreadyExists","message":"exists"}`))
		case strings.HasSuffix(r.URL.Path, "/roles"):
			w.WriteHeader(http.StatusForbidden)
			w.Write([]byte(`{"kind":"Status","reason":"Forbidden","message":"roles is forbidden: no"}`))
		default:
			w.WriteHeader(http.StatusCreated)
			w.Write(body)
		}
	}))
	defer srv.Close()
	manifest := `
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: a}
---
---
apiVersion: v1
kind: ServiceAccount
metadata: {name: sa, namespace: kube-system}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: r, namespace: kube-public}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: never, namespace: default}
`
	err := Create(context.Background(), srv.Client(), srv.URL, manifest)
	if err == nil || !strings.Contains(err.Error(), "Role kube-public/r: 403 Forbidden: roles is forbidden: no") {
		t.Errorf("err = %v, want the Role's 403 with the server's message", err)
	}
	want := []string{"/apis/rbac.authorization.k8s.io/v1/clusterrolebindings", "/api/v1/namespaces/kube-system/serviceaccounts",
		"/apis/rbac.authorization.k8s.io/v1/namespaces/kube-public/roles"}
	if !slices.Equal(got, want) {
		t.Errorf("requests %q, want %q (in order, stopping at the failure)", got, want)
	}
}

func TestParseRefusesBadObjects(t *testing.T) {
	for name, manifest := range map[string]string{
		"no name":        "apiVersion: v1\nkind: ServiceAccount\nmetadata: {namespace: x}\n",
		"unknown kind":   "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: d, namespace: x}\n",
		"missing ns":     "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\n",
		"cluster-scoped": "apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata: {name: c, namespace: x}\n",
		"not yaml":       "apiVersion: [\n",
	} {
		objs, err := Parse(manifest)
		if err == nil {
			_, err = Path(objs[0])
		}
		if err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

// TestKubeadmRBAC checks kinc's copy of kubeadm's RBAC objects: all
// creatable, kubeadm:cluster-admins first (admin.conf depends on it), and
// each name kubeadm init creates present.
func TestKubeadmRBAC(t *testing.T) {
	objs, err := Parse(manifests.KubeadmRBAC)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, o := range objs {
		if _, err := Path(o); err != nil {
			t.Error(err)
		}
		var strict any
		switch o.Kind {
		case "ClusterRole":
			strict = &rbacv1.ClusterRole{}
		case "ClusterRoleBinding":
			strict = &rbacv1.ClusterRoleBinding{}
		case "Role":
			strict = &rbacv1.Role{}
		case "RoleBinding":
			strict = &rbacv1.RoleBinding{}
		}
		if strict != nil {
			dec := json.NewDecoder(strings.NewReader(string(o.JSON)))
			dec.DisallowUnknownFields()
			if err := dec.Decode(strict); err != nil {
				t.Errorf("%s: %v", o, err)
			}
		}
		names = append(names, o.String())
	}
	if len(objs) == 0 || objs[0].String() != "ClusterRoleBinding kubeadm:cluster-admins" {
		t.Fatalf("first object %v, want ClusterRoleBinding kubeadm:cluster-admins", names)
	}
	for _, want := range []string{
		"ClusterRoleBinding kubeadm:cluster-admins", "ClusterRole kubeadm:get-nodes", "ClusterRoleBinding kubeadm:get-nodes",
		"ClusterRoleBinding kubeadm:kubelet-bootstrap", "ClusterRoleBinding kubeadm:node-autoapprove-bootstrap",
		"ClusterRoleBinding kubeadm:node-autoapprove-certificate-rotation", "ClusterRoleBinding kubeadm:node-proxier",
		"ClusterRoleBinding kubeadm:apiserver-kubelet-client",
		"Role kube-public/kubeadm:bootstrap-signer-clusterinfo", "RoleBinding kube-public/kubeadm:bootstrap-signer-clusterinfo",
		"Role kube-system/kubeadm:nodes-kubeadm-config", "RoleBinding kube-system/kubeadm:nodes-kubeadm-config",
		"Role kube-system/kubeadm:kubelet-config", "RoleBinding kube-system/kubeadm:kubelet-config",
		"ServiceAccount kube-system/kube-proxy", "Role kube-system/kube-proxy", "RoleBinding kube-system/kube-proxy",
	} {
		if !slices.Contains(names, want) {
			t.Errorf("%s missing", want)
		}
	}
	if len(names) != 17 {
		t.Errorf("%d objects, want 17: %v", len(names), names)
	}
}
