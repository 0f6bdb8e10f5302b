// Package selfsubjectaccessreview serves authorization.k8s.io/v1
// SelfSubjectAccessReviews: whether the requesting user may do what the
// spec asks (`kubectl auth can-i`), answered by the server's authorizer and
// never stored.
package selfsubjectaccessreview

import (
	"context"

	authorizationv1 "k8s.io/api/authorization/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/kinc-dev/kinc/pkg/apiserver/authn"
	"github.com/kinc-dev/kinc/pkg/apiserver/printers"
	"github.com/kinc-dev/kinc/pkg/apiserver/registry"
	"github.com/kinc-dev/kinc/pkg/apiserver/registry/authorization"
)

const kind = "SelfSubjectAccessReview"

// Resource describes authorization/v1 selfsubjectaccessreviews. deps.Auth
// is read at each request.
func Resource(deps registry.Deps) registry.Resource {
	gvk := authorizationv1.SchemeGroupVersion.WithKind(kind)
	newFunc := func() runtime.Object { return &authorizationv1.SelfSubjectAccessReview{} }
	return registry.Resource{
		GVK: gvk, Name: "selfsubjectaccessreviews", Singular: "selfsubjectaccessreview",
		Verbs: []string{"create"}, NewFunc: newFunc, Table: printers.DefaultTable(),
		NewStore: func() registry.Store {
			return registry.CreateOnly{Resource: authorizationv1.Resource("selfsubjectaccessreviews"), NewFunc: newFunc,
				CreateFunc: func(ctx context.Context, obj runtime.Object, _ bool) (runtime.Object, error) {
					return create(ctx, deps.Auth, obj)
				}}
		},
	}
}

// create answers a SelfSubjectAccessReview for the user of ctx.
func create(ctx context.Context, auth *registry.Auth, obj runtime.Object) (runtime.Object, error) {
	sar, ok := obj.(*authorizationv1.SelfSubjectAccessReview)
	if !ok {
		return nil, authorization.NotA(kind, obj)
	}
	errs := authorization.ValidateSelfSubjectAccessReviewSpec(&sar.Spec, field.NewPath("spec"))
	if errs = append(errs, authorization.ValidateEmptyMeta(&sar.ObjectMeta, false)...); len(errs) > 0 {
		return nil, authorization.Invalid(kind, errs)
	}
	user, ok := authn.UserFrom(ctx)
	if !ok {
		return nil, apierrors.NewBadRequest("no user present on request")
	}
	q := authorization.Ask(user, sar.Spec.ResourceAttributes, sar.Spec.NonResourceAttributes)
	status, err := authorization.Answer(ctx, auth, q)
	if err != nil {
		return nil, err
	}
	sar.Status = status
	return sar, nil
}
