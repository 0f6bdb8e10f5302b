// Package rbac is the RBAC authorizer (--authorization-mode=RBAC): a
// request is allowed when a rule of a role bound to the user allows it, with
// upstream's semantics. ClusterRoleBindings apply in every namespace and at
// the cluster scope, RoleBindings in their own namespace (to a Role of that
// namespace or a ClusterRole). The package also holds RBAC's escalation
// prevention (ConfirmNoEscalation, BindingAuthorized, …) used by the
// registry of the four RBAC kinds, and the Source that keeps the RBAC
// objects in memory from the apiserver's own stores.
package rbac

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime/schema"
	utilerrors "k8s.io/apimachinery/pkg/util/errors"

	"github.com/kinc-dev/kinc/pkg/apiserver/authn"
	"github.com/kinc-dev/kinc/pkg/apiserver/authz"
	"github.com/kinc-dev/kinc/pkg/apiserver/serviceaccount"
)

// Source is where the authorizer reads RBAC objects. The objects returned
// are shared: callers never modify them. Implementations are safe for
// concurrent use.
type Source interface {
	// GetRole returns the Role namespace/name, or an error: a missing role
	// is a NotFound error (see NotFound).
	GetRole(ctx context.Context, namespace, name string) (*rbacv1.Role, error)
	// GetClusterRole returns the ClusterRole name, or an error as GetRole.
	GetClusterRole(ctx context.Context, name string) (*rbacv1.ClusterRole, error)
	// ListRoleBindings returns the RoleBindings of namespace.
	ListRoleBindings(ctx context.Context, namespace string) ([]*rbacv1.RoleBinding, error)
	// ListClusterRoleBindings returns every ClusterRoleBinding.
	ListClusterRoleBindings(ctx context.Context) ([]*rbacv1.ClusterRoleBinding, error)
}

// SubjectIndex may be implemented by a Source that finds the bindings
// naming a user faster than listing them all. Each method returns every
// binding with a subject that applies to user (it may return others too,
// each binding at most once); the authorizer then uses it instead of the
// lists.
type SubjectIndex interface {
	ClusterRoleBindingsFor(user *authn.User) ([]*rbacv1.ClusterRoleBinding, error)
	RoleBindingsFor(user *authn.User, namespace string) ([]*rbacv1.RoleBinding, error)
}

// NotFound returns the error a Source returns for a missing role, as
// upstream's listers phrase it: clusterrole.rbac.authorization.k8s.io "x"
// not found. kind is "role" or "clusterrole".
func NotFound(kind, name string) error {
	return apierrors.NewNotFound(schema.GroupResource{Group: rbacv1.GroupName, Resource: kind}, name)
}

// Authorizer is the RBAC authorizer; it implements authz.Authorizer and
// authz.RuleResolver. It is safe for concurrent use.
type Authorizer struct {
	src   Source
	index SubjectIndex // src's, or nil
}

var (
	_ authz.Authorizer   = (*Authorizer)(nil)
	_ authz.RuleResolver = (*Authorizer)(nil)
)

// New returns the authorizer reading src.
func New(src Source) *Authorizer {
	z := &Authorizer{src: src}
	z.index, _ = src.(SubjectIndex)
	return z
}

// Authorize allows a when a rule bound to its user allows it; otherwise it
// has no opinion, with upstream's reason: empty, or "RBAC: " and the errors
// met resolving the user's roles (a binding to a missing role).
func (z *Authorizer) Authorize(ctx context.Context, a authz.Attributes) (authz.Decision, string, error) {
	var errs []error
	var allowedBy fmt.Stringer
	z.VisitRulesFor(ctx, a.User, a.Namespace, func(source fmt.Stringer, rule *rbacv1.PolicyRule, err error) bool {
		if rule != nil && RuleAllows(a, rule) {
			allowedBy = source
			return false
		}
		if err != nil {
			errs = append(errs, err)
		}
		return true
	})
	if allowedBy != nil {
		return authz.Allow, "RBAC: allowed by " + allowedBy.String(), nil
	}
	if len(errs) > 0 {
		return authz.NoOpinion, fmt.Sprintf("RBAC: %v", utilerrors.NewAggregate(errs)), nil
	}
	return authz.NoOpinion, "", nil
}

// RulesFor returns the rules of every binding that applies to user in
// namespace ("" = cluster-wide, ClusterRoleBindings only), with the errors
// met as one aggregate; the rules returned hold even with an error.
func (z *Authorizer) RulesFor(ctx context.Context, user *authn.User, namespace string) ([]rbacv1.PolicyRule, error) {
	var rules []rbacv1.PolicyRule
	var errs []error
	z.VisitRulesFor(ctx, user, namespace, func(_ fmt.Stringer, rule *rbacv1.PolicyRule, err error) bool {
		if rule != nil {
			rules = append(rules, *rule)
		}
		if err != nil {
			errs = append(errs, err)
		}
		return true
	})
	return rules, utilerrors.NewAggregate(errs)
}

// VisitRulesFor calls visit with each rule that applies to user in
// namespace, with the binding it comes from (source), and with each error
// met (rule nil), first for ClusterRoleBindings, then for the RoleBindings
// of namespace. Visiting stops when visit returns false. A nil user is
// bound to nothing.
func (z *Authorizer) VisitRulesFor(ctx context.Context, user *authn.User, namespace string, visit func(source fmt.Stringer, rule *rbacv1.PolicyRule, err error) bool) {
	if user == nil {
		return
	}
	var crbs []*rbacv1.ClusterRoleBinding
	var err error
	if z.index != nil {
		crbs, err = z.index.ClusterRoleBindingsFor(user)
	} else {
		crbs, err = z.src.ListClusterRoleBindings(ctx)
	}
	if err != nil && !visit(nil, nil, err) {
		return
	}
	for _, b := range crbs {
		i, ok := appliesTo(user, b.Subjects, "")
		if !ok {
			continue
		}
		rules, err := z.RoleRefRules(ctx, b.RoleRef, "")
		if err != nil {
			if !visit(nil, nil, err) {
				return
			}
			continue
		}
		src := &bindingSource{kind: "ClusterRoleBinding", name: b.Name, ref: b.RoleRef, subject: &b.Subjects[i]}
		for j := range rules {
			if !visit(src, &rules[j], nil) {
				return
			}
		}
	}
	if namespace == "" {
		return
	}
	var rbs []*rbacv1.RoleBinding
	if z.index != nil {
		rbs, err = z.index.RoleBindingsFor(user, namespace)
	} else {
		rbs, err = z.src.ListRoleBindings(ctx, namespace)
	}
	if err != nil && !visit(nil, nil, err) {
		return
	}
	for _, b := range rbs {
		i, ok := appliesTo(user, b.Subjects, namespace)
		if !ok {
			continue
		}
		rules, err := z.RoleRefRules(ctx, b.RoleRef, namespace)
		if err != nil {
			if !visit(nil, nil, err) {
				return
			}
			continue
		}
		src := &bindingSource{kind: "RoleBinding", name: b.Name + "/" + b.Namespace, namespace: namespace, ref: b.RoleRef, subject: &b.Subjects[i]}
		for j := range rules {
			if !visit(src, &rules[j], nil) {
				return
			}
		}
	}
}

// RoleRefRules returns the rules of the role a binding of namespace (""
// for a ClusterRoleBinding) refers to.
func (z *Authorizer) RoleRefRules(ctx context.Context, ref rbacv1.RoleRef, namespace string) ([]rbacv1.PolicyRule, error) {
	switch ref.Kind {
	case "Role":
		r, err := z.src.GetRole(ctx, namespace, ref.Name)
		if err != nil {
			return nil, err
		}
		return r.Rules, nil
	case "ClusterRole":
		r, err := z.src.GetClusterRole(ctx, ref.Name)
		if err != nil {
			return nil, err
		}
		return r.Rules, nil
	}
	return nil, fmt.Errorf("unsupported role reference kind: %q", ref.Kind)
}

// bindingSource names the binding a rule comes from, as upstream's
// "allowed by" reasons do.
type bindingSource struct {
	kind, name, namespace string
	ref                   rbacv1.RoleRef
	subject               *rbacv1.Subject
}

// It is built on every allowed request: concatenation, not fmt (%q is
// strconv.Quote).
func (s *bindingSource) String() string {
	subject := s.subject.Name
	if s.subject.Kind == rbacv1.ServiceAccountKind {
		ns := s.subject.Namespace
		if ns == "" {
			ns = s.namespace
		}
		subject += "/" + ns
	}
	return s.kind + " " + strconv.Quote(s.name) + " of " + s.ref.Kind + " " + strconv.Quote(s.ref.Name) +
		" to " + s.subject.Kind + " " + strconv.Quote(subject)
}

// appliesTo returns the index of the first subject that applies to user
// in a binding of namespace ("" for a ClusterRoleBinding).
func appliesTo(user *authn.User, subjects []rbacv1.Subject, namespace string) (int, bool) {
	for i := range subjects {
		if subjectApplies(user, &subjects[i], namespace) {
			return i, true
		}
	}
	return 0, false
}

// subjectApplies matches a User by name, a Group by the user's groups, and
// a ServiceAccount (namespace defaulting to the binding's) by its user
// name system:serviceaccount:<namespace>:<name>.
func subjectApplies(user *authn.User, s *rbacv1.Subject, namespace string) bool {
	switch s.Kind {
	case rbacv1.UserKind:
		return user.Name == s.Name
	case rbacv1.GroupKind:
		return has(user.Groups, s.Name, "")
	case rbacv1.ServiceAccountKind:
		ns := s.Namespace
		if ns == "" {
			ns = namespace
		}
		if ns == "" {
			return false
		}
		return serviceAccountMatches(user.Name, ns, s.Name)
	}
	return false
}

// serviceAccountMatches reports whether user is
// system:serviceaccount:<namespace>:<name>, without building the string.
func serviceAccountMatches(user, namespace, name string) bool {
	rest, ok := strings.CutPrefix(user, serviceaccount.UsernamePrefix)
	if !ok || len(rest) != len(namespace)+1+len(name) {
		return false
	}
	return strings.HasPrefix(rest, namespace) && rest[len(namespace)] == ':' && strings.HasSuffix(rest, name)
}
