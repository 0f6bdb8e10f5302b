package rbac

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	rbacv1 "k8s.io/api/rbac/v1"

	"github.com/kinc-dev/kinc/pkg/apiserver/authn"
	"github.com/kinc-dev/kinc/pkg/apiserver/authz"
)

// SystemPrivilegedGroup is the group whose members may do anything
// (upstream's system:masters): the privileged-groups authorizer allows
// them every request and RBAC's escalation check never stops them.
const SystemPrivilegedGroup = "system:masters"

// EscalationAllowed reports whether user may write any RBAC object without
// the escalation check: a member of system:masters.
func EscalationAllowed(user *authn.User) bool {
	return user != nil && slices.Contains(user.Groups, SystemPrivilegedGroup)
}

// RoleEscalationAuthorized reports whether z allows user the verb
// "escalate" on resource ("roles" or "clusterroles") of
// rbac.authorization.k8s.io, named name (empty on create) in namespace:
// such a user may write a role with rules they do not hold. A nil z
// authorizes nothing; an authorizer's error is no.
func RoleEscalationAuthorized(ctx context.Context, z authz.Authorizer, user *authn.User, resource, namespace, name string) bool {
	if z == nil || user == nil {
		return false
	}
	d, _, err := z.Authorize(ctx, authz.Attributes{User: user, Verb: "escalate", IsResourceRequest: true,
		APIGroup: rbacv1.GroupName, Resource: resource, Namespace: namespace, Name: name})
	return err == nil && d == authz.Allow
}

// BindingAuthorized reports whether z allows user the verb "bind" on the
// role ref refers to (roles or clusterroles named ref.Name), in namespace,
// the binding's ("" for a ClusterRoleBinding): such a user may bind the
// role without holding its rules. A nil z authorizes nothing.
func BindingAuthorized(ctx context.Context, z authz.Authorizer, user *authn.User, ref rbacv1.RoleRef, namespace string) bool {
	if z == nil || user == nil {
		return false
	}
	a := authz.Attributes{User: user, Verb: "bind", IsResourceRequest: true, APIGroup: rbacv1.GroupName,
		Namespace: namespace, Name: ref.Name}
	switch ref.Kind {
	case "ClusterRole":
		a.Resource = "clusterroles"
	case "Role":
		a.Resource = "roles"
	default:
		return false
	}
	d, _, err := z.Authorize(ctx, a)
	return err == nil && d == authz.Allow
}

// ConfirmNoEscalation returns an error unless the rules user holds in
// namespace ("" = cluster-wide) cover rules (see Covers). The error's
// message is upstream's: the user, their groups and each missing rule in
// compact form, one a line, sorted, then the errors met resolving the
// user's own rules, if any:
//
//	user "u" (groups=["g"]) is attempting to grant RBAC permissions not currently held:
//	{APIGroups:[""], Resources:["pods"], Verbs:["list"]}
func ConfirmNoEscalation(ctx context.Context, r authz.RuleResolver, user *authn.User, namespace string, rules []rbacv1.PolicyRule) error {
	if user == nil {
		return errors.New("no user on context")
	}
	owned, resolveErr := r.RulesFor(ctx, user, namespace)
	ok, missing := Covers(owned, rules)
	if ok {
		return nil
	}
	var lines []string
	for _, m := range CompactRules(missing) {
		lines = append(lines, CompactString(m))
	}
	slices.Sort(lines)
	lines = slices.Compact(lines)
	msg := fmt.Sprintf("user %q (groups=%q) is attempting to grant RBAC permissions not currently held:\n%s",
		user.Name, user.Groups, strings.Join(lines, "\n"))
	if resolveErr != nil {
		msg += fmt.Sprintf("; resolution errors: [%v]", resolveErr)
	}
	return errors.New(msg)
}

// FullAuthority returns every permission (cluster-admin's rules): setting
// a ClusterRole's aggregationRule needs it.
func FullAuthority() []rbacv1.PolicyRule {
	return []rbacv1.PolicyRule{
		{Verbs: []string{rbacv1.VerbAll}, APIGroups: []string{rbacv1.APIGroupAll}, Resources: []string{rbacv1.ResourceAll}},
		{Verbs: []string{rbacv1.VerbAll}, NonResourceURLs: []string{rbacv1.NonResourceAll}},
	}
}
