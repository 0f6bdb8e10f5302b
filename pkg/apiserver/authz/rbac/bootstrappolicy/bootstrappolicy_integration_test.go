package bootstrappolicy_test

import (
	"context"
	"testing"
	"time"

	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/kinc-dev/kinc/pkg/apiserver/apiservertest"
	"github.com/kinc-dev/kinc/pkg/apiserver/authz/rbac/bootstrappolicy"
)

// TestIntegrationBootstrapPolicy: once kube-apiserver is ready the default
// policy is stored; after a restart a changed default role has its rules
// back and one annotated autoupdate=false is left as it is.
func TestIntegrationBootstrapPolicy(t *testing.T) {
	if testing.Short() {
		t.Skip("starts etcd and kube-apiserver")
	}
	inst := apiservertest.Start(t, apiservertest.Options{})
	cs := inst.Client(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()

	// Ready means the policy is in place: every default object exists.
	selector := metav1.ListOptions{LabelSelector: bootstrappolicy.BootstrappingLabel + "=" + bootstrappolicy.BootstrappingValue}
	count := func() (roles, bindings, nsRoles, nsBindings int) {
		t.Helper()
		cr, err := cs.RbacV1().ClusterRoles().List(ctx, selector)
		if err != nil {
			t.Fatal(err)
		}
		crb, err := cs.RbacV1().ClusterRoleBindings().List(ctx, selector)
		if err != nil {
			t.Fatal(err)
		}
		r, err := cs.RbacV1().Roles("").List(ctx, selector)
		if err != nil {
			t.Fatal(err)
		}
		rb, err := cs.RbacV1().RoleBindings("").List(ctx, selector)
		if err != nil {
			t.Fatal(err)
		}
		return len(cr.Items), len(crb.Items), len(r.Items), len(rb.Items)
	}
	r, b, nr, nb := count()
	if r != len(bootstrappolicy.ClusterRoles())+len(bootstrappolicy.ControllerRoles()) ||
		b != len(bootstrappolicy.ClusterRoleBindings())+len(bootstrappolicy.ControllerRoleBindings()) ||
		nr != len(bootstrappolicy.NamespaceRoles()) || nb != len(bootstrappolicy.NamespaceRoleBindings()) {
		t.Fatalf("after start: %d ClusterRoles, %d ClusterRoleBindings, %d Roles, %d RoleBindings; want the default policy's", r, b, nr, nb)
	}
	admin, err := cs.RbacV1().ClusterRoles().Get(ctx, "admin", metav1.GetOptions{})
	if err != nil || admin.AggregationRule == nil {
		t.Fatalf("admin: %v %+v", err, admin)
	}
	if _, err := cs.RbacV1().ClusterRoleBindings().Get(ctx, "system:controller:deployment-controller", metav1.GetOptions{}); err != nil {
		t.Fatal(err)
	}

	// An autoupdate role loses rules; a protected one too.
	edit := func(name string, fn func(*rbacv1.ClusterRole)) {
		t.Helper()
		cr, err := cs.RbacV1().ClusterRoles().Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		fn(cr)
		if _, err := cs.RbacV1().ClusterRoles().Update(ctx, cr, metav1.UpdateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	onlyPods := []rbacv1.PolicyRule{{Verbs: []string{"get"}, APIGroups: []string{""}, Resources: []string{"pods"}}}
	edit("system:kube-scheduler", func(cr *rbacv1.ClusterRole) { cr.Rules = onlyPods })
	edit("system:kube-dns", func(cr *rbacv1.ClusterRole) {
		cr.Annotations[bootstrappolicy.AutoUpdateAnnotation] = "false"
		cr.Rules = onlyPods
	})
	if err := cs.RbacV1().ClusterRoles().Delete(ctx, "system:heapster", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}

	inst.Restart(t)
	cs = kubernetes.NewForConfigOrDie(inst.Config)

	sched, err := cs.RbacV1().ClusterRoles().Get(ctx, "system:kube-scheduler", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	// Upstream appends the missing rules broken down to single verbs:
	// count the verbs on pods/binding and leases to see they are back.
	has := func(rules []rbacv1.PolicyRule, verb, resource string) bool {
		for _, r := range rules {
			for _, v := range r.Verbs {
				for _, res := range r.Resources {
					if v == verb && res == resource {
						return true
					}
				}
			}
		}
		return false
	}
	if !has(sched.Rules, "create", "pods/binding") || !has(sched.Rules, "create", "leases") || !has(sched.Rules, "get", "pods") {
		t.Errorf("system:kube-scheduler after restart lacks its rules: %v", sched.Rules)
	}
	dns, err := cs.RbacV1().ClusterRoles().Get(ctx, "system:kube-dns", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(dns.Rules) != 1 || has(dns.Rules, "list", "services") {
		t.Errorf("system:kube-dns (autoupdate=false) was changed: %v", dns.Rules)
	}
	if _, err := cs.RbacV1().ClusterRoles().Get(ctx, "system:heapster", metav1.GetOptions{}); err != nil {
		t.Errorf("system:heapster not created again: %v", err)
	}
}
