package localsubjectaccessreview

import (
	"context"
	"strings"
	"testing"

	authorizationv1 "k8s.io/api/authorization/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/kinc-dev/kinc/pkg/apiserver/authz"
	"github.com/kinc-dev/kinc/pkg/apiserver/registry"
)

type fakeAuthorizer struct{ asked authz.Attributes }

func (f *fakeAuthorizer) Authorize(_ context.Context, a authz.Attributes) (authz.Decision, string, error) {
	f.asked = a
	return authz.Deny, "no", nil
}

func TestCreate(t *testing.T) {
	z := &fakeAuthorizer{}
	r := Resource(registry.Deps{Auth: &registry.Auth{Authorizer: z}})
	if !r.Namespaced {
		t.Error("not namespaced")
	}
	out, err := r.NewStore().Create(context.Background(), &authorizationv1.LocalSubjectAccessReview{
		ObjectMeta: metav1.ObjectMeta{Namespace: "ns"},
		Spec: authorizationv1.SubjectAccessReviewSpec{User: "u",
			ResourceAttributes: &authorizationv1.ResourceAttributes{Namespace: "ns", Verb: "delete", Resource: "secrets"}}}, false)
	if err != nil {
		t.Fatal(err)
	}
	if s := out.(*authorizationv1.LocalSubjectAccessReview).Status; !s.Denied || s.Reason != "no" {
		t.Errorf("status %+v", s)
	}
	if z.asked.Namespace != "ns" || z.asked.User.Name != "u" || z.asked.Verb != "delete" {
		t.Errorf("asked %+v", z.asked)
	}
}

func TestCreateInvalid(t *testing.T) {
	st := Resource(registry.Deps{Auth: &registry.Auth{Authorizer: &fakeAuthorizer{}}}).NewStore()
	meta := metav1.ObjectMeta{Namespace: "ns"}
	tests := []struct {
		name string
		sar  *authorizationv1.LocalSubjectAccessReview
		want string
	}{
		{"another namespace", &authorizationv1.LocalSubjectAccessReview{ObjectMeta: meta, Spec: authorizationv1.SubjectAccessReviewSpec{User: "u",
			ResourceAttributes: &authorizationv1.ResourceAttributes{Namespace: "other", Verb: "get"}}},
			`spec.resourceAttributes.namespace: Invalid value: "other": must match metadata.namespace`},
		{"non-resource", &authorizationv1.LocalSubjectAccessReview{ObjectMeta: meta, Spec: authorizationv1.SubjectAccessReviewSpec{User: "u",
			NonResourceAttributes: &authorizationv1.NonResourceAttributes{Verb: "get", Path: "/"}}},
			"spec.nonResourceAttributes: Invalid value: {\"path\":\"/\",\"verb\":\"get\"}: disallowed on this kind of request"},
		{"a name", &authorizationv1.LocalSubjectAccessReview{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "x"}, Spec: authorizationv1.SubjectAccessReviewSpec{User: "u",
			ResourceAttributes: &authorizationv1.ResourceAttributes{Namespace: "ns", Verb: "get"}}}, "must be empty except for namespace"},
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
