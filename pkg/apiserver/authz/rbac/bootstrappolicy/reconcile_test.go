package bootstrappolicy

import (
	"context"
	"testing"
	"time"

	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/kubernetes/scheme"
	testingclock "k8s.io/utils/clock/testing"

	"github.com/kinc-dev/kinc/pkg/apiserver/registry"
	"github.com/kinc-dev/kinc/pkg/apiserver/registry/generic"
	"github.com/kinc-dev/kinc/pkg/apiserver/registry/rbac/clusterrole"
	"github.com/kinc-dev/kinc/pkg/apiserver/registry/rbac/clusterrolebinding"
	rolereg "github.com/kinc-dev/kinc/pkg/apiserver/registry/rbac/role"
	"github.com/kinc-dev/kinc/pkg/apiserver/registry/rbac/rolebinding"
	"github.com/kinc-dev/kinc/pkg/apiserver/storage/memory"
)

// newStores returns the four RBAC stores over in-memory storage, with the
// registry's strategies.
func newStores(t *testing.T) Stores {
	t.Helper()
	clk := testingclock.NewFakeClock(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	deps := registry.Deps{Clock: clk}
	mk := func(d registry.Resource) *generic.Store {
		mem, err := memory.New(memory.Config{Codec: scheme.Codecs.LegacyCodec(rbacv1.SchemeGroupVersion), NewFunc: d.NewFunc, Clock: clk})
		if err != nil {
			t.Fatal(err)
		}
		return &generic.Store{Resource: schema.GroupResource{Group: d.GVK.Group, Resource: d.Name}, Kind: d.GVK,
			Namespaced: d.Namespaced, KeyRoot: d.KeyRoot, NewFunc: d.NewFunc, NewListFunc: d.NewList,
			Strategy: d.Strategy, GetAttrs: d.Attrs, NameFunc: d.NameFunc, Storage: mem, Clock: clk}
	}
	return Stores{ClusterRoles: mk(clusterrole.Resource(deps)), ClusterRoleBindings: mk(clusterrolebinding.Resource(deps)),
		Roles: mk(rolereg.Resource(deps)), RoleBindings: mk(rolebinding.Resource(deps))}
}

func get[T runtime.Object](t *testing.T, st registry.Store, ns, name string) T {
	t.Helper()
	obj, err := st.Get(context.Background(), ns, name, nil)
	if err != nil {
		t.Fatalf("get %s/%s: %v", ns, name, err)
	}
	return obj.(T)
}

func put(t *testing.T, st registry.Store, ns, name string, fn func(obj runtime.Object)) {
	t.Helper()
	_, _, err := st.Update(context.Background(), ns, name, func(_ context.Context, old runtime.Object) (runtime.Object, error) {
		fn(old)
		return old, nil
	}, registry.UpdateOptions{})
	if err != nil {
		t.Fatalf("update %s/%s: %v", ns, name, err)
	}
}

// resourceVersions returns every stored object's resourceVersion by kind,
// namespace and name.
func resourceVersions(t *testing.T, stores Stores) map[string]string {
	t.Helper()
	out := map[string]string{}
	for kind, st := range map[string]registry.Store{"clusterrole": stores.ClusterRoles, "clusterrolebinding": stores.ClusterRoleBindings,
		"role": stores.Roles, "rolebinding": stores.RoleBindings} {
		list, err := st.List(context.Background(), "", &metav1.ListOptions{})
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range metaItems(list) {
			out[kind+" "+m.GetNamespace()+"/"+m.GetName()] = m.GetResourceVersion()
		}
	}
	return out
}

func metaItems(list runtime.Object) []metav1.Object {
	var out []metav1.Object
	switch l := list.(type) {
	case *rbacv1.ClusterRoleList:
		for i := range l.Items {
			out = append(out, &l.Items[i])
		}
	case *rbacv1.ClusterRoleBindingList:
		for i := range l.Items {
			out = append(out, &l.Items[i])
		}
	case *rbacv1.RoleList:
		for i := range l.Items {
			out = append(out, &l.Items[i])
		}
	case *rbacv1.RoleBindingList:
		for i := range l.Items {
			out = append(out, &l.Items[i])
		}
	}
	return out
}

func TestReconcileCreatesThenOnlyReads(t *testing.T) {
	ctx := context.Background()
	stores := newStores(t)
	if err := Reconcile(ctx, stores, nil); err != nil {
		t.Fatal(err)
	}
	first := resourceVersions(t, stores)
	want := len(ClusterRoles()) + len(ControllerRoles()) + len(ClusterRoleBindings()) + len(ControllerRoleBindings()) +
		len(NamespaceRoles()) + len(NamespaceRoleBindings())
	if len(first) != want {
		t.Fatalf("%d objects stored, want %d", len(first), want)
	}
	admin := get[*rbacv1.ClusterRole](t, stores.ClusterRoles, "", "admin")
	if admin.AggregationRule == nil || admin.Annotations[AutoUpdateAnnotation] != "true" || admin.Labels[BootstrappingLabel] != BootstrappingValue {
		t.Errorf("admin = %+v", admin)
	}
	// The aggregation controller fills admin's rules: they stay.
	put(t, stores.ClusterRoles, "", "admin", func(obj runtime.Object) {
		obj.(*rbacv1.ClusterRole).Rules = []rbacv1.PolicyRule{rule("get", g(core), "pods")}
	})
	writes := 0
	counted := Stores{ClusterRoles: writeCounter{stores.ClusterRoles, &writes}, ClusterRoleBindings: writeCounter{stores.ClusterRoleBindings, &writes},
		Roles: writeCounter{stores.Roles, &writes}, RoleBindings: writeCounter{stores.RoleBindings, &writes}}
	if err := Reconcile(ctx, counted, nil); err != nil {
		t.Fatal(err)
	}
	if writes != 0 {
		t.Errorf("a second Reconcile wrote %d times", writes)
	}
}

// writeCounter counts the writes to a store.
type writeCounter struct {
	registry.Store
	n *int
}

func (w writeCounter) Create(ctx context.Context, obj runtime.Object, dryRun bool) (runtime.Object, error) {
	*w.n++
	return w.Store.Create(ctx, obj, dryRun)
}

func (w writeCounter) Update(ctx context.Context, ns, name string, fn registry.UpdateFunc, opts registry.UpdateOptions) (runtime.Object, bool, error) {
	*w.n++
	return w.Store.Update(ctx, ns, name, fn, opts)
}

func (w writeCounter) Delete(ctx context.Context, ns, name string, opts *metav1.DeleteOptions, dryRun bool) (runtime.Object, bool, error) {
	*w.n++
	return w.Store.Delete(ctx, ns, name, opts, dryRun)
}

func TestReconcileRestoresAutoupdateObjects(t *testing.T) {
	ctx := context.Background()
	stores := newStores(t)
	if err := Reconcile(ctx, stores, nil); err != nil {
		t.Fatal(err)
	}
	extra := rule("get", g(core), "secrets")
	put(t, stores.ClusterRoles, "", "system:kube-dns", func(obj runtime.Object) {
		r := obj.(*rbacv1.ClusterRole)
		r.Rules = []rbacv1.PolicyRule{rule("list", g(core), "services"), extra}
		delete(r.Labels, BootstrappingLabel)
		r.Labels["mine"] = "yes"
	})
	put(t, stores.ClusterRoles, "", "view", func(obj runtime.Object) {
		obj.(*rbacv1.ClusterRole).AggregationRule.ClusterRoleSelectors[0].MatchLabels = map[string]string{"other": "true"}
	})
	put(t, stores.ClusterRoles, "", "system:basic-user", func(obj runtime.Object) {
		obj.(*rbacv1.ClusterRole).AggregationRule = &rbacv1.AggregationRule{ClusterRoleSelectors: []metav1.LabelSelector{
			{MatchLabels: map[string]string{"x": "y"}}}}
	})
	me := user("me")
	put(t, stores.ClusterRoleBindings, "", "system:public-info-viewer", func(obj runtime.Object) {
		obj.(*rbacv1.ClusterRoleBinding).Subjects = []rbacv1.Subject{me}
	})
	put(t, stores.Roles, "kube-system", "extension-apiserver-authentication-reader", func(obj runtime.Object) {
		obj.(*rbacv1.Role).Rules = nil
	})
	put(t, stores.RoleBindings, "kube-system", "system::leader-locking-kube-scheduler", func(obj runtime.Object) {
		obj.(*rbacv1.RoleBinding).Subjects = nil
	})
	// A roleRef cannot change: the binding is created again.
	if _, _, err := stores.ClusterRoleBindings.Delete(ctx, "", "system:kube-dns", nil, false); err != nil {
		t.Fatal(err)
	}
	moved := clusterRoleBinding("system:kube-dns", me)
	moved.RoleRef.Name = "view"
	if _, err := stores.ClusterRoleBindings.Create(ctx, &moved, false); err != nil {
		t.Fatal(err)
	}

	if err := Reconcile(ctx, stores, nil); err != nil {
		t.Fatal(err)
	}

	dns := get[*rbacv1.ClusterRole](t, stores.ClusterRoles, "", "system:kube-dns")
	if missing := uncovered(dns.Rules, []rbacv1.PolicyRule{rule("list watch", g(core), "endpoints", "services")}); len(missing) > 0 {
		t.Errorf("system:kube-dns still lacks %v", missing)
	}
	if len(uncovered(dns.Rules, []rbacv1.PolicyRule{extra})) > 0 || dns.Labels["mine"] != "yes" || dns.Labels[BootstrappingLabel] != BootstrappingValue {
		t.Errorf("system:kube-dns lost what it had or did not get its label back: %+v", dns)
	}
	view := get[*rbacv1.ClusterRole](t, stores.ClusterRoles, "", "view")
	if n := len(view.AggregationRule.ClusterRoleSelectors); n != 2 {
		t.Errorf("view has %d selectors, want the user's and the default: %+v", n, view.AggregationRule)
	}
	if r := get[*rbacv1.ClusterRole](t, stores.ClusterRoles, "", "system:basic-user"); r.AggregationRule != nil {
		t.Errorf("system:basic-user keeps an aggregationRule: %+v", r.AggregationRule)
	}
	piv := get[*rbacv1.ClusterRoleBinding](t, stores.ClusterRoleBindings, "", "system:public-info-viewer")
	if len(piv.Subjects) != 3 || piv.Subjects[0] != me {
		t.Errorf("system:public-info-viewer subjects = %v, want me and the two default groups", piv.Subjects)
	}
	if r := get[*rbacv1.Role](t, stores.Roles, "kube-system", "extension-apiserver-authentication-reader"); len(r.Rules) == 0 {
		t.Error("extension-apiserver-authentication-reader did not get its rules back")
	}
	if b := get[*rbacv1.RoleBinding](t, stores.RoleBindings, "kube-system", "system::leader-locking-kube-scheduler"); len(b.Subjects) != 2 {
		t.Errorf("system::leader-locking-kube-scheduler subjects = %v", b.Subjects)
	}
	if b := get[*rbacv1.ClusterRoleBinding](t, stores.ClusterRoleBindings, "", "system:kube-dns"); b.RoleRef.Name != "system:kube-dns" ||
		len(b.Subjects) != 1 || b.Subjects[0] != serviceAccount("kube-system", "kube-dns") {
		t.Errorf("system:kube-dns binding = %+v, want the default created again", b)
	}
}

func TestReconcileLeavesProtectedObjects(t *testing.T) {
	ctx := context.Background()
	stores := newStores(t)
	if err := Reconcile(ctx, stores, nil); err != nil {
		t.Fatal(err)
	}
	put(t, stores.ClusterRoles, "", "edit", func(obj runtime.Object) {
		r := obj.(*rbacv1.ClusterRole)
		r.Annotations[AutoUpdateAnnotation] = "false"
		r.AggregationRule = nil
		r.Rules = []rbacv1.PolicyRule{rule("get", g(core), "pods")}
	})
	put(t, stores.ClusterRoleBindings, "", "system:basic-user", func(obj runtime.Object) {
		b := obj.(*rbacv1.ClusterRoleBinding)
		b.Annotations[AutoUpdateAnnotation] = "false"
		b.Subjects = nil
	})
	before := resourceVersions(t, stores)
	if err := Reconcile(ctx, stores, nil); err != nil {
		t.Fatal(err)
	}
	after := resourceVersions(t, stores)
	for _, k := range []string{"clusterrole /edit", "clusterrolebinding /system:basic-user"} {
		if before[k] != after[k] {
			t.Errorf("%s (autoupdate=false) was rewritten", k)
		}
	}
	if r := get[*rbacv1.ClusterRole](t, stores.ClusterRoles, "", "edit"); r.AggregationRule != nil || len(r.Rules) != 1 {
		t.Errorf("edit = %+v", r)
	}
}
