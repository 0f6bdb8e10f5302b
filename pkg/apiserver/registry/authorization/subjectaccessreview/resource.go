// Package subjectaccessreview serves authorization.k8s.io/v1
// SubjectAccessReviews: whether the user the spec names may do what it
// asks, answered by the server's authorizer and never stored.
package subjectaccessreview

import (
	"context"

	authorizationv1 "k8s.io/api/authorization/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/kinc-dev/kinc/pkg/apiserver/printers"
	"github.com/kinc-dev/kinc/pkg/apiserver/registry"
	"github.com/kinc-dev/kinc/pkg/apiserver/registry/authorization"
)

const kind = "SubjectAccessReview"

// Resource describes authorization/v1 subjectaccessreviews. deps.Auth is
// read at each request.
func Resource(deps registry.Deps) registry.Resource {
	gvk := authorizationv1.SchemeGroupVersion.WithKind(kind)
	newFunc := func() runtime.Object { return &authorizationv1.SubjectAccessReview{} }
	return registry.Resource{
		GVK: gvk, Name: "subjectaccessreviews", Singular: "subjectaccessreview",
		Verbs: []string{"create"}, NewFunc: newFunc, Table: printers.DefaultTable(),
		NewStore: func() registry.Store {
			return registry.CreateOnly{Resource: authorizationv1.Resource("subjectaccessreviews"), NewFunc: newFunc,
				CreateFunc: func(ctx context.Context, obj runtime.Object, _ bool) (runtime.Object, error) {
					return create(ctx, deps.Auth, obj)
				}}
		},
	}
}

// create answers a SubjectAccessReview.
func create(ctx context.Context, auth *registry.Auth, obj runtime.Object) (runtime.Object, error) {
	sar, ok := obj.(*authorizationv1.SubjectAccessReview)
	if !ok {
		return nil, authorization.NotA(kind, obj)
	}
	errs := authorization.ValidateSubjectAccessReviewSpec(&sar.Spec, field.NewPath("spec"))
	if errs = append(errs, authorization.ValidateEmptyMeta(&sar.ObjectMeta, false)...); len(errs) > 0 {
		return nil, authorization.Invalid(kind, errs)
	}
	q := authorization.Ask(authorization.SubjectUser(&sar.Spec), sar.Spec.ResourceAttributes, sar.Spec.NonResourceAttributes)
	status, err := authorization.Answer(ctx, auth, q)
	if err != nil {
		return nil, err
	}
	sar.Status = status
	return sar, nil
}
