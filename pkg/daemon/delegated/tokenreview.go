package delegated

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	authenticationv1 "k8s.io/api/authentication/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	authenticationv1client "k8s.io/client-go/kubernetes/typed/authentication/v1"
	"k8s.io/utils/clock"
)

// TokenReview authenticates bearer tokens by asking the apiserver for a
// TokenReview, as upstream's webhook token authenticator: the token is
// the user the review names when it says authenticated (and, with
// Audiences, one of them is among the review's). Answers are cached by
// the token's hash: authenticated for SuccessTTL, not for FailureTTL;
// errors are not cached. Safe for concurrent use once built with
// NewTokenReview.
type TokenReview struct {
	client authenticationv1client.TokenReviewInterface
	opts   TokenReviewOptions
	cache  *ttlCache[*User] // nil User: not authenticated
}

// TokenReviewOptions tune a TokenReview.
type TokenReviewOptions struct {
	// Audiences are the audiences the token must be for; empty: the
	// apiserver's own.
	Audiences []string
	// SuccessTTL and FailureTTL are how long an authenticated and a not
	// authenticated answer are cached (0: not cached). Upstream's
	// scheduler and controller-manager cache both for 10s
	// (--authentication-token-webhook-cache-ttl), the kubelet for 2m
	// (authentication.webhook.cacheTTL).
	SuccessTTL, FailureTTL time.Duration
	// Timeout bounds one review (10s when zero).
	Timeout time.Duration
	// Retry is the backoff between attempts when the apiserver cannot be
	// reached or answers 429/5xx (DefaultRetry when Steps is zero).
	Retry Retry
	// Clock is the cache's clock (the real one when nil).
	Clock clock.Clock
}

// NewTokenReview returns a TokenReview asking client.
func NewTokenReview(client authenticationv1client.TokenReviewInterface, opts TokenReviewOptions) *TokenReview {
	if opts.Timeout == 0 {
		opts.Timeout = 10 * time.Second
	}
	if opts.Retry.Steps == 0 {
		opts.Retry = DefaultRetry
	}
	if opts.Clock == nil {
		opts.Clock = clock.RealClock{}
	}
	opts.Audiences = slices.Clone(opts.Audiences)
	return &TokenReview{client: client, opts: opts, cache: newTTLCache[*User](opts.Clock)}
}

// AuthenticateToken implements TokenAuthenticator.
func (t *TokenReview) AuthenticateToken(r *http.Request, token string) (*User, bool, error) {
	return t.Authenticate(r.Context(), token)
}

// Authenticate reviews token (or answers from the cache).
func (t *TokenReview) Authenticate(ctx context.Context, token string) (*User, bool, error) {
	sum := sha256.Sum256([]byte(token))
	key := hex.EncodeToString(sum[:]) + "/" + strings.Join(t.opts.Audiences, ",")
	if u, ok := t.cache.get(key); ok {
		return u, u != nil, nil
	}
	review := &authenticationv1.TokenReview{Spec: authenticationv1.TokenReviewSpec{Token: token, Audiences: t.opts.Audiences}}
	var result *authenticationv1.TokenReview
	err := t.opts.Retry.do(ctx, t.opts.Clock, func() error {
		rctx, cancel := context.WithTimeout(ctx, t.opts.Timeout)
		defer cancel()
		var err error
		result, err = t.client.Create(rctx, review, metav1.CreateOptions{})
		return err
	})
	if err != nil {
		return nil, false, fmt.Errorf("TokenReview: %w", err)
	}
	st := result.Status
	u := &User{Name: st.User.Username, UID: st.User.UID, Groups: slices.Clone(st.User.Groups)}
	if len(st.User.Extra) > 0 {
		u.Extra = map[string][]string{}
		for k, v := range st.User.Extra {
			u.Extra[k] = slices.Clone(v)
		}
	}
	ok := st.Authenticated && (len(t.opts.Audiences) == 0 || slices.ContainsFunc(st.Audiences, func(a string) bool { return slices.Contains(t.opts.Audiences, a) }))
	if !ok {
		t.cache.set(key, nil, t.opts.FailureTTL)
		return nil, false, nil
	}
	t.cache.set(key, u, t.opts.SuccessTTL)
	return u, true, nil
}

// Retry is an exponential backoff: Steps attempts in all, waiting
// Duration, then Duration×Factor… between them.
type Retry struct {
	Duration time.Duration
	Factor   float64
	Steps    int
}

// DefaultRetry is upstream's DefaultAuthWebhookRetryBackoff (without its
// jitter): 5 attempts, 500ms apart and growing by 1.5.
var DefaultRetry = Retry{Duration: 500 * time.Millisecond, Factor: 1.5, Steps: 5}

// do calls f until it succeeds, fails with an error not worth retrying,
// Steps attempts were made or ctx ended.
func (b Retry) do(ctx context.Context, c clock.Clock, f func() error) error {
	wait := b.Duration
	var err error
	for i := 0; i < max(b.Steps, 1); i++ {
		if i > 0 {
			select {
			case <-ctx.Done():
				return errors.Join(err, ctx.Err())
			case <-c.After(wait):
			}
			wait = time.Duration(float64(wait) * b.Factor)
		}
		if err = f(); err == nil || !retriable(ctx, err) {
			return err
		}
	}
	return err
}

// retriable: the apiserver could not be reached or answered 429 or 5xx.
func retriable(ctx context.Context, err error) bool {
	if ctx.Err() != nil {
		return false
	}
	var status apierrors.APIStatus
	if errors.As(err, &status) {
		code := status.Status().Code
		return code == http.StatusTooManyRequests || code >= 500
	}
	return true
}
