package serviceaccount

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/clock"

	"github.com/kinc-dev/kinc/pkg/apiserver/authn"
)

// Getter reads the objects a token names (the apiserver's own stores).
// Each method returns an error when the object does not exist.
type Getter interface {
	GetServiceAccount(ctx context.Context, namespace, name string) (*corev1.ServiceAccount, error)
	GetPod(ctx context.Context, namespace, name string) (*corev1.Pod, error)
	GetSecret(ctx context.Context, namespace, name string) (*corev1.Secret, error)
	GetNode(ctx context.Context, name string) (*corev1.Node, error)
}

// Config configures an Authenticator.
type Config struct {
	// Issuers are the accepted "iss" of bound tokens
	// (--service-account-issuer, every one).
	Issuers []string
	// Keys verify signatures (--service-account-key-file).
	Keys []PublicKey
	// APIAudiences are the audiences the apiserver accepts
	// (--api-audiences); a bound token must name one of them. Legacy
	// tokens, which have none, are taken to be for these.
	APIAudiences []string
	// Getter looks up the service account and bound objects of bound
	// tokens (always), and the Secret and service account of legacy tokens
	// when Lookup is set (--service-account-lookup).
	Getter Getter
	Lookup bool
	// Clock tells expiry; nil means the real clock.
	Clock clock.PassiveClock
}

// Authenticator authenticates service-account tokens (a TokenAuthenticator):
// bound tokens from TokenRequest and legacy tokens of
// kubernetes.io/service-account-token Secrets, as upstream's
// jwtTokenAuthenticator with its validators. A token whose (unverified)
// issuer is neither one of Issuers nor kubernetes/serviceaccount is not its
// kind (ok=false, no error); any other problem is an error, whose message
// names what is wrong, never the token. Safe for concurrent use.
type Authenticator struct {
	issuers map[string]bool
	keys    []PublicKey
	auds    []string
	getter  Getter
	lookup  bool
	clock   clock.PassiveClock
	// verified remembers the claims of tokens whose signature verified.
	verified *verifiedCache
}

// NewAuthenticator returns the Authenticator of c.
func NewAuthenticator(c Config) *Authenticator {
	a := &Authenticator{issuers: map[string]bool{}, keys: c.Keys, auds: c.APIAudiences, getter: c.Getter,
		lookup: c.Lookup, clock: c.Clock, verified: &verifiedCache{m: map[[sha256.Size]byte]*verifiedToken{}}}
	for _, iss := range c.Issuers {
		a.issuers[iss] = true
	}
	if a.clock == nil {
		a.clock = clock.RealClock{}
	}
	return a
}

// InvalidSinceLabel on a kubernetes.io/service-account-token Secret marks
// its legacy token invalid (upstream's legacy token cleaner sets it).
const InvalidSinceLabel = "kubernetes.io/legacy-token-invalid-since"

// leeway is upstream's (go-jose's) allowed clock skew for exp, nbf, iat and
// the deletion of bound objects.
const leeway = time.Minute

// Errors of AuthenticateToken.
var (
	errExpired         = errors.New("service account token has expired")
	errNotYetValid     = errors.New("service account token is not valid yet")
	errIssuedInFuture  = errors.New("service account token is issued in the future")
	errInvalidated     = errors.New("service account token has been invalidated")
	errInvalidAudience = errors.New("service account token is not valid for this audience")
	errClaims          = errors.New("service account token claims could not be validated")
	errSAGone          = errors.New("service account no longer exists")
	errSAUID           = errors.New("service account UID does not match the token's")
	errLegacyMismatch  = errors.New("token does not match the server's copy")
	errLegacyInvalid   = errors.New("the token of this Secret has been marked invalid: use tokens from the TokenRequest API, or remove the Secret's " + InvalidSinceLabel + " label")
)

var _ authn.TokenAuthenticator = (*Authenticator)(nil)

// AuthenticateToken authenticates token for the API audiences.
func (a *Authenticator) AuthenticateToken(ctx context.Context, token string) (*authn.User, bool, error) {
	u, _, ok, err := a.authenticate(ctx, token, a.auds)
	return u, ok, err
}

// AuthenticateTokenForAudiences authenticates token for any of audiences
// (a TokenReview's), as upstream does with the audiences in the request's
// context: it returns the audiences among them the token is for (a token
// without "aud" is for the API audiences); a token for none of them is an
// error, as long as the server has API audiences.
func (a *Authenticator) AuthenticateTokenForAudiences(ctx context.Context, token string, audiences []string) (*authn.User, []string, bool, error) {
	if len(audiences) == 0 {
		audiences = a.auds
	}
	return a.authenticate(ctx, token, audiences)
}

func (a *Authenticator) authenticate(ctx context.Context, token string, requested []string) (*authn.User, []string, bool, error) {
	key := sha256.Sum256([]byte(token))
	vt := a.verified.get(key)
	if vt == nil {
		var err error
		if vt, err = a.verify(token); vt == nil || err != nil {
			return nil, nil, false, err
		}
		a.verified.put(key, vt)
	}
	c, legacy := vt.claims, vt.legacy
	tokenAuds := []string(c.Audience)
	if len(tokenAuds) == 0 {
		tokenAuds = a.auds
	}
	var auds []string
	for _, s := range tokenAuds {
		if slices.Contains(requested, s) && !slices.Contains(auds, s) {
			auds = append(auds, s)
		}
	}
	if len(auds) == 0 && len(a.auds) != 0 {
		return nil, nil, false, errInvalidAudience
	}
	var (
		u   *authn.User
		err error
	)
	if legacy {
		u, err = a.validateLegacy(ctx, token, c)
	} else {
		u, err = a.validateBound(ctx, c)
	}
	if err != nil {
		return nil, nil, false, err
	}
	return u, auds, true, nil
}

// verifiedToken is what a token whose signature verified says.
type verifiedToken struct {
	claims *claims
	legacy bool
}

// verify returns the claims of a token of one of the issuers (or the legacy
// issuer) whose signature verifies; nil and no error for a token that is
// not a service-account token.
func (a *Authenticator) verify(token string) (*verifiedToken, error) {
	iss, ok := unverifiedIssuer(token)
	legacy := iss == LegacyIssuer
	if !ok || !legacy && !a.issuers[iss] {
		return nil, nil
	}
	p, err := parse(token)
	if err != nil {
		return nil, nil
	}
	if err := p.verify(a.keys); err != nil {
		return nil, err
	}
	c := &claims{}
	if err := json.Unmarshal(p.payload, c); err != nil {
		return nil, errClaims
	}
	return &verifiedToken{claims: c, legacy: legacy}, nil
}

// verifiedCacheSize bounds the verified tokens remembered (a few hundred
// bytes each).
const verifiedCacheSize = 4096

// verifiedCache remembers, by the SHA-256 of the whole token, the tokens
// whose signature verified, so that a client's repeated requests skip the
// signature check (tens to hundreds of microseconds). Every other check
// (times, audiences, the objects the token names) runs on each request.
// When full it forgets arbitrary tokens. Safe for concurrent use.
type verifiedCache struct {
	mu sync.Mutex
	m  map[[sha256.Size]byte]*verifiedToken
}

func (v *verifiedCache) get(key [sha256.Size]byte) *verifiedToken {
	v.mu.Lock()
	defer v.mu.Unlock()
	return v.m[key]
}

func (v *verifiedCache) put(key [sha256.Size]byte, t *verifiedToken) {
	v.mu.Lock()
	defer v.mu.Unlock()
	if len(v.m) >= verifiedCacheSize {
		for k := range v.m {
			delete(v.m, k)
			if len(v.m) < verifiedCacheSize*3/4 {
				break
			}
		}
	}
	v.m[key] = t
}

// unverifiedIssuer reads "iss" from a token that looks like a JWT, before
// its signature is checked, to tell whether the token is this
// authenticator's kind.
func unverifiedIssuer(token string) (string, bool) {
	if strings.HasPrefix(strings.TrimSpace(token), "{") {
		return "", false
	}
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return "", false
	}
	payload, err := b64.DecodeString(parts[1])
	if err != nil {
		return "", false
	}
	var c struct {
		Issuer string `json:"iss"`
	}
	if json.Unmarshal(payload, &c) != nil {
		return "", false
	}
	return c.Issuer, true
}

// validateBound is upstream's validator of bound tokens: the times, then the
// service account (same UID, not deleted), the bound Secret or Pod (same
// UID, not deleted beyond the leeway; a pod being deleted gracefully stays
// valid until its deletion time) and a token bound only to a Node.
func (a *Authenticator) validateBound(ctx context.Context, c *claims) (*authn.User, error) {
	now := a.clock.Now()
	switch {
	case c.Expiry != 0 && now.Add(-leeway).After(c.Expiry.time()):
		return nil, errExpired
	case c.NotBefore != 0 && now.Add(leeway).Before(c.NotBefore.time()):
		return nil, errNotYetValid
	case c.IssuedAt != 0 && now.Add(leeway).Before(c.IssuedAt.time()):
		return nil, errIssuedInFuture
	}
	k := c.Kubernetes
	if k == nil || k.Namespace == "" || k.ServiceAccount.Name == "" {
		return nil, errClaims
	}
	if a.getter == nil {
		return nil, errInvalidated
	}
	deletedBefore := now.Add(-leeway)
	gone := func(t *metav1.Time) bool { return t != nil && t.Time.Before(deletedBefore) }
	ns := k.Namespace
	sa, err := a.getter.GetServiceAccount(ctx, ns, k.ServiceAccount.Name)
	switch {
	case err != nil:
		return nil, errSAGone
	case string(sa.UID) != k.ServiceAccount.UID:
		return nil, errSAUID
	case gone(sa.DeletionTimestamp):
		return nil, errSAGone
	}
	if r := k.Secret; r != nil {
		s, err := a.getter.GetSecret(ctx, ns, r.Name)
		if err != nil || string(s.UID) != r.UID || gone(s.DeletionTimestamp) {
			return nil, errInvalidated
		}
	}
	u := serviceAccountUser(ns, k.ServiceAccount.Name, k.ServiceAccount.UID)
	if r := k.Pod; r != nil {
		p, err := a.getter.GetPod(ctx, ns, r.Name)
		if err != nil || string(p.UID) != r.UID || gone(p.DeletionTimestamp) {
			return nil, errInvalidated
		}
		u.Extra[ExtraPodName] = []string{r.Name}
		u.Extra[ExtraPodUID] = []string{r.UID}
	}
	if r := k.Node; r != nil {
		if k.Pod == nil {
			n, err := a.getter.GetNode(ctx, r.Name)
			if err != nil || string(n.UID) != r.UID || gone(n.DeletionTimestamp) {
				return nil, errInvalidated
			}
		}
		u.Extra[ExtraNodeName] = []string{r.Name}
		if r.UID != "" {
			u.Extra[ExtraNodeUID] = []string{r.UID}
		}
	}
	if c.ID != "" {
		u.Extra[ExtraCredentialID] = []string{"JTI=" + c.ID}
	}
	if len(u.Extra) == 0 {
		u.Extra = nil
	}
	return u, nil
}

// validateLegacy is upstream's legacy validator: the claims must name the
// service account and Secret consistently; with lookup, the Secret must
// exist, not be deleted and hold this very token, and the service account
// must exist with the token's UID.
func (a *Authenticator) validateLegacy(ctx context.Context, token string, c *claims) (*authn.User, error) {
	ns, name, uid, secret := c.LegacyNamespace, c.LegacyServiceAccountName, c.LegacyServiceAccountUID, c.LegacySecretName
	if ns == "" || name == "" || uid == "" || secret == "" {
		return nil, errClaims
	}
	if sns, sname, ok := SplitUsername(c.Subject); !ok || sns != ns || sname != name {
		return nil, errClaims
	}
	if a.lookup {
		if a.getter == nil {
			return nil, errInvalidated
		}
		s, err := a.getter.GetSecret(ctx, ns, secret)
		if err != nil || s.DeletionTimestamp != nil {
			return nil, errInvalidated
		}
		if subtle.ConstantTimeCompare(s.Data[corev1.ServiceAccountTokenKey], []byte(token)) != 1 {
			return nil, errLegacyMismatch
		}
		if s.Labels[InvalidSinceLabel] != "" {
			return nil, errLegacyInvalid
		}
		sa, err := a.getter.GetServiceAccount(ctx, ns, name)
		switch {
		case err != nil || sa.DeletionTimestamp != nil:
			return nil, errSAGone
		case string(sa.UID) != uid:
			return nil, errSAUID
		}
	}
	u := serviceAccountUser(ns, name, uid)
	u.Extra = nil
	return u, nil
}

func serviceAccountUser(namespace, name, uid string) *authn.User {
	return &authn.User{Name: Username(namespace, name), UID: uid,
		Groups: []string{AllServiceAccountsGroup, GroupPrefix + namespace, authn.GroupAuthenticated},
		Extra:  map[string][]string{}}
}
