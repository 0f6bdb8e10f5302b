package authorization

import (
	"context"
	"errors"
	"fmt"

	authorizationv1 "k8s.io/api/authorization/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/kinc-dev/kinc/pkg/apiserver/authz"
	"github.com/kinc-dev/kinc/pkg/apiserver/registry"
)

// GroupName is the API group of the reviews.
const GroupName = authorizationv1.GroupName

// errNotConfigured answers a review when the server has no authorizer yet.
var errNotConfigured = errors.New("authorization is not configured")

// Answer asks the server's authorizer (auth.Authorizer, read now) q and
// returns the review's status: allowed or denied with the authorizer's
// reason, and its error with the notes on ignored selectors as
// evaluationError. A server without an authorizer (auth or its Authorizer
// nil) is a 500.
func Answer(ctx context.Context, auth *registry.Auth, q Question) (authorizationv1.SubjectAccessReviewStatus, error) {
	if auth == nil || auth.Authorizer == nil {
		return authorizationv1.SubjectAccessReviewStatus{}, apierrors.NewInternalError(errNotConfigured)
	}
	d, reason, err := auth.Authorizer.Authorize(ctx, q.Attributes)
	return authorizationv1.SubjectAccessReviewStatus{
		Allowed:         d == authz.Allow,
		Denied:          d == authz.Deny,
		Reason:          reason,
		EvaluationError: joinErrors(err, q.Ignored),
	}, nil
}

// Invalid returns the 422 of a review of kind that failed validation.
func Invalid(kind string, errs field.ErrorList) error {
	return apierrors.NewInvalid(schema.GroupKind{Group: GroupName, Kind: kind}, "", errs)
}

// NotA returns the 400 of a create given an object of another kind than
// the review's.
func NotA(kind string, obj any) error {
	return apierrors.NewBadRequest(fmt.Sprintf("not a %s: %T", kind, obj))
}
