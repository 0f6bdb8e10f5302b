package rbac_test

import (
	"context"
	"strings"
	"testing"

	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/kinc-dev/kinc/pkg/apiserver/authn"
	rbacauthz "github.com/kinc-dev/kinc/pkg/apiserver/authz/rbac"
	"github.com/kinc-dev/kinc/pkg/apiserver/registry"
	"github.com/kinc-dev/kinc/pkg/apiserver/registry/rbac/clusterrole"
	"github.com/kinc-dev/kinc/pkg/apiserver/registry/rbac/clusterrolebinding"
	"github.com/kinc-dev/kinc/pkg/apiserver/registry/rbac/role"
	"github.com/kinc-dev/kinc/pkg/apiserver/registry/rbac/rolebinding"
)

// memStore keeps objects by namespace/name; Create and Update store them
// as given (no strategy).
type memStore struct {
	registry.Store
	objs map[string]runtime.Object
}

func key(ns, name string) string { return ns + "/" + name }

func (m *memStore) Create(_ context.Context, obj runtime.Object, _ bool) (runtime.Object, error) {
	a, _ := obj.(metav1.Object)
	m.objs[key(a.GetNamespace(), a.GetName())] = obj
	return obj, nil
}

func (m *memStore) Get(_ context.Context, ns, name string, _ *metav1.GetOptions) (runtime.Object, error) {
	if o, ok := m.objs[key(ns, name)]; ok {
		return o, nil
	}
	return nil, apierrors.NewNotFound(schema.GroupResource{Group: rbacv1.GroupName, Resource: "roles"}, name)
}

func (m *memStore) Update(ctx context.Context, ns, name string, update registry.UpdateFunc, _ registry.UpdateOptions) (runtime.Object, bool, error) {
	old := m.objs[key(ns, name)]
	obj, err := update(ctx, old.DeepCopyObject())
	if err != nil {
		return nil, false, err
	}
	m.objs[key(ns, name)] = obj
	return obj, false, nil
}

// memSource serves the RBAC authorizer from the memStores.
type memSource struct{ roles, clusterRoles, rbs, crbs *memStore }

func (s memSource) GetRole(_ context.Context, ns, name string) (*rbacv1.Role, error) {
	if o, ok := s.roles.objs[key(ns, name)]; ok {
		return o.(*rbacv1.Role), nil
	}
	return nil, rbacauthz.NotFound("role", name)
}

func (s memSource) GetClusterRole(_ context.Context, name string) (*rbacv1.ClusterRole, error) {
	if o, ok := s.clusterRoles.objs[key("", name)]; ok {
		return o.(*rbacv1.ClusterRole), nil
	}
	return nil, rbacauthz.NotFound("clusterrole", name)
}

func (s memSource) ListRoleBindings(_ context.Context, ns string) ([]*rbacv1.RoleBinding, error) {
	var out []*rbacv1.RoleBinding
	for _, o := range s.rbs.objs {
		if b := o.(*rbacv1.RoleBinding); b.Namespace == ns {
			out = append(out, b)
		}
	}
	return out, nil
}

func (s memSource) ListClusterRoleBindings(context.Context) ([]*rbacv1.ClusterRoleBinding, error) {
	var out []*rbacv1.ClusterRoleBinding
	for _, o := range s.crbs.objs {
		out = append(out, o.(*rbacv1.ClusterRoleBinding))
	}
	return out, nil
}

func rules(verbs, group, resource string) []rbacv1.PolicyRule {
	return []rbacv1.PolicyRule{{Verbs: strings.Split(verbs, ","), APIGroups: []string{group}, Resources: []string{resource}}}
}

func TestEscalationGuards(t *testing.T) {
	mem := func() *memStore { return &memStore{objs: map[string]runtime.Object{}} }
	src := memSource{roles: mem(), clusterRoles: mem(), rbs: mem(), crbs: mem()}
	z := rbacauthz.New(src)
	auth := &registry.Auth{}
	deps := registry.Deps{Auth: auth, Stores: func(gvr schema.GroupVersionResource) registry.Store {
		switch gvr.Resource {
		case "roles":
			return src.roles
		case "clusterroles":
			return src.clusterRoles
		}
		return nil
	}}
	roles := role.Resource(deps).WrapStore(src.roles)
	clusterRoles := clusterrole.Resource(deps).WrapStore(src.clusterRoles)
	rbs := rolebinding.Resource(deps).WrapStore(src.rbs)
	crbs := clusterrolebinding.Resource(deps).WrapStore(src.crbs)

	root := authn.WithUser(context.Background(), &authn.User{Name: "root", Groups: []string{"system:masters"}})
	alice := authn.WithUser(context.Background(), &authn.User{Name: "alice", Groups: []string{"system:authenticated"}})
	meta := func(ns, name string) metav1.ObjectMeta { return metav1.ObjectMeta{Namespace: ns, Name: name} }
	mustCreate := func(ctx context.Context, st registry.Store, obj runtime.Object) {
		t.Helper()
		if _, err := st.Create(ctx, obj, false); err != nil {
			t.Fatalf("create %T: %v", obj, err)
		}
	}
	forbidden := func(err error, want string) {
		t.Helper()
		if !apierrors.IsForbidden(err) || !strings.Contains(err.Error(), want) {
			t.Errorf("got %v, want 403 containing %q", err, want)
		}
	}

	// Without RBAC (no Rules) nothing is checked.
	mustCreate(alice, clusterRoles, &rbacv1.ClusterRole{ObjectMeta: meta("", "everything"), Rules: rbacauthz.FullAuthority()})
	auth.Authorizer, auth.Rules = z, z

	mustCreate(root, clusterRoles, &rbacv1.ClusterRole{ObjectMeta: meta("", "pod-reader"), Rules: rules("get,list", "", "pods")})
	mustCreate(root, clusterRoles, &rbacv1.ClusterRole{ObjectMeta: meta("", "rbac-editor"), Rules: []rbacv1.PolicyRule{
		{Verbs: []string{"create", "update"}, APIGroups: []string{rbacv1.GroupName}, Resources: []string{"roles", "rolebindings"}}}})
	mustCreate(root, crbs, &rbacv1.ClusterRoleBinding{ObjectMeta: meta("", "alice-rbac"),
		RoleRef:  rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: "rbac-editor"},
		Subjects: []rbacv1.Subject{{Kind: "User", APIGroup: rbacv1.GroupName, Name: "alice"}}})

	// alice holds only the rbac-editor rules: a role with pods is refused.
	_, err := roles.Create(alice, &rbacv1.Role{ObjectMeta: meta("ns1", "r"), Rules: rules("get", "", "pods")}, false)
	forbidden(err, `roles.rbac.authorization.k8s.io "r" is forbidden: user "alice" (groups=["system:authenticated"]) is attempting to grant RBAC permissions not currently held:`+
		"\n"+`{APIGroups:[""], Resources:["pods"], Verbs:["get"]}`)
	// She may create a role with rules she holds.
	mustCreate(alice, roles, &rbacv1.Role{ObjectMeta: meta("ns1", "r"), Rules: []rbacv1.PolicyRule{
		{Verbs: []string{"create"}, APIGroups: []string{rbacv1.GroupName}, Resources: []string{"roles"}}}})
	// Binding pod-reader needs its rules or bind.
	binding := &rbacv1.RoleBinding{ObjectMeta: meta("ns1", "b"), RoleRef: rbacv1.RoleRef{Kind: "ClusterRole", Name: "pod-reader"},
		Subjects: []rbacv1.Subject{{Kind: "User", Name: "bob"}}}
	_, err = rbs.Create(alice, binding, false)
	forbidden(err, `rolebindings.rbac.authorization.k8s.io "b" is forbidden: user "alice"`)
	_, err = rbs.Create(alice, &rbacv1.RoleBinding{ObjectMeta: meta("ns1", "b2"), RoleRef: rbacv1.RoleRef{Kind: "Role", Name: "missing"}}, false)
	if !apierrors.IsNotFound(err) {
		t.Errorf("binding a missing role: %v, want 404", err)
	}
	mustCreate(root, clusterRoles, &rbacv1.ClusterRole{ObjectMeta: meta("", "binder"), Rules: []rbacv1.PolicyRule{
		{Verbs: []string{"bind"}, APIGroups: []string{rbacv1.GroupName}, Resources: []string{"clusterroles"}, ResourceNames: []string{"pod-reader"}}}})
	mustCreate(root, rbs, &rbacv1.RoleBinding{ObjectMeta: meta("ns1", "alice-binder"), RoleRef: rbacv1.RoleRef{Kind: "ClusterRole", Name: "binder"},
		Subjects: []rbacv1.Subject{{Kind: "User", APIGroup: rbacv1.GroupName, Name: "alice"}}})
	mustCreate(alice, rbs, binding)
	// In another namespace, bind does not apply.
	other := binding.DeepCopy()
	other.Namespace = "ns2"
	_, err = rbs.Create(alice, other, false)
	forbidden(err, "not currently held")

	// escalate on roles lets her write any role.
	mustCreate(root, clusterRoles, &rbacv1.ClusterRole{ObjectMeta: meta("", "escalator"), Rules: rules("escalate", rbacv1.GroupName, "roles")})
	mustCreate(root, rbs, &rbacv1.RoleBinding{ObjectMeta: meta("ns1", "alice-esc"), RoleRef: rbacv1.RoleRef{Kind: "ClusterRole", Name: "escalator"},
		Subjects: []rbacv1.Subject{{Kind: "User", APIGroup: rbacv1.GroupName, Name: "alice"}}})
	mustCreate(alice, roles, &rbacv1.Role{ObjectMeta: meta("ns1", "big"), Rules: rules("*", "*", "*")})

	// Updates: a role update adding rules she does not hold is refused; a
	// change of finalizers only is not checked.
	setRules := func(r []rbacv1.PolicyRule) registry.UpdateFunc {
		return func(_ context.Context, old runtime.Object) (runtime.Object, error) {
			cr := old.(*rbacv1.ClusterRole)
			cr.Rules = r
			return cr, nil
		}
	}
	_, _, err = clusterRoles.Update(alice, "", "pod-reader", setRules(rules("*", "", "secrets")), registry.UpdateOptions{})
	forbidden(err, `clusterroles.rbac.authorization.k8s.io "pod-reader" is forbidden`)
	_, _, err = clusterRoles.Update(alice, "", "everything", func(_ context.Context, old runtime.Object) (runtime.Object, error) {
		old.(*rbacv1.ClusterRole).Finalizers = []string{"x"}
		return old, nil
	}, registry.UpdateOptions{})
	if err != nil {
		t.Errorf("finalizers only: %v", err)
	}
	// An aggregation rule needs every permission.
	_, err = clusterRoles.Create(alice, &rbacv1.ClusterRole{ObjectMeta: meta("", "agg"),
		AggregationRule: &rbacv1.AggregationRule{ClusterRoleSelectors: []metav1.LabelSelector{{}}}}, false)
	forbidden(err, "must have cluster-admin privileges to use the aggregationRule")
	mustCreate(root, clusterRoles, &rbacv1.ClusterRole{ObjectMeta: meta("", "agg"),
		AggregationRule: &rbacv1.AggregationRule{ClusterRoleSelectors: []metav1.LabelSelector{{}}}})
}
