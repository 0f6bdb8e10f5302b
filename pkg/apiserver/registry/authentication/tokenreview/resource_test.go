package tokenreview

import (
	"context"
	"errors"
	"reflect"
	"slices"
	"testing"

	authenticationv1 "k8s.io/api/authentication/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"

	"github.com/kinc-dev/kinc/pkg/apiserver/authn"
	"github.com/kinc-dev/kinc/pkg/apiserver/registry"
)

var dave = &authn.User{Name: "dave", UID: "42", Groups: []string{"devs", "system:authenticated"},
	Extra: map[string][]string{"authentication.kubernetes.io/credential-id": {"X509SHA256=ab"}}}

// tokens is an audience-agnostic authenticator: "good" is dave's, "bad" is
// of its kind but invalid, anything else is not its kind.
type tokens struct{}

func (tokens) AuthenticateToken(_ context.Context, token string) (*authn.User, bool, error) {
	switch token {
	case "good":
		return dave, true, nil
	case "bad":
		return nil, false, errors.New("token has expired")
	}
	return nil, false, nil
}

// jwts are audience-aware: "jwt" is for the audiences "api" and "vault".
type jwts struct {
	tokens
	asked []string
}

func (j *jwts) AuthenticateTokenForAudiences(_ context.Context, token string, auds []string) (*authn.User, []string, bool, error) {
	j.asked = auds
	if token != "jwt" {
		return nil, nil, false, nil
	}
	var ok []string
	for _, a := range auds {
		if a == "api" || a == "vault" {
			ok = append(ok, a)
		}
	}
	if len(ok) == 0 {
		return nil, nil, false, errors.New("token audiences are invalid for the target audiences")
	}
	return dave, ok, true, nil
}

// lying claims audiences it was not asked for.
type lying struct{ tokens }

func (lying) AuthenticateTokenForAudiences(context.Context, string, []string) (*authn.User, []string, bool, error) {
	return dave, []string{"elsewhere"}, true, nil
}

func review(token string, auds ...string) *authenticationv1.TokenReview {
	return &authenticationv1.TokenReview{Spec: authenticationv1.TokenReviewSpec{Token: token, Audiences: auds}}
}

var daveInfo = authenticationv1.UserInfo{Username: "dave", UID: "42", Groups: []string{"devs", "system:authenticated"},
	Extra: map[string]authenticationv1.ExtraValue{"authentication.kubernetes.io/credential-id": {"X509SHA256=ab"}}}

func TestCreate(t *testing.T) {
	api := []string{"api"}
	tests := []struct {
		name   string
		auth   *registry.Auth
		review *authenticationv1.TokenReview
		want   authenticationv1.TokenReviewStatus
	}{
		{"no authenticator", nil, review("good"), authenticationv1.TokenReviewStatus{}},
		{"no token authenticator", &registry.Auth{}, review("good"), authenticationv1.TokenReviewStatus{}},
		{"good, no audiences anywhere", &registry.Auth{Tokens: tokens{}}, review("good"),
			authenticationv1.TokenReviewStatus{Authenticated: true, User: daveInfo}},
		{"good, the API audiences", &registry.Auth{Tokens: tokens{}, APIAudiences: api}, review("good"),
			authenticationv1.TokenReviewStatus{Authenticated: true, User: daveInfo, Audiences: api}},
		{"good, an API audience asked", &registry.Auth{Tokens: tokens{}, APIAudiences: []string{"api", "other"}}, review("good", "x", "api"),
			authenticationv1.TokenReviewStatus{Authenticated: true, User: daveInfo, Audiences: api}},
		{"good, another audience", &registry.Auth{Tokens: tokens{}, APIAudiences: api}, review("good", "vault"),
			authenticationv1.TokenReviewStatus{Error: "invalid bearer token"}},
		{"invalid", &registry.Auth{Tokens: tokens{}, APIAudiences: api}, review("bad"),
			authenticationv1.TokenReviewStatus{Error: "token has expired"}},
		{"unknown", &registry.Auth{Tokens: tokens{}}, review("what"),
			authenticationv1.TokenReviewStatus{Error: "invalid bearer token"}},
		{"audience-aware, API audiences", &registry.Auth{Tokens: &jwts{}, APIAudiences: api}, review("jwt"),
			authenticationv1.TokenReviewStatus{Authenticated: true, User: daveInfo, Audiences: api}},
		{"audience-aware, its own audience", &registry.Auth{Tokens: &jwts{}, APIAudiences: api}, review("jwt", "vault", "nope"),
			authenticationv1.TokenReviewStatus{Authenticated: true, User: daveInfo, Audiences: []string{"vault"}}},
		{"audience-aware, wrong audience", &registry.Auth{Tokens: &jwts{}, APIAudiences: api}, review("jwt", "nope"),
			authenticationv1.TokenReviewStatus{Error: "token audiences are invalid for the target audiences"}},
		{"audience-aware, no audiences anywhere", &registry.Auth{Tokens: &jwts{}}, review("good"),
			authenticationv1.TokenReviewStatus{Authenticated: true, User: daveInfo}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, err := Resource(registry.Deps{Auth: tt.auth}).NewStore().Create(context.Background(), tt.review, false)
			if err != nil {
				t.Fatal(err)
			}
			got := out.(*authenticationv1.TokenReview)
			if !reflect.DeepEqual(got.Status, tt.want) {
				t.Errorf("status\n %+v, want\n %+v", got.Status, tt.want)
			}
			if got.Spec.Token != tt.review.Spec.Token {
				t.Errorf("spec changed: %+v", got.Spec)
			}
		})
	}
}

func TestAudiencesAsked(t *testing.T) {
	j := &jwts{}
	st := Resource(registry.Deps{Auth: &registry.Auth{Tokens: j, APIAudiences: []string{"api"}}}).NewStore()
	for _, tt := range []struct{ spec, want []string }{{nil, []string{"api"}}, {[]string{"vault"}, []string{"vault"}}} {
		if _, err := st.Create(context.Background(), review("jwt", tt.spec...), false); err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(j.asked, tt.want) {
			t.Errorf("spec audiences %v: asked for %v, want %v", tt.spec, j.asked, tt.want)
		}
	}
}

func TestCreateRefused(t *testing.T) {
	st := Resource(registry.Deps{Auth: &registry.Auth{Tokens: tokens{}}}).NewStore()
	if _, err := st.Create(context.Background(), review(""), false); !apierrors.IsBadRequest(err) ||
		err.Error() != "token is required for TokenReview in authentication" {
		t.Errorf("no token: %v", err)
	}
	st = Resource(registry.Deps{Auth: &registry.Auth{Tokens: lying{}, APIAudiences: []string{"api"}}}).NewStore()
	if _, err := st.Create(context.Background(), review("x"), false); !apierrors.IsInternalError(err) {
		t.Errorf("an authenticator answering for other audiences: %v, want 500", err)
	}
}
