// Package selfsubjectrulesreview serves authorization.k8s.io/v1
// SelfSubjectRulesReviews: the rules the requesting user holds in a
// namespace (`kubectl auth can-i --list`), from the server's rule resolver
// and never stored.
package selfsubjectrulesreview

import (
	"context"
	"errors"

	authorizationv1 "k8s.io/api/authorization/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/kinc-dev/kinc/pkg/apiserver/authn"
	"github.com/kinc-dev/kinc/pkg/apiserver/printers"
	"github.com/kinc-dev/kinc/pkg/apiserver/registry"
	"github.com/kinc-dev/kinc/pkg/apiserver/registry/authorization"
)

const kind = "SelfSubjectRulesReview"

// errNoResolver is the evaluationError of a review on a server whose
// authorizers cannot list a user's rules, as upstream's webhook authorizer
// says it.
var errNoResolver = errors.New("the server's authorizer does not support user rule resolution")

// Resource describes authorization/v1 selfsubjectrulesreviews. deps.Auth
// is read at each request.
func Resource(deps registry.Deps) registry.Resource {
	gvk := authorizationv1.SchemeGroupVersion.WithKind(kind)
	newFunc := func() runtime.Object { return &authorizationv1.SelfSubjectRulesReview{} }
	return registry.Resource{
		GVK: gvk, Name: "selfsubjectrulesreviews", Singular: "selfsubjectrulesreview",
		Verbs: []string{"create"}, NewFunc: newFunc, Table: printers.DefaultTable(),
		NewStore: func() registry.Store {
			return registry.CreateOnly{Resource: authorizationv1.Resource("selfsubjectrulesreviews"), NewFunc: newFunc,
				CreateFunc: func(ctx context.Context, obj runtime.Object, _ bool) (runtime.Object, error) {
					return create(ctx, deps.Auth, obj)
				}}
		},
	}
}

// create answers a SelfSubjectRulesReview for the user of ctx. As
// upstream, the answer carries only the status. Rules that could not all
// be resolved (an error from the resolver), or a server without a rule
// resolver, answer incomplete with an evaluationError.
func create(ctx context.Context, auth *registry.Auth, obj runtime.Object) (runtime.Object, error) {
	review, ok := obj.(*authorizationv1.SelfSubjectRulesReview)
	if !ok {
		return nil, authorization.NotA(kind, obj)
	}
	user, ok := authn.UserFrom(ctx)
	if !ok {
		return nil, apierrors.NewBadRequest("no user present on request")
	}
	if review.Spec.Namespace == "" {
		return nil, apierrors.NewBadRequest("no namespace on request")
	}
	var rules []rbacv1.PolicyRule
	err := errNoResolver
	if auth != nil && auth.Rules != nil {
		rules, err = auth.Rules.RulesFor(ctx, user, review.Spec.Namespace)
	}
	out := &authorizationv1.SelfSubjectRulesReview{Status: Status(rules)}
	if err != nil {
		out.Status.Incomplete = true
		out.Status.EvaluationError = err.Error()
	}
	return out, nil
}

// Status splits rules into the resource and non-resource rules of a
// review's status, as upstream: a rule naming both resources and URLs
// gives one of each. Both lists are non-nil.
func Status(rules []rbacv1.PolicyRule) authorizationv1.SubjectRulesReviewStatus {
	st := authorizationv1.SubjectRulesReviewStatus{
		ResourceRules: []authorizationv1.ResourceRule{}, NonResourceRules: []authorizationv1.NonResourceRule{}}
	for _, r := range rules {
		if len(r.Resources) > 0 {
			st.ResourceRules = append(st.ResourceRules, authorizationv1.ResourceRule{
				Verbs: r.Verbs, APIGroups: r.APIGroups, Resources: r.Resources, ResourceNames: r.ResourceNames})
		}
		if len(r.NonResourceURLs) > 0 {
			st.NonResourceRules = append(st.NonResourceRules, authorizationv1.NonResourceRule{
				Verbs: r.Verbs, NonResourceURLs: r.NonResourceURLs})
		}
	}
	return st
}
