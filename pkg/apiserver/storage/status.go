package storage

import (
	"errors"
	"fmt"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// OptimisticLockErrorMsg is kube-apiserver's message for a write based on a stale
// resourceVersion.
const OptimisticLockErrorMsg = "the object has been modified; please apply your changes to the latest version and try again"

// Messages kube-apiserver uses for expired revisions; clients only look at the
// reason (Expired) but people read the text.
const (
	expiredListMessage     = "The resourceVersion for the provided list is too old."
	expiredContinueMessage = "The provided continue parameter is too old to display a consistent list result. " +
		"You can start a new list without the continue parameter, or use the continue token in this response " +
		"to retrieve the remainder of the results. Continuing with the provided token results in an " +
		"inconsistent list - objects that were created, modified, or deleted between the time the first " +
		"chunk was returned and now may show up in the list."
	tooLargeResourceVersionCause = "Too large resource version"
	// tooLargeRetrySeconds is the Retry-After kube-apiserver sends with a
	// too-large resourceVersion.
	tooLargeRetrySeconds = 1
)

// ToStatusError maps err to the *apierrors.StatusError the HTTP layer returns for an
// operation on the object name of resource gr (name may be empty for lists and
// watches). Errors that already carry an API status (for instance a Conflict
// returned by an UpdateFunc) are returned as they are; errors this package does not
// know become 500 InternalError.
func ToStatusError(err error, gr schema.GroupResource, name string) *apierrors.StatusError {
	if err == nil {
		return nil
	}
	var status *apierrors.StatusError
	if errors.As(err, &status) {
		return status
	}
	var se *StorageError
	if !errors.As(err, &se) {
		if as, ok := err.(apierrors.APIStatus); ok {
			return &apierrors.StatusError{ErrStatus: as.Status()}
		}
		return apierrors.NewInternalError(err)
	}
	switch se.Code {
	case ErrCodeKeyNotFound:
		return apierrors.NewNotFound(gr, name)
	case ErrCodeKeyExists:
		return apierrors.NewAlreadyExists(gr, name)
	case ErrCodeConflict:
		msg := se.Message
		if msg == "" {
			msg = OptimisticLockErrorMsg
		}
		return apierrors.NewConflict(gr, name, errors.New(msg))
	case ErrCodeResourceVersionExpired:
		st := apierrors.NewResourceExpired(se.Message)
		st.ErrStatus.ListMeta.Continue = se.Continue
		return st
	case ErrCodeTooLargeResourceVersion:
		st := apierrors.NewTimeoutError(se.Message, tooLargeRetrySeconds)
		st.ErrStatus.Details.Causes = []metav1.StatusCause{{
			Type:    metav1.CauseTypeResourceVersionTooLarge,
			Message: tooLargeResourceVersionCause,
		}}
		return st
	case ErrCodeInvalidContinue:
		return apierrors.NewBadRequest(fmt.Sprintf("invalid continue token: %v", se.Err))
	case ErrCodeBadRequest:
		return apierrors.NewBadRequest(se.Message)
	default:
		return apierrors.NewInternalError(err)
	}
}

// WatchErrorStatus returns the Status object of a watch ERROR event for err, with
// apiVersion v1 and kind Status set so it can be encoded as it is.
func WatchErrorStatus(err error) *metav1.Status {
	st := ToStatusError(err, schema.GroupResource{}, "").ErrStatus
	st.TypeMeta = metav1.TypeMeta{APIVersion: "v1", Kind: "Status"}
	return &st
}
