package selfsubjectreview

import (
	"context"
	"reflect"
	"testing"
	"time"

	authenticationv1 "k8s.io/api/authentication/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	clocktesting "k8s.io/utils/clock/testing"

	"github.com/kinc-dev/kinc/pkg/apiserver/authn"
	"github.com/kinc-dev/kinc/pkg/apiserver/registry"
)

func TestCreate(t *testing.T) {
	now := time.Date(2026, 12, 7, 3, 0, 0, 0, time.UTC)
	st := Resource(registry.Deps{Clock: clocktesting.NewFakePassiveClock(now)}).NewStore()
	u := &authn.User{Name: "system:serviceaccount:ns:sa", UID: "u-1", Groups: []string{"system:serviceaccounts", "system:authenticated"},
		Extra: map[string][]string{"authentication.kubernetes.io/pod-name": {"p"}}}
	in := &authenticationv1.SelfSubjectReview{ObjectMeta: metav1.ObjectMeta{Name: "ignored"},
		Status: authenticationv1.SelfSubjectReviewStatus{UserInfo: authenticationv1.UserInfo{Username: "forged"}}}
	out, err := st.Create(authn.WithUser(context.Background(), u), in, false)
	if err != nil {
		t.Fatal(err)
	}
	want := &authenticationv1.SelfSubjectReview{ObjectMeta: metav1.ObjectMeta{CreationTimestamp: metav1.NewTime(now)},
		Status: authenticationv1.SelfSubjectReviewStatus{UserInfo: authenticationv1.UserInfo{Username: u.Name, UID: "u-1", Groups: u.Groups,
			Extra: map[string]authenticationv1.ExtraValue{"authentication.kubernetes.io/pod-name": {"p"}}}}}
	if !reflect.DeepEqual(out, want) {
		t.Errorf("got %+v, want %+v", out, want)
	}
	if _, err := st.Create(context.Background(), in, false); !apierrors.IsBadRequest(err) {
		t.Errorf("without a user: %v, want 400", err)
	}
}
