package subjectaccessreview

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"

	authorizationv1 "k8s.io/api/authorization/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/kinc-dev/kinc/pkg/apiserver/authn"
	"github.com/kinc-dev/kinc/pkg/apiserver/authz"
	"github.com/kinc-dev/kinc/pkg/apiserver/registry"
)

type fakeAuthorizer struct{ asked []authz.Attributes }

// Authorize allows alice to get pods and denies everything else.
func (f *fakeAuthorizer) Authorize(_ context.Context, a authz.Attributes) (authz.Decision, string, error) {
	f.asked = append(f.asked, a)
	if a.User.Name == "alice" && a.Verb == "get" && a.Resource == "pods" {
		return authz.Allow, "alice may", nil
	}
	return authz.Deny, "nobody else may", nil
}

func TestCreate(t *testing.T) {
	z := &fakeAuthorizer{}
	auth := &registry.Auth{}
	st := Resource(registry.Deps{Auth: auth}).NewStore()
	// The server fills Auth after the resources exist: the store reads it
	// at each request.
	auth.Authorizer = z
	ctx := authn.WithUser(context.Background(), &authn.User{Name: "the-requester"})

	sar := &authorizationv1.SubjectAccessReview{Spec: authorizationv1.SubjectAccessReviewSpec{
		User: "alice", UID: "1", Groups: []string{"devs"}, Extra: map[string]authorizationv1.ExtraValue{"scopes": {"a"}},
		ResourceAttributes: &authorizationv1.ResourceAttributes{Namespace: "ns", Verb: "get", Resource: "pods", Name: "p"}}}
	out, err := st.Create(ctx, sar, false)
	if err != nil {
		t.Fatal(err)
	}
	got := out.(*authorizationv1.SubjectAccessReview)
	want := authorizationv1.SubjectAccessReviewStatus{Allowed: true, Reason: "alice may"}
	if got.Status != want || got.Spec.User != "alice" {
		t.Errorf("answer %+v, want status %+v", got, want)
	}
	a := z.asked[0]
	if a.User.Name != "alice" || a.User.UID != "1" || a.User.Groups[0] != "devs" || a.User.Extra["scopes"][0] != "a" ||
		!a.IsResourceRequest || a.Namespace != "ns" || a.Name != "p" {
		t.Errorf("asked %+v (user %+v)", a, a.User)
	}

	out, err = st.Create(ctx, &authorizationv1.SubjectAccessReview{Spec: authorizationv1.SubjectAccessReviewSpec{
		Groups: []string{"system:masters"}, NonResourceAttributes: &authorizationv1.NonResourceAttributes{Verb: "get", Path: "/metrics"}}}, false)
	if err != nil {
		t.Fatal(err)
	}
	if st := out.(*authorizationv1.SubjectAccessReview).Status; st.Allowed || !st.Denied || st.Reason != "nobody else may" {
		t.Errorf("denied status %+v", st)
	}
	if a := z.asked[1]; a.IsResourceRequest || a.Path != "/metrics" || a.User.Name != "" {
		t.Errorf("asked %+v", a)
	}
}

func TestCreateInvalid(t *testing.T) {
	st := Resource(registry.Deps{Auth: &registry.Auth{Authorizer: &fakeAuthorizer{}}}).NewStore()
	ra := &authorizationv1.ResourceAttributes{Verb: "get", Resource: "pods"}
	tests := []struct {
		name string
		sar  *authorizationv1.SubjectAccessReview
		want string
	}{
		{"no attributes", &authorizationv1.SubjectAccessReview{Spec: authorizationv1.SubjectAccessReviewSpec{User: "u"}},
			`SubjectAccessReview.authorization.k8s.io "" is invalid: spec: Invalid value: null: exactly one of nonResourceAttributes or resourceAttributes must be specified`},
		{"no subject", &authorizationv1.SubjectAccessReview{Spec: authorizationv1.SubjectAccessReviewSpec{ResourceAttributes: ra}},
			"spec.user: Invalid value: \"\": at least one of user or group must be specified"},
		{"a name", &authorizationv1.SubjectAccessReview{ObjectMeta: metav1.ObjectMeta{Name: "x"},
			Spec: authorizationv1.SubjectAccessReviewSpec{User: "u", ResourceAttributes: ra}}, "metadata: Invalid value"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := st.Create(context.Background(), tt.sar, false)
			if !apierrors.IsInvalid(err) || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("%v, want a 422 with %q", err, tt.want)
			}
		})
	}
}

func TestNotConfigured(t *testing.T) {
	for _, deps := range []registry.Deps{{}, {Auth: &registry.Auth{}}} {
		_, err := Resource(deps).NewStore().Create(context.Background(), &authorizationv1.SubjectAccessReview{
			Spec: authorizationv1.SubjectAccessReviewSpec{User: "u", NonResourceAttributes: &authorizationv1.NonResourceAttributes{Verb: "get", Path: "/"}}}, false)
		if !apierrors.IsInternalError(err) {
			t.Errorf("%v, want a 500", err)
		}
	}
}

func TestOnlyCreate(t *testing.T) {
	_, err := Resource(registry.Deps{}).NewStore().Get(context.Background(), "", "x", nil)
	var st apierrors.APIStatus
	if !apierrors.IsMethodNotSupported(err) || !errors.As(err, &st) || st.Status().Code != http.StatusMethodNotAllowed {
		t.Errorf("get: %v, want 405", err)
	}
}
