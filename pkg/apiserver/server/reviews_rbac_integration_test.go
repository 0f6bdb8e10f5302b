package server_test

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	authorizationv1 "k8s.io/api/authorization/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/kinc-dev/kinc/internal/testenv"
	"github.com/kinc-dev/kinc/pkg/apiserver/apiservertest"
	"github.com/kinc-dev/kinc/pkg/pki"
	"github.com/kinc-dev/kinc/pkg/pki/kubeconfig"
)

// TestIntegrationReviewsRBAC runs kubectl auth can-i and whoami as an
// ordinary user (a client certificate, CN=dana, O=devs) and as the admin
// impersonating her, on --authorization-mode=Node,RBAC with the bootstrap
// policy: the answers follow her RoleBinding.
func TestIntegrationReviewsRBAC(t *testing.T) {
	if testing.Short() {
		t.Skip("starts etcd and kube-apiserver")
	}
	inst := apiservertest.Start(t, apiservertest.Options{ExtraFlags: []string{"--authorization-mode=Node,RBAC"}})
	kubectl := testenv.RequireKubectl(t)
	admin := clientset(t, inst.Config)
	ctx := testCtx(t, 3*time.Minute)
	const ns = "team"
	createNamespace(t, admin, ns)

	dana := userKubeconfig(t, inst, "dana", "devs")
	run := func(kubeconfig string, args ...string) string {
		t.Helper()
		cmd := exec.CommandContext(ctx, kubectl, append([]string{"--kubeconfig", kubeconfig}, args...)...)
		cmd.Env = append(os.Environ(), "HOME="+t.TempDir())
		out, _ := cmd.CombinedOutput() // can-i exits 1 for "no"
		return strings.TrimSpace(string(out))
	}
	// eventually waits until kubectl answers want: RBAC reads bindings
	// from a watch, and the bootstrap policy is reconciled at startup.
	eventually := func(want, kubeconfig string, args ...string) {
		t.Helper()
		var out string
		for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
			if out = run(kubeconfig, args...); out == want {
				return
			}
		}
		t.Errorf("kubectl %s: %q, want %q", strings.Join(args, " "), out, want)
	}

	// system:basic-user lets every authenticated user ask about themselves.
	eventually("no", dana, "auth", "can-i", "create", "pods", "-n", ns)
	out := run(dana, "auth", "whoami")
	for _, w := range []string{"dana", "[devs system:authenticated]"} {
		if !strings.Contains(out, w) {
			t.Errorf("whoami as dana lacks %q:\n%s", w, out)
		}
	}

	// A role of its own: edit is aggregated by the controller-manager,
	// which does not run here.
	if _, err := admin.RbacV1().ClusterRoles().Create(ctx, &rbacv1.ClusterRole{ObjectMeta: metav1.ObjectMeta{Name: "developer"},
		Rules: []rbacv1.PolicyRule{
			{Verbs: []string{"create", "delete", "get", "list"}, APIGroups: []string{""}, Resources: []string{"pods"}},
			{Verbs: []string{"*"}, APIGroups: []string{"apps"}, Resources: []string{"deployments"}},
		}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := admin.RbacV1().RoleBindings(ns).Create(ctx, &rbacv1.RoleBinding{ObjectMeta: metav1.ObjectMeta{Name: "dana-edit"},
		RoleRef:  rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: "developer"},
		Subjects: []rbacv1.Subject{{APIGroup: rbacv1.GroupName, Kind: rbacv1.UserKind, Name: "dana"}}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	eventually("yes", dana, "auth", "can-i", "create", "pods", "-n", ns)
	eventually("no", dana, "auth", "can-i", "create", "pods", "-n", "default")
	eventually("no", dana, "auth", "can-i", "create", "rolebindings", "-n", ns)
	list := run(dana, "auth", "can-i", "--list", "-n", ns)
	for _, w := range []string{"pods ", "deployments.apps", "selfsubjectaccessreviews.authorization.k8s.io", "[/version]"} {
		if !strings.Contains(list, w) {
			t.Errorf("can-i --list as dana lacks %q:\n%s", w, list)
		}
	}
	if strings.Contains(list, "*.*") {
		t.Errorf("can-i --list as dana shows everything:\n%s", list)
	}

	// The admin asks about dana: a SubjectAccessReview, and kubectl --as.
	sar, err := admin.AuthorizationV1().SubjectAccessReviews().Create(ctx, &authorizationv1.SubjectAccessReview{
		Spec: authorizationv1.SubjectAccessReviewSpec{User: "dana", Groups: []string{"devs"},
			ResourceAttributes: &authorizationv1.ResourceAttributes{Namespace: ns, Verb: "delete", Resource: "pods"}}}, metav1.CreateOptions{})
	if err != nil || !sar.Status.Allowed || !strings.Contains(sar.Status.Reason, "dana-edit") {
		t.Errorf("SubjectAccessReview about dana deleting pods: %+v %v, want allowed by dana-edit", sar, err)
	}
	sar, err = admin.AuthorizationV1().SubjectAccessReviews().Create(ctx, &authorizationv1.SubjectAccessReview{
		Spec: authorizationv1.SubjectAccessReviewSpec{User: "dana", Groups: []string{"devs"},
			ResourceAttributes: &authorizationv1.ResourceAttributes{Verb: "list", Resource: "nodes"}}}, metav1.CreateOptions{})
	if err != nil || sar.Status.Allowed {
		t.Errorf("SubjectAccessReview about dana listing nodes: %+v %v, want not allowed", sar, err)
	}
	eventually("yes", inst.Kubeconfig, "auth", "can-i", "create", "pods", "-n", ns, "--as=dana")
	eventually("no", inst.Kubeconfig, "auth", "can-i", "create", "pods", "-n", "default", "--as=dana")
	// dana may not impersonate anyone.
	out = run(dana, "auth", "can-i", "create", "pods", "--as=admin")
	if want := `users "admin" is forbidden: User "dana" cannot impersonate resource "users" in API group "" at the cluster scope`; !strings.Contains(out, want) {
		t.Errorf("dana impersonating: %q, want %q", out, want)
	}
}

// userKubeconfig writes a kubeconfig of inst for a client certificate of
// user in groups.
func userKubeconfig(t *testing.T, inst *apiservertest.Instance, user string, groups ...string) string {
	t.Helper()
	kp, err := inst.CA.Issue(pki.ClientSpec(user, groups...))
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := kubeconfig.Build(kubeconfig.Params{Server: inst.URL, CAData: inst.CA.CertPEM, ClientCertData: kp.CertPEM,
		ClientKeyData: kp.KeyPEM, ClusterName: "kinc-test", UserName: user})
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), fmt.Sprintf("%s.conf", user))
	if err := kubeconfig.WriteFile(path, cfg); err != nil {
		t.Fatal(err)
	}
	return path
}
