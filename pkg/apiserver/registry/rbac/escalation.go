package rbac

import (
	"context"
	"errors"
	"fmt"

	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/kinc-dev/kinc/pkg/apiserver/authn"
	rbacauthz "github.com/kinc-dev/kinc/pkg/apiserver/authz/rbac"
	"github.com/kinc-dev/kinc/pkg/apiserver/registry"
)

// RoleRules returns the rules a Role or ClusterRole object grants, and
// whether it has an aggregation rule (ClusterRoles).
type RoleRules func(obj runtime.Object) (rules []rbacv1.PolicyRule, aggregated bool)

// BindingRef returns the roleRef of a RoleBinding or ClusterRoleBinding
// object.
type BindingRef func(obj runtime.Object) rbacv1.RoleRef

// GuardRoles wraps the store of roles or clusterroles (resource) with
// upstream's escalation prevention: a create or update is refused with 403
// unless the writer is in system:masters, is authorized for "escalate" on
// the resource, or already holds every rule of the role (in its namespace
// for a Role); an aggregationRule, set or removed, needs every permission.
// An update changing only what the garbage collector changes (owner
// references, finalizers) is not checked. deps.Auth is read per request:
// with no Auth, Authorizer or Rules (a server without authorization, or a
// test), nothing is checked.
func GuardRoles(st registry.Store, deps registry.Deps, resource string, rulesOf RoleRules) registry.Store {
	return roleGuard{guard: guard{Store: st, auth: deps.Auth, resource: resource}, rulesOf: rulesOf}
}

// GuardBindings wraps the store of rolebindings or clusterrolebindings
// (resource): a create or update is refused with 403 unless the writer is
// in system:masters, is authorized for "bind" on the referenced role, or
// already holds every rule of it (in the binding's namespace). A missing
// role is the 404 of reading it. deps.Stores reads the role; deps.Auth as
// for GuardRoles.
func GuardBindings(st registry.Store, deps registry.Deps, resource string, refOf BindingRef) registry.Store {
	return bindingGuard{guard: guard{Store: st, auth: deps.Auth, resource: resource}, stores: deps.Stores, refOf: refOf}
}

// guard is what both guards share.
type guard struct {
	registry.Store
	auth     *registry.Auth
	resource string
}

// checking returns the server's authorization and the writer when the
// request must be checked; ok=false means the write goes through.
func (g guard) checking(ctx context.Context) (auth *registry.Auth, user *authn.User, ok bool) {
	if g.auth == nil || g.auth.Authorizer == nil || g.auth.Rules == nil {
		return nil, nil, false
	}
	user, _ = authn.UserFrom(ctx)
	if rbacauthz.EscalationAllowed(user) {
		return nil, nil, false
	}
	return g.auth, user, true
}

func (g guard) forbidden(name string, err error) error {
	return apierrors.NewForbidden(rbacv1.Resource(g.resource), name, err)
}

// update wraps update with check, skipped when only garbage-collector
// fields change.
func (g guard) update(update registry.UpdateFunc, check func(ctx context.Context, obj, old runtime.Object) error) registry.UpdateFunc {
	return func(ctx context.Context, old runtime.Object) (runtime.Object, error) {
		// Compared with what is stored even if update breaks its contract
		// and changes old.
		var prev runtime.Object
		if old != nil {
			prev = old.DeepCopyObject()
		}
		obj, err := update(ctx, old)
		if err != nil {
			return nil, err
		}
		if onlyGCFields(obj, prev) {
			return obj, nil
		}
		if err := check(ctx, obj, prev); err != nil {
			return nil, err
		}
		return obj, nil
	}
}

// onlyGCFields reports whether obj differs from old only in owner
// references, finalizers and managed fields (upstream's
// IsOnlyMutatingGCFields).
func onlyGCFields(obj, old runtime.Object) bool {
	if old == nil {
		return false
	}
	cp := obj.DeepCopyObject()
	cm, err := meta.Accessor(cp)
	if err != nil {
		return false
	}
	om, err := meta.Accessor(old)
	if err != nil {
		return false
	}
	cm.SetOwnerReferences(om.GetOwnerReferences())
	cm.SetFinalizers(om.GetFinalizers())
	cm.SetSelfLink(om.GetSelfLink())
	cm.SetManagedFields(om.GetManagedFields())
	return equality.Semantic.DeepEqual(cp, old)
}

type roleGuard struct {
	guard
	rulesOf RoleRules
}

func (g roleGuard) Create(ctx context.Context, obj runtime.Object, dryRun bool) (runtime.Object, error) {
	m, err := meta.Accessor(obj)
	if err != nil {
		return nil, err
	}
	if err := g.check(ctx, m.GetNamespace(), "", m.GetName(), obj, nil); err != nil {
		return nil, err
	}
	return g.Store.Create(ctx, obj, dryRun)
}

func (g roleGuard) Update(ctx context.Context, namespace, name string, update registry.UpdateFunc, opts registry.UpdateOptions) (runtime.Object, bool, error) {
	if _, _, ok := g.checking(ctx); !ok {
		return g.Store.Update(ctx, namespace, name, update, opts)
	}
	return g.Store.Update(ctx, namespace, name, g.update(update, func(ctx context.Context, obj, old runtime.Object) error {
		return g.check(ctx, namespace, name, name, obj, old)
	}), opts)
}

// check refuses obj (its name objName) unless its writer may write it;
// requestName is the name of the request ("" on create), old the stored
// object on update.
func (g roleGuard) check(ctx context.Context, namespace, requestName, objName string, obj, old runtime.Object) error {
	auth, user, ok := g.checking(ctx)
	if !ok {
		return nil
	}
	if rbacauthz.RoleEscalationAuthorized(ctx, auth.Authorizer, user, g.resource, namespace, requestName) {
		return nil
	}
	rules, aggregated := g.rulesOf(obj)
	if err := rbacauthz.ConfirmNoEscalation(ctx, auth.Rules, user, namespace, rules); err != nil {
		return g.forbidden(objName, err)
	}
	if old != nil {
		_, oldAggregated := g.rulesOf(old)
		aggregated = aggregated || oldAggregated
	}
	if aggregated {
		if err := rbacauthz.ConfirmNoEscalation(ctx, auth.Rules, user, namespace, rbacauthz.FullAuthority()); err != nil {
			return g.forbidden(objName, errors.New("must have cluster-admin privileges to use the aggregationRule"))
		}
	}
	return nil
}

type bindingGuard struct {
	guard
	stores func(gvr schema.GroupVersionResource) registry.Store
	refOf  BindingRef
}

func (g bindingGuard) Create(ctx context.Context, obj runtime.Object, dryRun bool) (runtime.Object, error) {
	m, err := meta.Accessor(obj)
	if err != nil {
		return nil, err
	}
	if err := g.check(ctx, m.GetNamespace(), m.GetName(), obj); err != nil {
		return nil, err
	}
	return g.Store.Create(ctx, obj, dryRun)
}

func (g bindingGuard) Update(ctx context.Context, namespace, name string, update registry.UpdateFunc, opts registry.UpdateOptions) (runtime.Object, bool, error) {
	if _, _, ok := g.checking(ctx); !ok {
		return g.Store.Update(ctx, namespace, name, update, opts)
	}
	return g.Store.Update(ctx, namespace, name, g.update(update, func(ctx context.Context, obj, _ runtime.Object) error {
		return g.check(ctx, namespace, name, obj)
	}), opts)
}

func (g bindingGuard) check(ctx context.Context, namespace, name string, obj runtime.Object) error {
	auth, user, ok := g.checking(ctx)
	if !ok {
		return nil
	}
	ref := g.refOf(obj)
	// The roleRef's apiGroup is defaulted later, by the strategy; any
	// other group fails validation.
	ref.APIGroup = rbacv1.GroupName
	if rbacauthz.BindingAuthorized(ctx, auth.Authorizer, user, ref, namespace) {
		return nil
	}
	rules, err := g.roleRules(ctx, ref, namespace)
	if err != nil {
		return err
	}
	if err := rbacauthz.ConfirmNoEscalation(ctx, auth.Rules, user, namespace, rules); err != nil {
		return g.forbidden(name, err)
	}
	return nil
}

// roleRules reads the rules of the role ref refers to from its store, so
// that a missing role is upstream's 404 (roles.rbac.authorization.k8s.io
// "x" not found).
func (g bindingGuard) roleRules(ctx context.Context, ref rbacv1.RoleRef, namespace string) ([]rbacv1.PolicyRule, error) {
	var resource, ns string
	switch ref.Kind {
	case "Role":
		resource, ns = "roles", namespace
	case "ClusterRole":
		resource = "clusterroles"
	default:
		return nil, apierrors.NewBadRequest(fmt.Sprintf("unsupported role reference kind: %q", ref.Kind))
	}
	var st registry.Store
	if g.stores != nil {
		st = g.stores(rbacv1.SchemeGroupVersion.WithResource(resource))
	}
	if st == nil {
		return nil, apierrors.NewInternalError(fmt.Errorf("no store of %s", resource))
	}
	obj, err := st.Get(ctx, ns, ref.Name, &metav1.GetOptions{})
	if err != nil {
		return nil, err
	}
	switch r := obj.(type) {
	case *rbacv1.Role:
		return r.Rules, nil
	case *rbacv1.ClusterRole:
		return r.Rules, nil
	}
	return nil, apierrors.NewInternalError(fmt.Errorf("%s store returned %T", resource, obj))
}
