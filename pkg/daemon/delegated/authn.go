package delegated

import (
	"crypto/x509"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"k8s.io/utils/clock"
)

// Authenticator identifies the user of a request. It returns ok=false and
// no error when the request carries no credentials of its kind, and an
// error when it carries some that are invalid (a certificate from another
// CA, a token the apiserver does not vouch for): those are 401, never
// anonymous. Implementations are safe for concurrent use.
type Authenticator interface {
	AuthenticateRequest(r *http.Request) (*User, bool, error)
}

// TokenAuthenticator checks a bearer token, with Authenticator's contract.
type TokenAuthenticator interface {
	AuthenticateToken(r *http.Request, token string) (*User, bool, error)
}

// X509 authenticates a client certificate verified against Roots for
// client authentication: the user is its subject's CommonName, the groups
// its Organizations. The TLS server must request client certificates
// without verifying them (tls.RequestClientCert), as upstream, so that a
// certificate from another CA is a 401 here rather than a failed
// handshake, and a client with a bearer token needs none.
type X509 struct {
	Roots *x509.CertPool
	// Clock is the time certificates are checked at (the real clock when nil).
	Clock clock.PassiveClock
}

// AuthenticateRequest implements Authenticator.
func (a X509) AuthenticateRequest(r *http.Request) (*User, bool, error) {
	if r.TLS == nil || len(r.TLS.PeerCertificates) == 0 {
		return nil, false, nil
	}
	certs := r.TLS.PeerCertificates
	opts := x509.VerifyOptions{Roots: a.Roots, Intermediates: x509.NewCertPool(), KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}
	if a.Clock != nil {
		opts.CurrentTime = a.Clock.Now()
	}
	for _, c := range certs[1:] {
		opts.Intermediates.AddCert(c)
	}
	if _, err := certs[0].Verify(opts); err != nil {
		return nil, false, fmt.Errorf("verifying certificate %s: %w", certificateName(certs[0]), err)
	}
	if certs[0].Subject.CommonName == "" {
		return nil, false, nil
	}
	return &User{Name: certs[0].Subject.CommonName, Groups: append([]string(nil), certs[0].Subject.Organization...)}, true, nil
}

func certificateName(c *x509.Certificate) string {
	return fmt.Sprintf("CN=%q issued by CN=%q", c.Subject.CommonName, c.Issuer.CommonName)
}

// BearerToken authenticates the request's "Authorization: Bearer <token>"
// header, or, on a WebSocket upgrade, a
// "base64url.bearer.authorization.k8s.io.<token>" subprotocol (as
// upstream, for clients that cannot set headers). The credential is
// removed from the request once it authenticated. A token Tokens does
// not vouch for is an error.
type BearerToken struct {
	Tokens TokenAuthenticator
}

// AuthenticateRequest implements Authenticator.
func (b BearerToken) AuthenticateRequest(r *http.Request) (*User, bool, error) {
	token, fromProtocol, err := requestToken(r)
	if err != nil || token == "" {
		return nil, false, err
	}
	u, ok, err := b.Tokens.AuthenticateToken(r, token)
	if err != nil {
		return nil, false, err
	}
	if !ok {
		return nil, false, errInvalidToken
	}
	if fromProtocol {
		removeTokenProtocol(r)
	} else {
		r.Header.Del("Authorization")
	}
	return u, true, nil
}

var errInvalidToken = errors.New("invalid bearer token")

const tokenProtocolPrefix = "base64url.bearer.authorization.k8s.io."

// requestToken returns the request's bearer token and whether it came
// from the WebSocket subprotocol.
func requestToken(r *http.Request) (string, bool, error) {
	if auth := strings.TrimSpace(r.Header.Get("Authorization")); auth != "" {
		scheme, token, ok := strings.Cut(auth, " ")
		if ok && strings.EqualFold(scheme, "bearer") {
			return strings.TrimSpace(token), false, nil
		}
		return "", false, nil
	}
	if !strings.EqualFold(r.Header.Get("Upgrade"), "websocket") {
		return "", false, nil
	}
	for _, p := range protocols(r) {
		if enc, ok := strings.CutPrefix(p, tokenProtocolPrefix); ok {
			data, err := base64.RawURLEncoding.DecodeString(enc)
			if err != nil || len(data) == 0 {
				return "", false, errors.New("invalid bearer token subprotocol")
			}
			return string(data), true, nil
		}
	}
	return "", false, nil
}

func protocols(r *http.Request) []string {
	var out []string
	for _, h := range r.Header.Values("Sec-WebSocket-Protocol") {
		for _, p := range strings.Split(h, ",") {
			if p = strings.TrimSpace(p); p != "" {
				out = append(out, p)
			}
		}
	}
	return out
}

func removeTokenProtocol(r *http.Request) {
	var keep []string
	for _, p := range protocols(r) {
		if !strings.HasPrefix(p, tokenProtocolPrefix) {
			keep = append(keep, p)
		}
	}
	r.Header.Del("Sec-WebSocket-Protocol")
	if len(keep) > 0 {
		r.Header.Set("Sec-WebSocket-Protocol", strings.Join(keep, ","))
	}
}

// Authentication is upstream's delegating authenticator: the first of
// Authenticators that succeeds names the user (who is then also in
// system:authenticated); when none does and one failed, the request is
// refused with their errors; when none applied, the request is anonymous
// (system:anonymous in system:unauthenticated) if Anonymous, else refused.
type Authentication struct {
	Authenticators []Authenticator
	Anonymous      bool
}

// ErrNoCredentials is Authentication's error for a request with no
// credentials when anonymous requests are not allowed.
var ErrNoCredentials = errors.New("no credentials")

// AuthenticateRequest returns the request's user, or an error when it is
// to be refused (401).
func (a Authentication) AuthenticateRequest(r *http.Request) (*User, error) {
	var errs []error
	for _, auth := range a.Authenticators {
		u, ok, err := auth.AuthenticateRequest(r)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if ok {
			if !u.InGroup(GroupAuthenticated) && !u.InGroup(GroupUnauthenticated) && u.Name != Anonymous {
				cp := *u
				cp.Groups = append(append([]string(nil), u.Groups...), GroupAuthenticated)
				u = &cp
			}
			return u, nil
		}
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	if a.Anonymous {
		return &User{Name: Anonymous, Groups: []string{GroupUnauthenticated}}, nil
	}
	return nil, ErrNoCredentials
}
