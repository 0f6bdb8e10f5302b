// Package tokenreview serves authentication.k8s.io/v1 TokenReviews: who a
// bearer token authenticates as, for which audiences, answered by the
// server's token authenticators and never stored.
package tokenreview

import (
	"context"
	"errors"
	"slices"

	authenticationv1 "k8s.io/api/authentication/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/kinc-dev/kinc/pkg/apiserver/authn"
	"github.com/kinc-dev/kinc/pkg/apiserver/printers"
	"github.com/kinc-dev/kinc/pkg/apiserver/registry"
)

// AudienceTokenAuthenticator is a token authenticator whose tokens name
// their audiences (service-account JWTs). A registry.Auth.Tokens that
// implements it is asked with the review's audiences; one that does not is
// audience-agnostic, as upstream's: its tokens are for the API audiences.
type AudienceTokenAuthenticator interface {
	authn.TokenAuthenticator
	// AuthenticateTokenForAudiences authenticates token for any of
	// audiences (never empty), with AuthenticateToken's contract for ok and
	// the error. It returns the audiences among them the token is for,
	// which are not empty when ok; a token for none of them is invalid (an
	// error).
	AuthenticateTokenForAudiences(ctx context.Context, token string, audiences []string) (*authn.User, []string, bool, error)
}

// errInvalidToken is the review's error for a token no authenticator
// recognized, in upstream's words.
var errInvalidToken = errors.New("invalid bearer token")

// Resource describes authentication/v1 tokenreviews. deps.Auth is read at
// each request.
func Resource(deps registry.Deps) registry.Resource {
	gvk := authenticationv1.SchemeGroupVersion.WithKind("TokenReview")
	newFunc := func() runtime.Object { return &authenticationv1.TokenReview{} }
	return registry.Resource{
		GVK: gvk, Name: "tokenreviews", Singular: "tokenreview",
		Verbs: []string{"create"}, NewFunc: newFunc, Table: printers.DefaultTable(),
		NewStore: func() registry.Store {
			return registry.CreateOnly{Resource: authenticationv1.Resource("tokenreviews"), NewFunc: newFunc,
				CreateFunc: func(ctx context.Context, obj runtime.Object, _ bool) (runtime.Object, error) {
					return create(ctx, deps.Auth, obj)
				}}
		},
	}
}

// create answers a TokenReview as upstream: the token is checked for the
// spec's audiences, or the API audiences when it names none; the status
// says whether it authenticated, as whom, for which of those audiences, or
// why not. A server without token authenticators answers every review
// unauthenticated.
func create(ctx context.Context, auth *registry.Auth, obj runtime.Object) (runtime.Object, error) {
	review, ok := obj.(*authenticationv1.TokenReview)
	if !ok {
		return nil, apierrors.NewBadRequest("not a TokenReview")
	}
	if review.Spec.Token == "" {
		return nil, apierrors.NewBadRequest("token is required for TokenReview in authentication")
	}
	if auth == nil || auth.Tokens == nil {
		return review, nil
	}
	auds := review.Spec.Audiences
	if len(auds) == 0 {
		auds = auth.APIAudiences
	}
	user, tokenAuds, ok, err := authenticate(ctx, auth, review.Spec.Token, auds)
	if !ok && err == nil {
		err = errInvalidToken
	}
	review.Status.Authenticated = ok
	if err != nil {
		review.Status.Error = err.Error()
	}
	if !ok || user == nil {
		return review, nil
	}
	if len(auds) > 0 && len(intersect(auds, tokenAuds)) == 0 {
		return nil, apierrors.NewInternalError(errors.New("error validating audiences"))
	}
	review.Status.User = userInfo(user)
	review.Status.Audiences = tokenAuds
	return review, nil
}

// authenticate authenticates token for auds (none: any audience) and
// returns the user and the audiences among auds the token is for.
func authenticate(ctx context.Context, auth *registry.Auth, token string, auds []string) (*authn.User, []string, bool, error) {
	if a, ok := auth.Tokens.(AudienceTokenAuthenticator); ok && len(auds) > 0 {
		return a.AuthenticateTokenForAudiences(ctx, token, auds)
	}
	if len(auds) == 0 {
		user, ok, err := auth.Tokens.AuthenticateToken(ctx, token)
		return user, nil, ok, err
	}
	// An audience-agnostic authenticator's tokens are for the API
	// audiences: a review for none of them is not its business.
	tokenAuds := intersect(auth.APIAudiences, auds)
	if len(tokenAuds) == 0 {
		return nil, nil, false, nil
	}
	user, ok, err := auth.Tokens.AuthenticateToken(ctx, token)
	if !ok {
		return nil, nil, false, err
	}
	return user, tokenAuds, true, nil
}

// intersect returns the elements of a also in b, in a's order.
func intersect(a, b []string) []string {
	var out []string
	for _, s := range a {
		if slices.Contains(b, s) && !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	return out
}

// userInfo returns u as a review's UserInfo.
func userInfo(u *authn.User) authenticationv1.UserInfo {
	info := authenticationv1.UserInfo{Username: u.Name, UID: u.UID, Groups: u.Groups}
	if len(u.Extra) > 0 {
		info.Extra = make(map[string]authenticationv1.ExtraValue, len(u.Extra))
		for k, v := range u.Extra {
			info.Extra[k] = authenticationv1.ExtraValue(v)
		}
	}
	return info
}
