package rbac

import (
	"context"
	"testing"

	rbacv1 "k8s.io/api/rbac/v1"

	"github.com/kinc-dev/kinc/pkg/apiserver/authn"
)

func TestConfirmNoEscalation(t *testing.T) {
	f := testSource()
	f.clusterRoles = append(f.clusterRoles,
		clusterRole("role-escalator", rule("escalate", "g:rbac.authorization.k8s.io", "r:roles")),
		clusterRole("binder", rule("bind", "g:rbac.authorization.k8s.io", "r:clusterroles", "n:admin")))
	f.rbs = append(f.rbs,
		roleBinding("ns1", "esc", "ClusterRole", "role-escalator", "User:esc"),
		roleBinding("ns1", "binder", "ClusterRole", "binder", "User:binder"))
	z := New(f)
	ctx := context.Background()
	alice := user("alice", authn.GroupAuthenticated)

	if err := ConfirmNoEscalation(ctx, z, alice, "ns1", []rbacv1.PolicyRule{rule("get,list", "g:", "r:pods")}); err != nil {
		t.Errorf("alice holds get,list pods in ns1: %v", err)
	}
	err := ConfirmNoEscalation(ctx, z, alice, "ns2", []rbacv1.PolicyRule{rule("get,list", "g:", "r:pods"), rule("get", "u:/healthz")})
	want := "user \"alice\" (groups=[\"system:authenticated\"]) is attempting to grant RBAC permissions not currently held:\n" +
		`{APIGroups:[""], Resources:["pods"], Verbs:["get" "list"]}`
	if err == nil || err.Error() != want {
		t.Errorf("alice in ns2:\n%v\nwant\n%s", err, want)
	}
	err = ConfirmNoEscalation(ctx, z, user("bob"), "ns2", []rbacv1.PolicyRule{rule("get", "g:", "r:pods")})
	if want := "user \"bob\" (groups=[]) is attempting to grant RBAC permissions not currently held:\n" +
		`{APIGroups:[""], Resources:["pods"], Verbs:["get"]}; resolution errors: [[role.rbac.authorization.k8s.io "nope" not found, clusterrole.rbac.authorization.k8s.io "nope" not found]]`; err == nil || err.Error() != want {
		t.Errorf("bob:\n%v\nwant\n%s", err, want)
	}
	if err := ConfirmNoEscalation(ctx, z, user("root", "admins"), "", FullAuthority()); err != nil {
		t.Errorf("root holds everything: %v", err)
	}
	if err := ConfirmNoEscalation(ctx, z, nil, "", nil); err == nil {
		t.Error("no user: no error")
	}

	if !EscalationAllowed(user("x", "system:masters")) || EscalationAllowed(user("system:masters")) || EscalationAllowed(nil) {
		t.Error("EscalationAllowed is membership of the group system:masters")
	}
	if !RoleEscalationAuthorized(ctx, z, user("esc"), "roles", "ns1", "") {
		t.Error("esc may escalate roles in ns1")
	}
	if RoleEscalationAuthorized(ctx, z, user("esc"), "clusterroles", "", "") || RoleEscalationAuthorized(ctx, z, user("esc"), "roles", "ns2", "") {
		t.Error("esc may escalate roles in ns1 only")
	}
	if RoleEscalationAuthorized(ctx, nil, user("esc"), "roles", "ns1", "") {
		t.Error("a nil authorizer authorizes")
	}
	admin := rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: "admin"}
	if !BindingAuthorized(ctx, z, user("binder"), admin, "ns1") {
		t.Error("binder may bind admin in ns1")
	}
	other := admin
	other.Name = "pod-reader"
	if BindingAuthorized(ctx, z, user("binder"), other, "ns1") || BindingAuthorized(ctx, z, user("binder"), admin, "ns2") {
		t.Error("binder may bind admin in ns1 only")
	}
	if BindingAuthorized(ctx, z, user("binder"), rbacv1.RoleRef{Kind: "Other", Name: "admin"}, "ns1") {
		t.Error("binding authorized for an unknown kind")
	}
}
