// Package authn authenticates API requests: client certificates verified
// against the client CA (user = CN, groups = O), bearer tokens from a static
// token file, and, when enabled, anonymous requests.
package authn

import (
	"context"
	"crypto/x509"
	"net/http"
	"strings"
)

// Well-known users and groups.
const (
	Anonymous            = "system:anonymous"
	GroupUnauthenticated = "system:unauthenticated"
	GroupAuthenticated   = "system:authenticated"
)

// User is an authenticated identity. A User is never modified once an
// authenticator returned it; copy it to change it.
type User struct {
	Name   string
	UID    string
	Groups []string
	// Extra holds further facts about the user, as upstream's user.Info
	// (authentication.kubernetes.io/pod-name, …/credential-id for
	// service-account tokens).
	Extra map[string][]string
}

type ctxKey struct{}

// WithUser returns ctx carrying u, the request's authenticated user.
func WithUser(ctx context.Context, u *User) context.Context {
	return context.WithValue(ctx, ctxKey{}, u)
}

// UserFrom returns the authenticated user ctx carries.
func UserFrom(ctx context.Context) (*User, bool) {
	u, ok := ctx.Value(ctxKey{}).(*User)
	return u, ok && u != nil
}

// TokenAuthenticator authenticates a bearer token, with the same contract
// as Authenticator: ok=false and no error for a token it does not
// recognize as its kind, an error for one of its kind that is invalid.
// Implementations are safe for concurrent use.
type TokenAuthenticator interface {
	AuthenticateToken(ctx context.Context, token string) (*User, bool, error)
}

// BearerToken authenticates the request's "Authorization: Bearer <token>"
// header with a TokenAuthenticator. A bearer token that Tokens does not
// recognize is invalid credentials (an error), never anonymous, as
// upstream.
type BearerToken struct {
	Tokens TokenAuthenticator
}

func (b BearerToken) AuthenticateRequest(r *http.Request) (*User, bool, error) {
	token, ok := bearerToken(r)
	if !ok {
		return nil, false, nil
	}
	user, ok, err := b.Tokens.AuthenticateToken(r.Context(), token)
	if !ok && err == nil {
		err = errInvalidToken
	}
	return user, ok, err
}

const errInvalidToken = authError("invalid bearer token")

// bearerToken returns the request's bearer token.
func bearerToken(r *http.Request) (string, bool) {
	auth := strings.TrimSpace(r.Header.Get("Authorization"))
	scheme, token, ok := strings.Cut(auth, " ")
	if !ok || !strings.EqualFold(scheme, "bearer") {
		return "", false
	}
	token = strings.TrimSpace(token)
	return token, token != ""
}

// UnionTokens tries token authenticators in order, as Union does.
type UnionTokens []TokenAuthenticator

func (u UnionTokens) AuthenticateToken(ctx context.Context, token string) (*User, bool, error) {
	var firstErr error
	for _, a := range u {
		user, ok, err := a.AuthenticateToken(ctx, token)
		if ok {
			return user, true, nil
		}
		if err != nil && firstErr == nil {
			firstErr = err
		}
	}
	return nil, false, firstErr
}

// Authenticator authenticates a request. It returns ok=false (and no error)
// when the request carries no credentials of its kind, and an error when it
// carries credentials that are invalid; the two must not be confused, since
// invalid credentials are a 401 even when anonymous access is enabled.
// Implementations are safe for concurrent use.
type Authenticator interface {
	AuthenticateRequest(r *http.Request) (*User, bool, error)
}

// X509 authenticates TLS client certificates against Roots. When the TLS
// handshake already verified the chain (the server's ClientCAs must then be
// the same Roots), that verification is used; otherwise the chain is
// verified here, so the authenticator is correct on its own. Verified, when
// set, remembers the chains that verified.
type X509 struct {
	Roots    *x509.CertPool
	Verified *ChainCache
}

func (a X509) AuthenticateRequest(r *http.Request) (*User, bool, error) {
	if r.TLS == nil || len(r.TLS.PeerCertificates) == 0 {
		return nil, false, nil
	}
	leaf := r.TLS.PeerCertificates[0]
	// The handshake verified the chain once per connection when the server's
	// ClientCAs are these roots; otherwise verify it here, per request.
	if len(r.TLS.VerifiedChains) == 0 {
		if err := a.verify(r.TLS.PeerCertificates); err != nil {
			return nil, false, err
		}
	}
	if leaf.Subject.CommonName == "" {
		return nil, false, errNoCommonName
	}
	groups := append([]string(nil), leaf.Subject.Organization...)
	return &User{Name: leaf.Subject.CommonName, Groups: append(groups, GroupAuthenticated)}, true, nil
}

// verify checks certs (leaf first) against a.Roots, or finds them in
// a.Verified.
func (a X509) verify(certs []*x509.Certificate) error {
	var key [32]byte
	if a.Verified != nil {
		if key = chainKey(certs); a.Verified.verified(key) {
			return nil
		}
	}
	inter := x509.NewCertPool()
	for _, c := range certs[1:] {
		inter.AddCert(c)
	}
	opts := x509.VerifyOptions{Roots: a.Roots, Intermediates: inter, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}
	if a.Verified != nil {
		opts.CurrentTime = a.Verified.clock.Now() // the cache's time is the time
	}
	if _, err := certs[0].Verify(opts); err != nil {
		return err
	}
	if a.Verified != nil {
		a.Verified.remember(key, certs)
	}
	return nil
}

type authError string

func (e authError) Error() string { return string(e) }

const errNoCommonName = authError("client certificate has no common name")

// Union tries authenticators in order; the first that recognizes the
// request's credentials decides.
type Union []Authenticator

func (u Union) AuthenticateRequest(r *http.Request) (*User, bool, error) {
	var firstErr error
	for _, a := range u {
		user, ok, err := a.AuthenticateRequest(r)
		if ok {
			return user, true, nil
		}
		if err != nil && firstErr == nil {
			firstErr = err
		}
	}
	return nil, false, firstErr
}
