package storage

import (
	"errors"
	"fmt"
	"net/http"
	"testing"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

func TestErrorHelpersSeeThroughWrapping(t *testing.T) {
	err := fmt.Errorf("registry: %w", NewKeyNotFoundError("/pods/ns/a", 0))
	if !IsNotFound(err) || IsExists(err) || IsConflict(err) {
		t.Errorf("helpers on a wrapped NotFound: %v", err)
	}
	if IsNotFound(errors.New("other")) || IsNotFound(nil) {
		t.Error("IsNotFound of a foreign error")
	}
}

func TestToStatusError(t *testing.T) {
	pods := schema.GroupResource{Resource: "pods"}
	tests := []struct {
		err     error
		code    int32
		reason  metav1.StatusReason
		message string
	}{
		{NewKeyNotFoundError("/pods/ns/a", 0), http.StatusNotFound, metav1.StatusReasonNotFound, `pods "a" not found`},
		{NewKeyExistsError("/pods/ns/a", 3), http.StatusConflict, metav1.StatusReasonAlreadyExists, `pods "a" already exists`},
		{NewConflictError("/pods/ns/a", 3, OptimisticLockErrorMsg), http.StatusConflict, metav1.StatusReasonConflict,
			`Operation cannot be fulfilled on pods "a": ` + OptimisticLockErrorMsg},
		{NewListExpiredError("/pods", 3, 9), http.StatusGone, metav1.StatusReasonExpired, expiredListMessage},
		{NewWatchExpiredError("/pods", 3, 9), http.StatusGone, metav1.StatusReasonExpired, "too old resource version: 3 (9)"},
		{NewTooLargeResourceVersionError("/pods", 30, 9), http.StatusGatewayTimeout, metav1.StatusReasonTimeout,
			"Timeout: Too large resource version: 30, current: 9"},
		{NewInvalidContinueError("/pods", errors.New("bad")), http.StatusBadRequest, metav1.StatusReasonBadRequest,
			"invalid continue token: bad"},
		{NewBadRequestError("/pods", "nope"), http.StatusBadRequest, metav1.StatusReasonBadRequest, "nope"},
		{NewInvalidObjError("/pods/ns/a", errors.New("x")), http.StatusInternalServerError, metav1.StatusReasonInternalError, ""},
		{errors.New("etcd down"), http.StatusInternalServerError, metav1.StatusReasonInternalError, ""},
		{fmt.Errorf("wrapped: %w", apierrors.NewForbidden(pods, "a", errors.New("no"))), http.StatusForbidden,
			metav1.StatusReasonForbidden, ""},
	}
	for _, tt := range tests {
		t.Run(tt.err.Error(), func(t *testing.T) {
			st := ToStatusError(tt.err, pods, "a").ErrStatus
			if st.Code != tt.code || st.Reason != tt.reason || (tt.message != "" && st.Message != tt.message) {
				t.Errorf("status %d %s %q, want %d %s %q", st.Code, st.Reason, st.Message, tt.code, tt.reason, tt.message)
			}
		})
	}
	st := ToStatusError(NewTooLargeResourceVersionError("/pods", 30, 9), pods, "").ErrStatus
	if len(st.Details.Causes) != 1 || st.Details.Causes[0].Type != metav1.CauseTypeResourceVersionTooLarge {
		t.Errorf("too large causes %+v", st.Details)
	}
	st = ToStatusError(NewContinueExpiredError("/pods", 3, 9, "tok"), pods, "").ErrStatus
	if st.Continue != "tok" {
		t.Errorf("expired continue status carries continue %q, want tok", st.Continue)
	}
	if ws := WatchErrorStatus(NewWatchExpiredError("/pods", 3, 9)); ws.Kind != "Status" || ws.APIVersion != "v1" || ws.Code != 410 {
		t.Errorf("watch error status %+v", ws)
	}
}
