package authn

import (
	"context"
	"crypto/subtle"
	"regexp"
	"slices"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/utils/clock"
)

// Bootstrap tokens, as upstream's k8s.io/cluster-bootstrap.
const (
	// BootstrapTokenSecretType is the type of bootstrap-token Secrets.
	BootstrapTokenSecretType corev1.SecretType = "bootstrap.kubernetes.io/token"
	// BootstrapTokenSecretPrefix prefixes the token ID in the Secret's
	// name; the Secret lives in kube-system.
	BootstrapTokenSecretPrefix = "bootstrap-token-"
	// BootstrapUserPrefix prefixes the token ID in the user name.
	BootstrapUserPrefix = "system:bootstrap:"
	// GroupBootstrappers is every bootstrap token's group.
	GroupBootstrappers = "system:bootstrappers"

	bootstrapNamespace   = "kube-system"
	bootstrapKeyID       = "token-id"
	bootstrapKeySecret   = "token-secret"
	bootstrapKeyExpires  = "expiration"
	bootstrapKeyAuthn    = "usage-bootstrap-authentication"
	bootstrapKeyGroups   = "auth-extra-groups"
	bootstrapGroupPrefix = GroupBootstrappers + ":"
)

var (
	bootstrapTokenRE = regexp.MustCompile(`^([a-z0-9]{6})\.([a-z0-9]{16})$`)
	bootstrapGroupRE = regexp.MustCompile(`^system:bootstrappers:[a-z0-9:-]{0,255}[a-z0-9]$`)
)

// SecretGetter reads a Secret; it returns a NotFound API error when there
// is none.
type SecretGetter func(ctx context.Context, namespace, name string) (*corev1.Secret, error)

// BootstrapTokens authenticates bootstrap tokens "<id>.<secret>"
// (--enable-bootstrap-token-auth) as upstream: the Secret
// kube-system/bootstrap-token-<id> of type bootstrap.kubernetes.io/token,
// not being deleted, with the same token-id and token-secret,
// usage-bootstrap-authentication "true" and an expiration (RFC 3339) not
// past. The user is system:bootstrap:<id> in system:bootstrappers and the
// Secret's auth-extra-groups. Like upstream, a token that does not match
// such a Secret is not recognized (ok=false, no error), whatever the
// reason, so nothing about the Secret leaks; only a failed lookup is an
// error.
type BootstrapTokens struct {
	Secrets SecretGetter
	// Clock tells expiry; nil means the real clock.
	Clock clock.PassiveClock
}

var _ TokenAuthenticator = BootstrapTokens{}

// AuthenticateToken authenticates a bootstrap token (see BootstrapTokens).
func (b BootstrapTokens) AuthenticateToken(ctx context.Context, token string) (*User, bool, error) {
	m := bootstrapTokenRE.FindStringSubmatch(token)
	if m == nil {
		return nil, false, nil
	}
	id, secret := m[1], m[2]
	s, err := b.Secrets(ctx, bootstrapNamespace, BootstrapTokenSecretPrefix+id)
	if apierrors.IsNotFound(err) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, err
	}
	data := func(k string) string { return string(s.Data[k]) }
	switch {
	case s.DeletionTimestamp != nil, s.Type != BootstrapTokenSecretType, s.Data == nil,
		subtle.ConstantTimeCompare([]byte(data(bootstrapKeySecret)), []byte(secret)) != 1,
		data(bootstrapKeyID) != id,
		b.expired(data(bootstrapKeyExpires)),
		data(bootstrapKeyAuthn) != "true":
		return nil, false, nil
	}
	groups, ok := bootstrapGroups(data(bootstrapKeyGroups))
	if !ok {
		return nil, false, nil
	}
	return &User{Name: BootstrapUserPrefix + id, Groups: append(groups, GroupAuthenticated)}, true, nil
}

// expired is upstream's HasExpired: an expiration that does not parse
// counts as expired.
func (b BootstrapTokens) expired(expiration string) bool {
	if expiration == "" {
		return false
	}
	t, err := time.Parse(time.RFC3339, expiration)
	if err != nil {
		return true
	}
	now := time.Now()
	if b.Clock != nil {
		now = b.Clock.Now()
	}
	return now.After(t)
}

// bootstrapGroups is upstream's GetGroups: system:bootstrappers and the
// comma-separated extra groups, each of which must be a
// system:bootstrappers:… group; sorted, without duplicates.
func bootstrapGroups(extra string) ([]string, bool) {
	groups := []string{GroupBootstrappers}
	if extra != "" {
		for _, g := range strings.Split(extra, ",") {
			g = strings.TrimSpace(g)
			if !bootstrapGroupRE.MatchString(g) || !strings.HasPrefix(g, bootstrapGroupPrefix) {
				return nil, false
			}
			groups = append(groups, g)
		}
	}
	slices.Sort(groups)
	return slices.Compact(groups), true
}
