package kuberuntime

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sync"
	"time"

	authenticationv1 "k8s.io/api/authentication/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/clock"
)

// Service-account token refresh, as upstream's kubelet token manager.
const (
	// tokenMaxTTL: a token older than this is refreshed whatever its
	// expiry (the apiserver may extend kube-api-access tokens to a year).
	tokenMaxTTL = 24 * time.Hour
	// tokenMaxJitter spreads the refreshes of many pods.
	tokenMaxJitter = 10 * time.Second
)

// tokenRequester is ObjectGetter's CreateToken.
type tokenRequester func(ctx context.Context, namespace, serviceAccount string, req *authenticationv1.TokenRequest) (*authenticationv1.TokenRequest, error)

// tokenManager caches the service-account tokens of projected volumes by
// (service account, namespace, audiences, expiration, bound pod) and
// requests a new one once 80% of a token's life has passed (less a
// jitter of up to 10s) or it is 24h old, as upstream's kubelet does. A
// failed refresh keeps a token that has not expired yet. Safe for
// concurrent use.
type tokenManager struct {
	clock   clock.Clock
	request tokenRequester
	// jitter returns the random margin taken off the refresh time.
	jitter func() time.Duration

	mu     sync.Mutex
	tokens map[string]*authenticationv1.TokenRequest
}

func newTokenManager(c clock.Clock, request tokenRequester) *tokenManager {
	return &tokenManager{clock: c, request: request, tokens: map[string]*authenticationv1.TokenRequest{},
		jitter: func() time.Duration { return time.Duration(rand.Float64() * float64(tokenMaxJitter)) }}
}

// token returns a valid token for req, from the cache unless it needs a refresh.
func (m *tokenManager) token(ctx context.Context, namespace, serviceAccount string, req *authenticationv1.TokenRequest) (*authenticationv1.TokenRequest, error) {
	key := tokenKey(namespace, serviceAccount, req)
	m.mu.Lock()
	cached, ok := m.tokens[key]
	m.mu.Unlock()
	if ok && !m.requiresRefresh(cached) {
		return cached, nil
	}
	tr, err := m.request(ctx, namespace, serviceAccount, req)
	if err != nil {
		if ok && m.clock.Now().Before(cached.Status.ExpirationTimestamp.Time) {
			return cached, nil
		}
		return nil, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	now := m.clock.Now()
	for k, t := range m.tokens {
		if !now.Before(t.Status.ExpirationTimestamp.Time) {
			delete(m.tokens, k)
		}
	}
	// The cached copy keeps the request's spec: its expiration is what
	// the refresh time is computed from.
	m.tokens[key] = &authenticationv1.TokenRequest{Spec: *req.Spec.DeepCopy(), Status: tr.Status}
	return m.tokens[key], nil
}

// requiresRefresh: 80% of the token's requested life (less a jitter) has
// passed, or it was issued more than 24h (less a jitter) ago.
func (m *tokenManager) requiresRefresh(tr *authenticationv1.TokenRequest) bool {
	if tr.Spec.ExpirationSeconds == nil {
		return false
	}
	now := m.clock.Now()
	ttl := time.Duration(*tr.Spec.ExpirationSeconds) * time.Second
	exp := tr.Status.ExpirationTimestamp.Time
	iat := exp.Add(-ttl)
	jitter := m.jitter()
	if now.After(iat.Add(tokenMaxTTL - jitter)) {
		return true
	}
	return now.After(exp.Add(-ttl/5 - jitter))
}

// forgetPod drops the tokens bound to the pod uid.
func (m *tokenManager) forgetPod(uid types.UID) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for k, t := range m.tokens {
		if ref := t.Spec.BoundObjectRef; ref != nil && ref.UID == uid {
			delete(m.tokens, k)
		}
	}
}

func tokenKey(namespace, serviceAccount string, req *authenticationv1.TokenRequest) string {
	exp := int64(0)
	if req.Spec.ExpirationSeconds != nil {
		exp = *req.Spec.ExpirationSeconds
	}
	ref := authenticationv1.BoundObjectReference{}
	if req.Spec.BoundObjectRef != nil {
		ref = *req.Spec.BoundObjectRef
	}
	return fmt.Sprintf("%q/%q/%#v/%d/%#v", serviceAccount, namespace, req.Spec.Audiences, exp, ref)
}
