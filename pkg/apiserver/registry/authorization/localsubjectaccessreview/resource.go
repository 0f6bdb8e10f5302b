// Package localsubjectaccessreview serves authorization.k8s.io/v1
// LocalSubjectAccessReviews: a SubjectAccessReview asked in one namespace
// (so that namespace admins may be let ask it), answered by the server's
// authorizer and never stored.
package localsubjectaccessreview

import (
	"context"
	"fmt"

	authorizationv1 "k8s.io/api/authorization/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/kinc-dev/kinc/pkg/apiserver/printers"
	"github.com/kinc-dev/kinc/pkg/apiserver/registry"
	"github.com/kinc-dev/kinc/pkg/apiserver/registry/authorization"
)

const kind = "LocalSubjectAccessReview"

// Resource describes authorization/v1 localsubjectaccessreviews. deps.Auth
// is read at each request.
func Resource(deps registry.Deps) registry.Resource {
	gvk := authorizationv1.SchemeGroupVersion.WithKind(kind)
	newFunc := func() runtime.Object { return &authorizationv1.LocalSubjectAccessReview{} }
	return registry.Resource{
		GVK: gvk, Name: "localsubjectaccessreviews", Singular: "localsubjectaccessreview", Namespaced: true,
		Verbs: []string{"create"}, NewFunc: newFunc, Table: printers.DefaultTable(),
		NewStore: func() registry.Store {
			return registry.CreateOnly{Resource: authorizationv1.Resource("localsubjectaccessreviews"), NewFunc: newFunc,
				CreateFunc: func(ctx context.Context, obj runtime.Object, _ bool) (runtime.Object, error) {
					return create(ctx, deps.Auth, obj)
				}}
		},
	}
}

// create answers a LocalSubjectAccessReview. The handler has set its
// namespace from the URL (or refused a different one).
func create(ctx context.Context, auth *registry.Auth, obj runtime.Object) (runtime.Object, error) {
	sar, ok := obj.(*authorizationv1.LocalSubjectAccessReview)
	if !ok {
		return nil, authorization.NotA(kind, obj)
	}
	if errs := validate(sar); len(errs) > 0 {
		return nil, authorization.Invalid(kind, errs)
	}
	if sar.Namespace == "" {
		return nil, apierrors.NewBadRequest(fmt.Sprintf("namespace is required on this type: %v", sar.Namespace))
	}
	q := authorization.Ask(authorization.SubjectUser(&sar.Spec), sar.Spec.ResourceAttributes, sar.Spec.NonResourceAttributes)
	status, err := authorization.Answer(ctx, auth, q)
	if err != nil {
		return nil, err
	}
	sar.Status = status
	return sar, nil
}

// validate checks sar as upstream: a SubjectAccessReview's spec about
// resources of sar's own namespace, and metadata empty but for the
// namespace.
func validate(sar *authorizationv1.LocalSubjectAccessReview) field.ErrorList {
	errs := authorization.ValidateSubjectAccessReviewSpec(&sar.Spec, field.NewPath("spec"))
	errs = append(errs, authorization.ValidateEmptyMeta(&sar.ObjectMeta, true)...)
	if ra := sar.Spec.ResourceAttributes; ra != nil && ra.Namespace != sar.Namespace {
		errs = append(errs, field.Invalid(field.NewPath("spec.resourceAttributes.namespace"), ra.Namespace, "must match metadata.namespace"))
	}
	if nra := sar.Spec.NonResourceAttributes; nra != nil {
		errs = append(errs, field.Invalid(field.NewPath("spec.nonResourceAttributes"), nra, "disallowed on this kind of request"))
	}
	return errs
}
