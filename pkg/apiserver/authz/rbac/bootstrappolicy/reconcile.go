package bootstrappolicy

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"

	rbacv1 "k8s.io/api/rbac/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/kinc-dev/kinc/pkg/apiserver/authn"
	"github.com/kinc-dev/kinc/pkg/apiserver/registry"
)

// Stores are the stores of the four RBAC resources Reconcile writes.
type Stores struct {
	ClusterRoles, ClusterRoleBindings, Roles, RoleBindings registry.Store
}

// apiserverUser is who Reconcile writes as, as upstream's loopback client:
// a member of system:masters, so that no escalation check refuses the
// default policy.
func apiserverUser() *authn.User {
	return &authn.User{Name: "system:apiserver", Groups: []string{"system:masters", "system:authenticated"}}
}

// Reconcile puts the default policy into stores, as upstream's
// rbac/bootstrap-roles post-start hook: an object that does not exist is
// created; one whose rbac.authorization.kubernetes.io/autoupdate annotation
// is "false" is left alone; any other gets the labels, annotations, rules,
// subjects and aggregation selectors of the default it lacks, without
// losing what it has (rules are compared by coverage, as upstream, and
// missing ones are appended broken down to single verbs). As upstream, a
// binding whose roleRef differs from the default's is deleted and created
// again (a roleRef cannot be updated), and a default role that is not
// aggregated loses an aggregationRule someone gave it.
//
// Reconcile is idempotent: when the policy is in place it only reads. The
// Roles of kube-system and kube-public need those namespaces: create them
// first. log may be nil. Reconcile stops at the first error (the caller
// retries).
func Reconcile(ctx context.Context, stores Stores, log *slog.Logger) error {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	ctx = authn.WithUser(ctx, apiserverUser())
	for _, r := range append(ClusterRoles(), ControllerRoles()...) {
		if err := ensure(ctx, log, stores.ClusterRoles, "clusterrole", &r, func(obj runtime.Object) change {
			have := obj.(*rbacv1.ClusterRole)
			return mergeRole(&have.ObjectMeta, &have.Rules, &have.AggregationRule, &r.ObjectMeta, r.Rules, r.AggregationRule)
		}); err != nil {
			return err
		}
	}
	for _, b := range append(ClusterRoleBindings(), ControllerRoleBindings()...) {
		if err := ensure(ctx, log, stores.ClusterRoleBindings, "clusterrolebinding", &b, func(obj runtime.Object) change {
			have := obj.(*rbacv1.ClusterRoleBinding)
			return mergeBinding(&have.ObjectMeta, &have.Subjects, have.RoleRef, &b.ObjectMeta, b.Subjects, b.RoleRef)
		}); err != nil {
			return err
		}
	}
	for _, r := range NamespaceRoles() {
		if err := ensure(ctx, log, stores.Roles, "role", &r, func(obj runtime.Object) change {
			have := obj.(*rbacv1.Role)
			var noAggregation *rbacv1.AggregationRule
			return mergeRole(&have.ObjectMeta, &have.Rules, &noAggregation, &r.ObjectMeta, r.Rules, nil)
		}); err != nil {
			return err
		}
	}
	for _, b := range NamespaceRoleBindings() {
		if err := ensure(ctx, log, stores.RoleBindings, "rolebinding", &b, func(obj runtime.Object) change {
			have := obj.(*rbacv1.RoleBinding)
			return mergeBinding(&have.ObjectMeta, &have.Subjects, have.RoleRef, &b.ObjectMeta, b.Subjects, b.RoleRef)
		}); err != nil {
			return err
		}
	}
	return nil
}

// change is what a merge did to an existing object.
type change int

const (
	unchanged change = iota
	updated          // the object was changed in place: write it
	recreate         // the object must be deleted and created again
)

type object interface {
	runtime.Object
	metav1.Object
}

// ensure creates want (of kind, for messages) in st, or merges it into the
// stored object with merge (which changes the object it is given and says
// how).
func ensure(ctx context.Context, log *slog.Logger, st registry.Store, kind string, want object, merge func(runtime.Object) change) error {
	ns, name := want.GetNamespace(), want.GetName()
	what := kind + " " + name
	if ns != "" {
		what = kind + " " + ns + "/" + name
	}
	for range 5 { // a few attempts when writers race
		obj, err := st.Get(ctx, ns, name, nil)
		if apierrors.IsNotFound(err) {
			_, err = st.Create(ctx, want.DeepCopyObject(), false)
			if apierrors.IsAlreadyExists(err) {
				continue
			}
			if err == nil {
				log.Debug("created default RBAC object", "object", what)
			}
			return wrap(err, what)
		}
		if err != nil {
			return wrap(err, what)
		}
		if isProtected(obj) {
			return nil
		}
		switch merge(obj.DeepCopyObject()) {
		case unchanged:
			return nil
		case recreate:
			uid := obj.(metav1.Object).GetUID()
			_, _, err := st.Delete(ctx, ns, name, &metav1.DeleteOptions{Preconditions: &metav1.Preconditions{UID: &uid}}, false)
			if err != nil && !apierrors.IsNotFound(err) && !apierrors.IsConflict(err) {
				return wrap(err, what)
			}
			log.Info("recreating default RBAC binding with its default roleRef", "object", what)
			continue
		}
		_, _, err = st.Update(ctx, ns, name, func(_ context.Context, old runtime.Object) (runtime.Object, error) {
			if old == nil {
				return nil, apierrors.NewNotFound(rbacv1.Resource(kind+"s"), name)
			}
			if isProtected(old) || merge(old) != updated {
				return nil, errChanged
			}
			return old, nil
		}, registry.UpdateOptions{})
		if errors.Is(err, errChanged) || apierrors.IsNotFound(err) {
			continue
		}
		if err == nil {
			log.Info("added the missing parts of a default RBAC object", "object", what)
		}
		return wrap(err, what)
	}
	return fmt.Errorf("default RBAC object %s: changed by others while reconciling", what)
}

// errChanged ends an update whose object changed since it was read.
var errChanged = errors.New("object changed while reconciling")

func wrap(err error, what string) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("default RBAC object %s: %w", what, err)
}

func isProtected(obj runtime.Object) bool {
	m, ok := obj.(metav1.Object)
	return ok && m.GetAnnotations()[AutoUpdateAnnotation] == "false"
}

// mergeMeta adds want's labels and annotations that meta lacks (keeping
// meta's values of keys both have).
func mergeMeta(meta, want *metav1.ObjectMeta) change {
	c := unchanged
	for _, p := range []struct {
		have *map[string]string
		want map[string]string
	}{
		{&meta.Labels, want.Labels}, {&meta.Annotations, want.Annotations},
	} {
		for k, v := range p.want {
			if _, ok := (*p.have)[k]; ok {
				continue
			}
			if *p.have == nil {
				*p.have = map[string]string{}
			}
			(*p.have)[k] = v
			c = updated
		}
	}
	return c
}

// mergeRole adds to a role what the default lacks: labels, annotations,
// the rules its rules do not cover and the aggregation selectors it does
// not have. A role the default does not aggregate loses its aggregation.
func mergeRole(meta *metav1.ObjectMeta, rules *[]rbacv1.PolicyRule, agg **rbacv1.AggregationRule,
	wantMeta *metav1.ObjectMeta, wantRules []rbacv1.PolicyRule, wantAgg *rbacv1.AggregationRule) change {
	c := mergeMeta(meta, wantMeta)
	if missing := uncovered(*rules, wantRules); len(missing) > 0 {
		*rules = append(*rules, missing...)
		c = updated
	}
	switch {
	case wantAgg == nil && *agg != nil:
		*agg = nil
		c = updated
	case wantAgg != nil:
		for _, sel := range wantAgg.ClusterRoleSelectors {
			if *agg != nil && slices.ContainsFunc((*agg).ClusterRoleSelectors, func(s metav1.LabelSelector) bool {
				return apiequality.Semantic.DeepEqual(s, sel)
			}) {
				continue
			}
			if *agg == nil {
				*agg = &rbacv1.AggregationRule{}
			}
			(*agg).ClusterRoleSelectors = append((*agg).ClusterRoleSelectors, *sel.DeepCopy())
			c = updated
		}
	}
	return c
}

// mergeBinding adds to a binding the labels, annotations and subjects of
// the default it lacks; a different roleRef means recreating it.
func mergeBinding(meta *metav1.ObjectMeta, subjects *[]rbacv1.Subject, ref rbacv1.RoleRef,
	wantMeta *metav1.ObjectMeta, wantSubjects []rbacv1.Subject, wantRef rbacv1.RoleRef) change {
	if ref != wantRef {
		return recreate
	}
	c := mergeMeta(meta, wantMeta)
	for _, s := range wantSubjects {
		if !slices.Contains(*subjects, s) {
			*subjects = append(*subjects, s)
			c = updated
		}
	}
	return c
}
