// Package authn authenticates API requests: client certificates verified
// against the client CA (user = CN, groups = O), bearer tokens from a static
// token file, and, when enabled, anonymous requests.
package authn

import (
	"crypto/x509"
	"net/http"
)

// Well-known users and groups.
const (
	Anonymous            = "system:anonymous"
	GroupUnauthenticated = "system:unauthenticated"
	GroupAuthenticated   = "system:authenticated"
)

// User is an authenticated identity.
type User struct {
	Name   string
	UID    string
	Groups []string
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
// verified here, so the authenticator is correct on its own.
type X509 struct {
	Roots *x509.CertPool
}

func (a X509) AuthenticateRequest(r *http.Request) (*User, bool, error) {
	if r.TLS == nil || len(r.TLS.PeerCertificates) == 0 {
		return nil, false, nil
	}
	leaf := r.TLS.PeerCertificates[0]
	// The handshake verified the chain once per connection when the server's
	// ClientCAs are these roots; otherwise verify it here, per request.
	if len(r.TLS.VerifiedChains) == 0 {
		inter := x509.NewCertPool()
		for _, c := range r.TLS.PeerCertificates[1:] {
			inter.AddCert(c)
		}
		if _, err := leaf.Verify(x509.VerifyOptions{Roots: a.Roots, Intermediates: inter,
			KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}); err != nil {
			return nil, false, err
		}
	}
	if leaf.Subject.CommonName == "" {
		return nil, false, errNoCommonName
	}
	groups := append([]string(nil), leaf.Subject.Organization...)
	return &User{Name: leaf.Subject.CommonName, Groups: append(groups, GroupAuthenticated)}, true, nil
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
