package authn

import (
	"bytes"
	"crypto/x509"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strings"
)

// RequestHeaderConfig is the front proxy's trust (--requestheader-*).
type RequestHeaderConfig struct {
	// CAs verify the proxy's client certificate
	// (--requestheader-client-ca-file).
	CAs []*x509.Certificate
	// AllowedNames are the common names a proxy certificate may have; empty
	// means any (--requestheader-allowed-names).
	AllowedNames []string
	// UsernameHeaders, UIDHeaders and GroupHeaders name the headers the
	// user's name, UID and groups come in; ExtraHeaderPrefixes prefix the
	// headers of the user's extra (X-Remote-Extra-<key>).
	UsernameHeaders, UIDHeaders, GroupHeaders, ExtraHeaderPrefixes []string
}

// RequestHeader authenticates requests a front proxy (the aggregator)
// makes on a user's behalf, as upstream's request-header authenticator
// behind its x509 verifier: the client certificate must verify against
// the CAs (for client auth) and have an allowed common name; the user is
// then the first non-empty username header, with the UID header, every
// value of the group headers and the extra headers (key lower-cased and
// unescaped). A request without a client certificate, or without a
// username header, is not its kind; a certificate that does not verify is
// an error (other authenticators may still accept it). The headers are
// removed from the request once used.
type RequestHeader struct {
	cfg   RequestHeaderConfig
	roots *x509.CertPool
}

// NewRequestHeader returns the authenticator of cfg.
func NewRequestHeader(cfg RequestHeaderConfig) *RequestHeader {
	roots := x509.NewCertPool()
	for _, c := range cfg.CAs {
		roots.AddCert(c)
	}
	cfg.ExtraHeaderPrefixes = slices.Clone(cfg.ExtraHeaderPrefixes)
	for i, p := range cfg.ExtraHeaderPrefixes {
		cfg.ExtraHeaderPrefixes[i] = strings.ToLower(p)
	}
	return &RequestHeader{cfg: cfg, roots: roots}
}

var (
	errProxyCA   = errors.New("client certificate is not signed by the request-header CA")
	errProxyName = errors.New("client certificate's common name is not an allowed request-header name")
)

var _ Authenticator = (*RequestHeader)(nil)

// AuthenticateRequest authenticates a front proxy's request (see
// RequestHeader).
func (a *RequestHeader) AuthenticateRequest(r *http.Request) (*User, bool, error) {
	if r.TLS == nil || len(r.TLS.PeerCertificates) == 0 {
		return nil, false, nil
	}
	if err := a.verify(r.TLS.PeerCertificates); err != nil {
		return nil, false, err
	}
	name := firstHeader(r.Header, a.cfg.UsernameHeaders)
	if name == "" {
		return nil, false, nil
	}
	u := &User{Name: name, UID: firstHeader(r.Header, a.cfg.UIDHeaders)}
	for _, h := range a.cfg.GroupHeaders {
		u.Groups = append(u.Groups, r.Header.Values(h)...)
	}
	for h, vs := range r.Header {
		for _, p := range a.cfg.ExtraHeaderPrefixes {
			lower := strings.ToLower(h)
			if !strings.HasPrefix(lower, p) || len(lower) == len(p) {
				continue
			}
			key := lower[len(p):]
			if k, err := url.PathUnescape(key); err == nil {
				key = k
			}
			if u.Extra == nil {
				u.Extra = map[string][]string{}
			}
			u.Extra[key] = append(u.Extra[key], vs...)
		}
	}
	if !slices.Contains(u.Groups, GroupAuthenticated) {
		u.Groups = append(u.Groups, GroupAuthenticated)
	}
	a.clearHeaders(r.Header)
	return u, true, nil
}

// verify checks the proxy's chain. A leaf no CA issued (the common case:
// an ordinary client certificate) is refused before the costly
// verification.
func (a *RequestHeader) verify(chain []*x509.Certificate) error {
	leaf := chain[0]
	if len(chain) == 1 && !slices.ContainsFunc(a.cfg.CAs, func(ca *x509.Certificate) bool {
		return bytes.Equal(ca.RawSubject, leaf.RawIssuer)
	}) {
		return errProxyCA
	}
	inter := x509.NewCertPool()
	for _, c := range chain[1:] {
		inter.AddCert(c)
	}
	if _, err := leaf.Verify(x509.VerifyOptions{Roots: a.roots, Intermediates: inter,
		KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}); err != nil {
		return errProxyCA
	}
	if len(a.cfg.AllowedNames) > 0 && !slices.Contains(a.cfg.AllowedNames, leaf.Subject.CommonName) {
		return errProxyName
	}
	return nil
}

func (a *RequestHeader) clearHeaders(h http.Header) {
	for _, names := range [][]string{a.cfg.UsernameHeaders, a.cfg.UIDHeaders, a.cfg.GroupHeaders} {
		for _, n := range names {
			h.Del(n)
		}
	}
	for k := range h {
		for _, p := range a.cfg.ExtraHeaderPrefixes {
			if strings.HasPrefix(strings.ToLower(k), p) {
				delete(h, k)
				break
			}
		}
	}
}

func firstHeader(h http.Header, names []string) string {
	for _, n := range names {
		if v := h.Get(strings.TrimSpace(n)); v != "" {
			return v
		}
	}
	return ""
}
