package selfsubjectaccessreview

import (
	"context"
	"testing"

	authorizationv1 "k8s.io/api/authorization/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"

	"github.com/kinc-dev/kinc/pkg/apiserver/authn"
	"github.com/kinc-dev/kinc/pkg/apiserver/authz"
	"github.com/kinc-dev/kinc/pkg/apiserver/registry"
)

type fakeAuthorizer struct{ asked authz.Attributes }

func (f *fakeAuthorizer) Authorize(_ context.Context, a authz.Attributes) (authz.Decision, string, error) {
	f.asked = a
	if a.User.Name == "bob" {
		return authz.Allow, "", nil
	}
	return authz.NoOpinion, "", nil
}

func TestCreate(t *testing.T) {
	z := &fakeAuthorizer{}
	st := Resource(registry.Deps{Auth: &registry.Auth{Authorizer: z}}).NewStore()
	bob := &authn.User{Name: "bob", Groups: []string{"system:authenticated"}}
	review := &authorizationv1.SelfSubjectAccessReview{Spec: authorizationv1.SelfSubjectAccessReviewSpec{
		ResourceAttributes: &authorizationv1.ResourceAttributes{Namespace: "default", Verb: "create", Resource: "pods"}}}
	out, err := st.Create(authn.WithUser(context.Background(), bob), review, false)
	if err != nil {
		t.Fatal(err)
	}
	if s := out.(*authorizationv1.SelfSubjectAccessReview).Status; !s.Allowed || s.Denied {
		t.Errorf("status %+v, want allowed", s)
	}
	if z.asked.User != bob || z.asked.Verb != "create" || z.asked.Namespace != "default" || !z.asked.IsResourceRequest {
		t.Errorf("asked %+v", z.asked)
	}

	out, err = st.Create(authn.WithUser(context.Background(), &authn.User{Name: "eve"}), &authorizationv1.SelfSubjectAccessReview{
		Spec: authorizationv1.SelfSubjectAccessReviewSpec{NonResourceAttributes: &authorizationv1.NonResourceAttributes{Verb: "get", Path: "/logs"}}}, false)
	if err != nil {
		t.Fatal(err)
	}
	if s := out.(*authorizationv1.SelfSubjectAccessReview).Status; s.Allowed || s.Denied {
		t.Errorf("no opinion: status %+v, want neither allowed nor denied", s)
	}
}

func TestCreateRefused(t *testing.T) {
	st := Resource(registry.Deps{Auth: &registry.Auth{Authorizer: &fakeAuthorizer{}}}).NewStore()
	_, err := st.Create(context.Background(), &authorizationv1.SelfSubjectAccessReview{Spec: authorizationv1.SelfSubjectAccessReviewSpec{
		ResourceAttributes: &authorizationv1.ResourceAttributes{Verb: "get"}}}, false)
	if !apierrors.IsBadRequest(err) || err.Error() != "no user present on request" {
		t.Errorf("without a user: %v, want 400", err)
	}
	_, err = st.Create(authn.WithUser(context.Background(), &authn.User{Name: "bob"}), &authorizationv1.SelfSubjectAccessReview{}, false)
	if !apierrors.IsInvalid(err) || err.Error() != `SelfSubjectAccessReview.authorization.k8s.io "" is invalid: spec: Invalid value: null: exactly one of nonResourceAttributes or resourceAttributes must be specified` {
		t.Errorf("empty spec: %v", err)
	}
}
