package selfsubjectrulesreview

import (
	"context"
	"errors"
	"reflect"
	"testing"

	authorizationv1 "k8s.io/api/authorization/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"

	"github.com/kinc-dev/kinc/pkg/apiserver/authn"
	"github.com/kinc-dev/kinc/pkg/apiserver/registry"
)

type fakeResolver struct {
	rules []rbacv1.PolicyRule
	err   error
	user  *authn.User
	ns    string
}

func (f *fakeResolver) RulesFor(_ context.Context, u *authn.User, ns string) ([]rbacv1.PolicyRule, error) {
	f.user, f.ns = u, ns
	return f.rules, f.err
}

func review(ns string) *authorizationv1.SelfSubjectRulesReview {
	return &authorizationv1.SelfSubjectRulesReview{Spec: authorizationv1.SelfSubjectRulesReviewSpec{Namespace: ns}}
}

func TestCreate(t *testing.T) {
	rules := []rbacv1.PolicyRule{
		{Verbs: []string{"get", "list"}, APIGroups: []string{""}, Resources: []string{"pods"}, ResourceNames: []string{"p"}},
		{Verbs: []string{"get"}, NonResourceURLs: []string{"/healthz"}},
		{Verbs: []string{"*"}, APIGroups: []string{"*"}, Resources: []string{"*"}, NonResourceURLs: []string{"*"}},
	}
	wantStatus := authorizationv1.SubjectRulesReviewStatus{
		ResourceRules: []authorizationv1.ResourceRule{
			{Verbs: []string{"get", "list"}, APIGroups: []string{""}, Resources: []string{"pods"}, ResourceNames: []string{"p"}},
			{Verbs: []string{"*"}, APIGroups: []string{"*"}, Resources: []string{"*"}},
		},
		NonResourceRules: []authorizationv1.NonResourceRule{
			{Verbs: []string{"get"}, NonResourceURLs: []string{"/healthz"}},
			{Verbs: []string{"*"}, NonResourceURLs: []string{"*"}},
		},
	}
	carol := &authn.User{Name: "carol"}
	ctx := authn.WithUser(context.Background(), carol)
	tests := []struct {
		name string
		auth *registry.Auth
		want authorizationv1.SubjectRulesReviewStatus
	}{
		{"rules", &registry.Auth{Rules: &fakeResolver{rules: rules}}, wantStatus},
		{"an error", &registry.Auth{Rules: &fakeResolver{rules: rules[:1], err: errors.New(`clusterrole "gone" not found`)}},
			authorizationv1.SubjectRulesReviewStatus{ResourceRules: wantStatus.ResourceRules[:1], NonResourceRules: []authorizationv1.NonResourceRule{},
				Incomplete: true, EvaluationError: `clusterrole "gone" not found`}},
		{"no rules", &registry.Auth{Rules: &fakeResolver{}},
			authorizationv1.SubjectRulesReviewStatus{ResourceRules: []authorizationv1.ResourceRule{}, NonResourceRules: []authorizationv1.NonResourceRule{}}},
		{"no resolver", &registry.Auth{},
			authorizationv1.SubjectRulesReviewStatus{ResourceRules: []authorizationv1.ResourceRule{}, NonResourceRules: []authorizationv1.NonResourceRule{},
				Incomplete: true, EvaluationError: errNoResolver.Error()}},
		{"no auth", nil,
			authorizationv1.SubjectRulesReviewStatus{ResourceRules: []authorizationv1.ResourceRule{}, NonResourceRules: []authorizationv1.NonResourceRule{},
				Incomplete: true, EvaluationError: errNoResolver.Error()}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, err := Resource(registry.Deps{Auth: tt.auth}).NewStore().Create(ctx, review("team-a"), false)
			if err != nil {
				t.Fatal(err)
			}
			got := out.(*authorizationv1.SelfSubjectRulesReview)
			if !reflect.DeepEqual(got.Status, tt.want) {
				t.Errorf("status\n %+v, want\n %+v", got.Status, tt.want)
			}
			if tt.auth == nil {
				return
			}
			if r, ok := tt.auth.Rules.(*fakeResolver); ok && (r.user != carol || r.ns != "team-a") {
				t.Errorf("asked for %v in %q", r.user, r.ns)
			}
		})
	}
}

func TestCreateRefused(t *testing.T) {
	st := Resource(registry.Deps{Auth: &registry.Auth{Rules: &fakeResolver{}}}).NewStore()
	if _, err := st.Create(context.Background(), review("ns"), false); !apierrors.IsBadRequest(err) || err.Error() != "no user present on request" {
		t.Errorf("without a user: %v", err)
	}
	ctx := authn.WithUser(context.Background(), &authn.User{Name: "u"})
	if _, err := st.Create(ctx, review(""), false); !apierrors.IsBadRequest(err) || err.Error() != "no namespace on request" {
		t.Errorf("without a namespace: %v", err)
	}
}
