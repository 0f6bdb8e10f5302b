package rbac

import (
	"context"
	"strings"
	"testing"

	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/kinc-dev/kinc/pkg/apiserver/authn"
	"github.com/kinc-dev/kinc/pkg/apiserver/authz"
	"github.com/kinc-dev/kinc/pkg/apiserver/serviceaccount"
)

// fakeSource is an in-memory Source.
type fakeSource struct {
	roles        []*rbacv1.Role
	clusterRoles []*rbacv1.ClusterRole
	rbs          []*rbacv1.RoleBinding
	crbs         []*rbacv1.ClusterRoleBinding
}

func (f *fakeSource) GetRole(_ context.Context, ns, name string) (*rbacv1.Role, error) {
	for _, r := range f.roles {
		if r.Namespace == ns && r.Name == name {
			return r, nil
		}
	}
	return nil, NotFound("role", name)
}

func (f *fakeSource) GetClusterRole(_ context.Context, name string) (*rbacv1.ClusterRole, error) {
	for _, r := range f.clusterRoles {
		if r.Name == name {
			return r, nil
		}
	}
	return nil, NotFound("clusterrole", name)
}

func (f *fakeSource) ListRoleBindings(_ context.Context, ns string) ([]*rbacv1.RoleBinding, error) {
	var out []*rbacv1.RoleBinding
	for _, b := range f.rbs {
		if b.Namespace == ns {
			out = append(out, b)
		}
	}
	return out, nil
}

func (f *fakeSource) ListClusterRoleBindings(context.Context) ([]*rbacv1.ClusterRoleBinding, error) {
	return f.crbs, nil
}

func role(ns, name string, rules ...rbacv1.PolicyRule) *rbacv1.Role {
	return &rbacv1.Role{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}, Rules: rules}
}

func clusterRole(name string, rules ...rbacv1.PolicyRule) *rbacv1.ClusterRole {
	return &rbacv1.ClusterRole{ObjectMeta: metav1.ObjectMeta{Name: name}, Rules: rules}
}

// subject parses "User:x", "Group:x", "ServiceAccount:ns:x" (ns may be
// empty).
func subject(s string) rbacv1.Subject {
	kind, rest, _ := strings.Cut(s, ":")
	if kind == rbacv1.ServiceAccountKind {
		ns, name, _ := strings.Cut(rest, ":")
		return rbacv1.Subject{Kind: kind, Namespace: ns, Name: name}
	}
	return rbacv1.Subject{Kind: kind, APIGroup: rbacv1.GroupName, Name: rest}
}

func subjects(ss []string) []rbacv1.Subject {
	var out []rbacv1.Subject
	for _, s := range ss {
		out = append(out, subject(s))
	}
	return out
}

func roleBinding(ns, name, refKind, ref string, ss ...string) *rbacv1.RoleBinding {
	return &rbacv1.RoleBinding{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		RoleRef: rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: refKind, Name: ref}, Subjects: subjects(ss)}
}

func clusterRoleBinding(name, ref string, ss ...string) *rbacv1.ClusterRoleBinding {
	return &rbacv1.ClusterRoleBinding{ObjectMeta: metav1.ObjectMeta{Name: name},
		RoleRef: rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: ref}, Subjects: subjects(ss)}
}

func user(name string, groups ...string) *authn.User { return &authn.User{Name: name, Groups: groups} }

func testSource() *fakeSource {
	return &fakeSource{
		clusterRoles: []*rbacv1.ClusterRole{
			clusterRole("admin", rule("*", "g:*", "r:*"), rule("*", "u:*")),
			clusterRole("pod-reader", rule("get,list,watch", "g:", "r:pods")),
			clusterRole("public", rule("get", "u:/healthz,/version,/version/")),
			clusterRole("status-writer", rule("update", "g:*", "r:*/status")),
		},
		roles: []*rbacv1.Role{
			role("ns1", "cm-editor", rule("*", "g:", "r:configmaps")),
			role("ns1", "one-secret", rule("get", "g:", "r:secrets", "n:s1")),
			role("ns2", "cm-editor", rule("get", "g:", "r:configmaps")),
		},
		crbs: []*rbacv1.ClusterRoleBinding{
			clusterRoleBinding("admins", "admin", "Group:admins"),
			clusterRoleBinding("public", "public", "Group:system:authenticated", "Group:system:unauthenticated"),
			clusterRoleBinding("status", "status-writer", "ServiceAccount:kube-system:ctrl"),
			clusterRoleBinding("sa-no-namespace", "admin", "ServiceAccount::nowhere"),
			clusterRoleBinding("dangling", "missing", "User:dangler"),
		},
		rbs: []*rbacv1.RoleBinding{
			roleBinding("ns1", "alice-pods", "ClusterRole", "pod-reader", "User:alice"),
			roleBinding("ns1", "alice-cm", "Role", "cm-editor", "User:alice"),
			roleBinding("ns1", "sa-secret", "Role", "one-secret", "ServiceAccount::app"),
			roleBinding("ns1", "sa-group", "ClusterRole", "pod-reader", "Group:system:serviceaccounts:ns2"),
			roleBinding("ns2", "bob-missing-role", "Role", "nope", "User:bob"),
			roleBinding("ns2", "bob-missing-cr", "ClusterRole", "nope", "User:bob"),
		},
	}
}

func TestAuthorize(t *testing.T) {
	z := New(testSource())
	sa := func(ns, name string) *authn.User {
		return user("system:serviceaccount:"+ns+":"+name, "system:serviceaccounts", "system:serviceaccounts:"+ns, authn.GroupAuthenticated)
	}
	for _, tc := range []struct {
		name   string
		user   *authn.User
		attrs  authz.Attributes
		allow  bool
		reason string // substring of the reason, when not allowed
	}{
		{"group bound cluster-wide", user("root", "admins"), res("delete", "apps", "deployments", "", "x"), true, ""},
		{"group bound, any namespace", user("root", "admins"), ns(res("create", "", "pods", "", ""), "ns9"), true, ""},
		{"group bound, non-resource", user("root", "admins"), url("get", "/metrics"), true, ""},
		{"no binding", user("eve", authn.GroupAuthenticated), ns(res("list", "", "pods", "", ""), "ns1"), false, ""},
		{"public paths for authenticated", user("eve", authn.GroupAuthenticated), url("get", "/healthz"), true, ""},
		{"public paths for anonymous", user(authn.Anonymous, authn.GroupUnauthenticated), url("get", "/version/"), true, ""},
		{"public paths: exact only", user(authn.Anonymous, authn.GroupUnauthenticated), url("get", "/healthz/etcd"), false, ""},
		{"public paths: verb", user(authn.Anonymous, authn.GroupUnauthenticated), url("post", "/healthz"), false, ""},
		{"anonymous elsewhere", user(authn.Anonymous, authn.GroupUnauthenticated), ns(res("list", "", "pods", "", ""), "ns1"), false, ""},
		{"rolebinding to clusterrole in its namespace", user("alice"), ns(res("list", "", "pods", "", ""), "ns1"), true, ""},
		{"rolebinding not in another namespace", user("alice"), ns(res("list", "", "pods", "", ""), "ns2"), false, ""},
		{"rolebinding not at cluster scope", user("alice"), res("list", "", "pods", "", ""), false, ""},
		{"rolebinding to role", user("alice"), ns(res("delete", "", "configmaps", "", "x"), "ns1"), true, ""},
		{"role rules only", user("alice"), ns(res("delete", "", "secrets", "", "x"), "ns1"), false, ""},
		{"user name is exact", user("alice2"), ns(res("list", "", "pods", "", ""), "ns1"), false, ""},
		{"group name is not a user", user("admins"), res("get", "", "pods", "", ""), false, ""},
		{"service account, namespace defaults to binding's", sa("ns1", "app"), ns(res("get", "", "secrets", "", "s1"), "ns1"), true, ""},
		{"service account resourceNames", sa("ns1", "app"), ns(res("get", "", "secrets", "", "s2"), "ns1"), false, ""},
		{"service account resourceNames, list", sa("ns1", "app"), ns(res("list", "", "secrets", "", ""), "ns1"), false, ""},
		{"service account of another namespace", sa("ns2", "app"), ns(res("get", "", "secrets", "", "s1"), "ns1"), false, ""},
		{"service account groups", sa("ns2", "any"), ns(res("watch", "", "pods", "", ""), "ns1"), true, ""},
		{"service account in clusterrolebinding", sa("kube-system", "ctrl"), ns(res("update", "apps", "deployments", "status", "d"), "x"), true, ""},
		{"*/status only", sa("kube-system", "ctrl"), ns(res("update", "apps", "deployments", "", "d"), "x"), false, ""},
		{"service account look-alike user", user("system:serviceaccount:kube-system:ctrl2"), res("update", "", "nodes", "status", "n"), false, ""},
		{"clusterrolebinding SA subject without namespace matches nobody", sa("", "nowhere"), res("get", "", "pods", "", ""), false, ""},
		{"missing cluster role", user("dangler"), res("get", "", "pods", "", ""), false,
			`RBAC: clusterrole.rbac.authorization.k8s.io "missing" not found`},
		{"missing roles in namespace", user("bob"), ns(res("get", "", "pods", "", ""), "ns2"), false,
			`RBAC: [role.rbac.authorization.k8s.io "nope" not found, clusterrole.rbac.authorization.k8s.io "nope" not found]`},
		{"nil user", nil, url("get", "/healthz"), false, ""},
	} {
		a := tc.attrs
		a.User = tc.user
		d, reason, err := z.Authorize(context.Background(), a)
		if err != nil {
			t.Errorf("%s: %v", tc.name, err)
			continue
		}
		if got := d == authz.Allow; got != tc.allow {
			t.Errorf("%s: allowed = %v (%q), want %v", tc.name, got, reason, tc.allow)
		}
		if d != authz.Allow && d != authz.NoOpinion {
			t.Errorf("%s: decision %v, RBAC never denies", tc.name, d)
		}
		if !tc.allow && reason != tc.reason {
			t.Errorf("%s: reason %q, want %q", tc.name, reason, tc.reason)
		}
	}
}

func ns(a authz.Attributes, namespace string) authz.Attributes {
	a.Namespace = namespace
	return a
}

func TestAllowedReason(t *testing.T) {
	z := New(testSource())
	_, reason, _ := z.Authorize(context.Background(), authz.Attributes{User: user("alice"), Verb: "get",
		IsResourceRequest: true, Resource: "pods", Namespace: "ns1"})
	if want := `RBAC: allowed by RoleBinding "alice-pods/ns1" of ClusterRole "pod-reader" to User "alice"`; reason != want {
		t.Errorf("reason %q, want %q", reason, want)
	}
	_, reason, _ = z.Authorize(context.Background(), authz.Attributes{User: user("system:serviceaccount:ns1:app"), Verb: "get",
		IsResourceRequest: true, Resource: "secrets", Name: "s1", Namespace: "ns1"})
	if want := `RBAC: allowed by RoleBinding "sa-secret/ns1" of Role "one-secret" to ServiceAccount "app/ns1"`; reason != want {
		t.Errorf("reason %q, want %q", reason, want)
	}
}

func TestRulesFor(t *testing.T) {
	z := New(testSource())
	rules, err := z.RulesFor(context.Background(), user("alice", authn.GroupAuthenticated), "ns1")
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, r := range rules {
		got = append(got, CompactString(r))
	}
	want := []string{
		`{NonResourceURLs:["/healthz" "/version" "/version/"], Verbs:["get"]}`,
		`{APIGroups:[""], Resources:["pods"], Verbs:["get" "list" "watch"]}`,
		`{APIGroups:[""], Resources:["configmaps"], Verbs:["*"]}`,
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("rules\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	rules, err = z.RulesFor(context.Background(), user("bob"), "ns2")
	if err == nil || len(rules) != 0 {
		t.Errorf("bob: rules %v, err %v; want none and the missing roles", rules, err)
	}
}

func TestServiceAccountNames(t *testing.T) {
	for _, tc := range []struct {
		user, ns, name string
		match          bool
	}{
		{"system:serviceaccount:a:b", "a", "b", true},
		{"system:serviceaccount:a:bc", "a", "b", false},
		{"system:serviceaccount:ab:c", "a", "b:c", false},
		{"system:serviceaccount:a:b", "a:b", "", false},
		{"system:serviceaccounts:a:b", "a", "b", false},
	} {
		if got := serviceAccountMatches(tc.user, tc.ns, tc.name); got != tc.match {
			t.Errorf("serviceAccountMatches(%q, %q, %q) = %v", tc.user, tc.ns, tc.name, got)
		}
	}
	if ns, name, ok := serviceaccount.SplitUsername("system:serviceaccount:kube-system:default"); !ok || ns != "kube-system" || name != "default" {
		t.Errorf("split: %q %q %v", ns, name, ok)
	}
	for _, u := range []string{"system:serviceaccount:a", "system:serviceaccount::b", "alice", "system:serviceaccount:a:b:c"} {
		if _, _, ok := serviceaccount.SplitUsername(u); ok {
			t.Errorf("split(%q) ok", u)
		}
	}
}
