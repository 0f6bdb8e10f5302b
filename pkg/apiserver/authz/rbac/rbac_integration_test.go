package rbac_test

import (
	"context"
	"crypto/tls"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/kinc-dev/kinc/pkg/apiserver/apiservertest"
	"github.com/kinc-dev/kinc/pkg/pki"
)

// userClient returns a clientset authenticating with a client certificate
// for user in groups, issued by the instance's CA.
func userClient(t *testing.T, inst *apiservertest.Instance, user string, groups ...string) kubernetes.Interface {
	t.Helper()
	kp, err := inst.CA.Issue(pki.ClientSpec(user, groups...))
	if err != nil {
		t.Fatal(err)
	}
	cfg := rest.CopyConfig(inst.Config)
	cfg.CertData, cfg.KeyData = kp.CertPEM, kp.KeyPEM
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return cs
}

// eventually retries f until it returns nil (the authorizer reads RBAC
// objects from a watch: a new binding applies a moment after it is
// stored).
func eventually(t *testing.T, what string, f func() error) {
	t.Helper()
	var last error
	err := wait.PollUntilContextTimeout(context.Background(), 20*time.Millisecond, 10*time.Second, true, func(context.Context) (bool, error) {
		last = f()
		return last == nil, nil
	})
	if err != nil {
		t.Fatalf("%s: %v", what, last)
	}
}

func wantForbidden(t *testing.T, what string, err error, message string) {
	t.Helper()
	if !apierrors.IsForbidden(err) {
		t.Fatalf("%s: %v, want 403", what, err)
	}
	if got := err.Error(); got != message {
		t.Errorf("%s: message\n%s\nwant\n%s", what, got, message)
	}
}

func rule(verbs []string, group, resource string, names ...string) rbacv1.PolicyRule {
	return rbacv1.PolicyRule{Verbs: verbs, APIGroups: []string{group}, Resources: []string{resource}, ResourceNames: names}
}

func userSubject(name string) []rbacv1.Subject {
	return []rbacv1.Subject{{Kind: rbacv1.UserKind, APIGroup: rbacv1.GroupName, Name: name}}
}

// TestIntegrationRBAC runs kube-apiserver with --authorization-mode=Node,RBAC, as kubeadm:
// a user with a client certificate is refused until a RoleBinding grants,
// and cannot grant through roles or bindings what they do not hold.
func TestIntegrationRBAC(t *testing.T) {
	if testing.Short() {
		t.Skip("starts etcd and kube-apiserver")
	}
	inst := apiservertest.Start(t, apiservertest.Options{ExtraFlags: []string{"--authorization-mode=Node,RBAC"}})
	ctx := context.Background()
	admin := inst.Client(t) // system:masters
	alice := userClient(t, inst, "alice", "dev")
	const ns = "rbac-test"
	if _, err := admin.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}

	t.Run("forbidden until bound", func(t *testing.T) {
		_, err := alice.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{})
		wantForbidden(t, "alice lists pods", err,
			`pods is forbidden: User "alice" cannot list resource "pods" in API group "" in the namespace "rbac-test"`)
		if _, err := admin.RbacV1().Roles(ns).Create(ctx, &rbacv1.Role{ObjectMeta: metav1.ObjectMeta{Name: "pod-reader"},
			Rules: []rbacv1.PolicyRule{rule([]string{"get", "list", "watch"}, "", "pods")}}, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		if _, err := admin.RbacV1().RoleBindings(ns).Create(ctx, &rbacv1.RoleBinding{ObjectMeta: metav1.ObjectMeta{Name: "alice-pods"},
			RoleRef: rbacv1.RoleRef{Kind: "Role", Name: "pod-reader"}, Subjects: userSubject("alice")}, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		eventually(t, "alice lists pods after the binding", func() error {
			_, err := alice.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{})
			return err
		})
		_, err = alice.CoreV1().Pods("default").List(ctx, metav1.ListOptions{})
		wantForbidden(t, "alice lists pods in another namespace", err,
			`pods is forbidden: User "alice" cannot list resource "pods" in API group "" in the namespace "default"`)
		_, err = alice.CoreV1().Pods(ns).Create(ctx, &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "p"},
			Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Image: "x"}}}}, metav1.CreateOptions{})
		wantForbidden(t, "alice creates a pod", err,
			`pods is forbidden: User "alice" cannot create resource "pods" in API group "" in the namespace "rbac-test"`)
	})

	t.Run("groups and missing roles", func(t *testing.T) {
		carol := userClient(t, inst, "carol", "qa")
		if _, err := admin.RbacV1().ClusterRoleBindings().Create(ctx, &rbacv1.ClusterRoleBinding{ObjectMeta: metav1.ObjectMeta{Name: "qa-missing"},
			RoleRef:  rbacv1.RoleRef{Kind: "ClusterRole", Name: "no-such-role"},
			Subjects: []rbacv1.Subject{{Kind: rbacv1.GroupKind, APIGroup: rbacv1.GroupName, Name: "qa"}}}, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		eventually(t, "the missing role is named", func() error {
			_, err := carol.CoreV1().Secrets(ns).List(ctx, metav1.ListOptions{})
			if !apierrors.IsForbidden(err) || !strings.HasSuffix(err.Error(), `: rbac: RBAC: clusterrole.rbac.authorization.k8s.io "no-such-role" not found`) {
				return err
			}
			return nil
		})
		if _, err := admin.RbacV1().ClusterRoles().Create(ctx, &rbacv1.ClusterRole{ObjectMeta: metav1.ObjectMeta{Name: "no-such-role"},
			Rules: []rbacv1.PolicyRule{rule([]string{"list"}, "", "secrets")}}, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		eventually(t, "the group's role once created", func() error {
			_, err := carol.CoreV1().Secrets(ns).List(ctx, metav1.ListOptions{})
			return err
		})
	})

	t.Run("escalation", func(t *testing.T) {
		// alice may write roles and bindings in ns, and holds pod-reader.
		if _, err := admin.RbacV1().ClusterRoles().Create(ctx, &rbacv1.ClusterRole{ObjectMeta: metav1.ObjectMeta{Name: "rbac-writer"},
			Rules: []rbacv1.PolicyRule{rule([]string{"create", "update", "get"}, rbacv1.GroupName, "roles"),
				rule([]string{"create", "update", "get"}, rbacv1.GroupName, "rolebindings")}}, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		if _, err := admin.RbacV1().ClusterRoles().Create(ctx, &rbacv1.ClusterRole{ObjectMeta: metav1.ObjectMeta{Name: "secret-reader"},
			Rules: []rbacv1.PolicyRule{rule([]string{"get", "list"}, "", "secrets")}}, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		if _, err := admin.RbacV1().RoleBindings(ns).Create(ctx, &rbacv1.RoleBinding{ObjectMeta: metav1.ObjectMeta{Name: "alice-rbac"},
			RoleRef: rbacv1.RoleRef{Kind: "ClusterRole", Name: "rbac-writer"}, Subjects: userSubject("alice")}, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		roles := alice.RbacV1().Roles(ns)
		eventually(t, "alice creates a role she holds", func() error {
			_, err := roles.Create(ctx, &rbacv1.Role{ObjectMeta: metav1.ObjectMeta{Name: "held"},
				Rules: []rbacv1.PolicyRule{rule([]string{"get", "list"}, "", "pods")}}, metav1.CreateOptions{})
			return err
		})
		_, err := roles.Create(ctx, &rbacv1.Role{ObjectMeta: metav1.ObjectMeta{Name: "secrets"},
			Rules: []rbacv1.PolicyRule{rule([]string{"get", "delete"}, "", "secrets"), rule([]string{"list"}, "", "pods")}}, metav1.CreateOptions{})
		wantForbidden(t, "alice creates a role with secrets", err,
			`roles.rbac.authorization.k8s.io "secrets" is forbidden: user "alice" (groups=["dev" "system:authenticated"]) is attempting to grant RBAC permissions not currently held:`+"\n"+
				`{APIGroups:[""], Resources:["secrets"], Verbs:["get" "delete"]}`)

		held, err := roles.Get(ctx, "held", metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		held.Rules = append(held.Rules, rule([]string{"get"}, "", "secrets"))
		_, err = roles.Update(ctx, held, metav1.UpdateOptions{})
		wantForbidden(t, "alice adds secrets to a role", err,
			`roles.rbac.authorization.k8s.io "held" is forbidden: user "alice" (groups=["dev" "system:authenticated"]) is attempting to grant RBAC permissions not currently held:`+"\n"+
				`{APIGroups:[""], Resources:["secrets"], Verbs:["get"]}`)

		bindings := alice.RbacV1().RoleBindings(ns)
		secretBinding := &rbacv1.RoleBinding{ObjectMeta: metav1.ObjectMeta{Name: "bob-secrets"},
			RoleRef: rbacv1.RoleRef{Kind: "ClusterRole", Name: "secret-reader"}, Subjects: userSubject("bob")}
		_, err = bindings.Create(ctx, secretBinding, metav1.CreateOptions{})
		wantForbidden(t, "alice binds secret-reader", err,
			`rolebindings.rbac.authorization.k8s.io "bob-secrets" is forbidden: user "alice" (groups=["dev" "system:authenticated"]) is attempting to grant RBAC permissions not currently held:`+"\n"+
				`{APIGroups:[""], Resources:["secrets"], Verbs:["get" "list"]}`)
		_, err = bindings.Create(ctx, &rbacv1.RoleBinding{ObjectMeta: metav1.ObjectMeta{Name: "bob-missing"},
			RoleRef: rbacv1.RoleRef{Kind: "Role", Name: "missing"}, Subjects: userSubject("bob")}, metav1.CreateOptions{})
		if !apierrors.IsNotFound(err) || err.Error() != `roles.rbac.authorization.k8s.io "missing" not found` {
			t.Errorf("alice binds a missing role: %v, want 404", err)
		}
		if _, err := bindings.Create(ctx, &rbacv1.RoleBinding{ObjectMeta: metav1.ObjectMeta{Name: "bob-pods"},
			RoleRef: rbacv1.RoleRef{Kind: "Role", Name: "pod-reader"}, Subjects: userSubject("bob")}, metav1.CreateOptions{}); err != nil {
			t.Errorf("alice binds a role she holds: %v", err)
		}

		// bind on secret-reader lets her bind it without holding it.
		if _, err := admin.RbacV1().Roles(ns).Create(ctx, &rbacv1.Role{ObjectMeta: metav1.ObjectMeta{Name: "binder"},
			Rules: []rbacv1.PolicyRule{rule([]string{"bind"}, rbacv1.GroupName, "clusterroles", "secret-reader")}}, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		if _, err := admin.RbacV1().RoleBindings(ns).Create(ctx, &rbacv1.RoleBinding{ObjectMeta: metav1.ObjectMeta{Name: "alice-binder"},
			RoleRef: rbacv1.RoleRef{Kind: "Role", Name: "binder"}, Subjects: userSubject("alice")}, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		eventually(t, "alice binds secret-reader with bind", func() error {
			_, err := bindings.Create(ctx, secretBinding, metav1.CreateOptions{})
			return err
		})
		// escalate on roles lets her write any role.
		if _, err := admin.RbacV1().Roles(ns).Create(ctx, &rbacv1.Role{ObjectMeta: metav1.ObjectMeta{Name: "escalator"},
			Rules: []rbacv1.PolicyRule{rule([]string{"escalate"}, rbacv1.GroupName, "roles")}}, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		if _, err := admin.RbacV1().RoleBindings(ns).Create(ctx, &rbacv1.RoleBinding{ObjectMeta: metav1.ObjectMeta{Name: "alice-escalator"},
			RoleRef: rbacv1.RoleRef{Kind: "Role", Name: "escalator"}, Subjects: userSubject("alice")}, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		eventually(t, "alice writes a role with escalate", func() error {
			_, err := roles.Create(ctx, &rbacv1.Role{ObjectMeta: metav1.ObjectMeta{Name: "everything"},
				Rules: []rbacv1.PolicyRule{rule([]string{"*"}, "*", "*")}}, metav1.CreateOptions{})
			return err
		})
	})

	t.Run("node authorizer first", func(t *testing.T) {
		kubelet := userClient(t, inst, "system:node:n1", "system:nodes")
		if _, err := kubelet.CoreV1().Nodes().Get(ctx, "n1", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
			t.Errorf("a kubelet reads its own Node: %v, want 404 (allowed, absent)", err)
		}
		_, err := kubelet.CoreV1().Secrets(ns).Get(ctx, "s", metav1.GetOptions{})
		if !apierrors.IsForbidden(err) || !strings.HasSuffix(err.Error(), ": node: no relationship found between node 'n1' and this object") {
			t.Errorf("a kubelet reads an unrelated secret: %v, want 403 with the Node authorizer's reason", err)
		}
	})

	t.Run("anonymous", func(t *testing.T) {
		anon := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: inst.CA.Pool()}}}
		get := func(path string) (int, string) {
			resp, err := anon.Get(inst.URL + path)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			body, _ := io.ReadAll(resp.Body)
			return resp.StatusCode, string(body)
		}
		if code, body := get("/api/v1/namespaces/" + ns + "/pods"); code != http.StatusForbidden || !strings.Contains(body, `User \"system:anonymous\" cannot list resource \"pods\"`) {
			t.Errorf("anonymous list pods: %d %s", code, body)
		}
		// upstream's system:public-info-viewer, as the bootstrap policy has it.
		if _, err := admin.RbacV1().ClusterRoles().Create(ctx, &rbacv1.ClusterRole{ObjectMeta: metav1.ObjectMeta{Name: "test:public-info-viewer"},
			Rules: []rbacv1.PolicyRule{{Verbs: []string{"get"}, NonResourceURLs: []string{"/healthz", "/livez", "/readyz", "/version", "/version/"}}}}, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		if _, err := admin.RbacV1().ClusterRoleBindings().Create(ctx, &rbacv1.ClusterRoleBinding{ObjectMeta: metav1.ObjectMeta{Name: "test:public-info-viewer"},
			RoleRef: rbacv1.RoleRef{Kind: "ClusterRole", Name: "test:public-info-viewer"},
			Subjects: []rbacv1.Subject{{Kind: rbacv1.GroupKind, APIGroup: rbacv1.GroupName, Name: "system:authenticated"},
				{Kind: rbacv1.GroupKind, APIGroup: rbacv1.GroupName, Name: "system:unauthenticated"}}}, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		eventually(t, "anonymous /healthz", func() error {
			if code, body := get("/healthz"); code != http.StatusOK {
				return &httpError{code, body}
			}
			return nil
		})
		if code, body := get("/version"); code != http.StatusOK {
			t.Errorf("anonymous /version: %d %s", code, body)
		}
		if code, body := get("/api"); code != http.StatusForbidden {
			t.Errorf("anonymous /api: %d %s", code, body)
		}
	})
}

type httpError struct {
	code int
	body string
}

func (e *httpError) Error() string { return http.StatusText(e.code) + ": " + e.body }
