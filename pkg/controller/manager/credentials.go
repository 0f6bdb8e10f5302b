package manager

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"time"

	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	typedcorev1 "k8s.io/client-go/kubernetes/typed/core/v1"
	"k8s.io/client-go/rest"
	"k8s.io/utils/clock"
	"k8s.io/utils/ptr"
)

// The token lifetime and refresh point of upstream's
// DynamicControllerClientBuilder: tokens of one hour, replaced once 80%
// of their lifetime has passed, a lifetime under ten minutes (clock skew
// between the manager and the apiserver) counted as ten minutes.
const (
	defaultTokenExpiration = time.Hour
	tokenLeewayPercent     = 20
	minTokenLifetime       = 10 * time.Minute
	// tokenRetryInterval is how long a token that could not be replaced
	// keeps being used before the next attempt (while it is valid).
	tokenRetryInterval = 10 * time.Second
)

// ServiceAccountCredentials is --use-service-account-credentials: the
// ClientBuilder it makes gives each controller a client authenticated as
// the service account Namespace/<name> (upstream's per-controller
// accounts, so that RBAC grants each controller its own role), with a
// token it obtains through the TokenRequest API
// (serviceaccounts/<name>/token) with the manager's own client and
// renews before it expires. It is upstream's DynamicControllerClientBuilder.
type ServiceAccountCredentials struct {
	// Root is the manager's client configuration (its kubeconfig): the
	// controllers' configurations copy its server, TLS trust, rate limits
	// and timeouts, never its credentials.
	Root *rest.Config
	// Client, on Root's identity, gets and creates the service accounts
	// and requests their tokens.
	Client typedcorev1.CoreV1Interface
	// Namespace holds the accounts; "" means kube-system, as upstream.
	Namespace string
	// Expiration is the lifetime asked for each token; 0 means one hour.
	Expiration time.Duration
	// Clock decides when a token is renewed; nil means the real clock.
	Clock clock.PassiveClock
	// Logger receives a line when a token cannot be renewed; nil discards.
	Logger *slog.Logger
}

// ClientBuilder returns the ClientBuilder of these credentials. For each
// name it is called with, it makes sure the account exists (creating it,
// and its namespace if that is missing, as upstream does) and returns a
// copy of Root without Root's credentials, whose user agent names the
// account's user (system:serviceaccount:<namespace>:<name>) and whose
// transport sends the account's bearer token. The token is requested on
// the first request, shared by every configuration of that name, renewed
// on the first request after 80% of its lifetime, and dropped when the
// apiserver answers 401 to a request that started after it was obtained,
// so that the next request gets a new one. A token that cannot be renewed
// keeps being used while it is valid (retried every 10 s); without one, a
// request fails with the TokenRequest's error. ctx bounds the account
// lookups and creations; token requests run under the request's context.
func (s ServiceAccountCredentials) ClientBuilder(ctx context.Context) ClientBuilder {
	if s.Namespace == "" {
		s.Namespace = metav1.NamespaceSystem
	}
	if s.Expiration == 0 {
		s.Expiration = defaultTokenExpiration
	}
	if s.Clock == nil {
		s.Clock = clock.RealClock{}
	}
	if s.Logger == nil {
		s.Logger = slog.New(slog.DiscardHandler)
	}
	b := &saClientBuilder{creds: s, sources: map[string]*tokenSource{}}
	return func(name string) (*rest.Config, error) { return b.config(ctx, name) }
}

// saClientBuilder is one ClientBuilder's state: a token source per
// account.
type saClientBuilder struct {
	creds   ServiceAccountCredentials
	mu      sync.Mutex
	sources map[string]*tokenSource
}

func (b *saClientBuilder) config(ctx context.Context, name string) (*rest.Config, error) {
	if err := ensureServiceAccount(ctx, b.creds.Client, b.creds.Namespace, name, b.creds.Logger); err != nil {
		return nil, err
	}
	cfg := rest.AnonymousClientConfig(b.creds.Root)
	rest.AddUserAgent(cfg, serviceAccountUser(b.creds.Namespace, name))
	src := b.source(name)
	cfg.Wrap(func(rt http.RoundTripper) http.RoundTripper { return &bearerTransport{base: rt, src: src} })
	return cfg, nil
}

// source returns name's token source, made on first use.
func (b *saClientBuilder) source(name string) *tokenSource {
	b.mu.Lock()
	defer b.mu.Unlock()
	src, ok := b.sources[name]
	if !ok {
		c := b.creds
		src = &tokenSource{
			account: c.Namespace + "/" + name, clock: c.Clock, logger: c.Logger,
			fetch: func(ctx context.Context) (*authenticationv1.TokenRequest, error) {
				return requestToken(ctx, c.Client, c.Namespace, name, c.Expiration, c.Logger)
			},
		}
		b.sources[name] = src
	}
	return src
}

// serviceAccountUser is the user name a service account's tokens
// authenticate as.
func serviceAccountUser(namespace, name string) string {
	return "system:serviceaccount:" + namespace + ":" + name
}

// ensureServiceAccount creates the account namespace/name unless it
// exists. When the namespace itself is missing it tries to create it,
// ignoring a failure (the manager may not be allowed to: the account's
// creation then says what is wrong), as upstream does.
func ensureServiceAccount(ctx context.Context, client typedcorev1.CoreV1Interface, namespace, name string, logger *slog.Logger) error {
	_, err := client.ServiceAccounts(namespace).Get(ctx, name, metav1.GetOptions{})
	if err == nil {
		return nil
	}
	if !apierrors.IsNotFound(err) {
		return fmt.Errorf("getting service account %s/%s: %w", namespace, name, err)
	}
	if _, err := client.Namespaces().Get(ctx, namespace, metav1.GetOptions{}); apierrors.IsNotFound(err) {
		_, err := client.Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: namespace}}, metav1.CreateOptions{})
		if err != nil && !apierrors.IsAlreadyExists(err) {
			logger.Warn("cannot create the service accounts' namespace", "namespace", namespace, "err", err)
		}
	}
	sa := &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Name: name}}
	if _, err := client.ServiceAccounts(namespace).Create(ctx, sa, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
		return fmt.Errorf("creating service account %s/%s: %w", namespace, name, err)
	}
	return nil
}

// requestToken asks for a token of namespace/name lasting expiration; an
// account deleted meanwhile is created again first.
func requestToken(ctx context.Context, client typedcorev1.CoreV1Interface, namespace, name string, expiration time.Duration, logger *slog.Logger) (*authenticationv1.TokenRequest, error) {
	req := &authenticationv1.TokenRequest{Spec: authenticationv1.TokenRequestSpec{ExpirationSeconds: ptr.To(int64(expiration / time.Second))}}
	tr, err := client.ServiceAccounts(namespace).CreateToken(ctx, name, req, metav1.CreateOptions{})
	if apierrors.IsNotFound(err) {
		if err := ensureServiceAccount(ctx, client, namespace, name, logger); err != nil {
			return nil, err
		}
		tr, err = client.ServiceAccounts(namespace).CreateToken(ctx, name, req, metav1.CreateOptions{})
	}
	if err != nil {
		return nil, fmt.Errorf("requesting a token for service account %s/%s: %w", namespace, name, err)
	}
	if tr.Status.Token == "" {
		return nil, fmt.Errorf("requesting a token for service account %s/%s: the answer holds no token", namespace, name)
	}
	return tr, nil
}

// tokenSource holds one account's current token. Its methods are safe for
// concurrent use; a renewal holds the lock, so concurrent requests wait
// for it instead of asking for tokens of their own.
type tokenSource struct {
	account string
	fetch   func(ctx context.Context) (*authenticationv1.TokenRequest, error)
	clock   clock.PassiveClock
	logger  *slog.Logger

	mu        sync.Mutex
	token     string
	obtained  time.Time // when token was obtained
	renewAt   time.Time // the first request from then on asks for a new one
	expiresAt time.Time // token is not used from then on
}

// get returns the token to send, obtaining a new one when there is none
// or it is due for renewal.
func (s *tokenSource) get(ctx context.Context) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.clock.Now()
	if s.token != "" && now.Before(s.renewAt) {
		return s.token, nil
	}
	tr, err := s.fetch(ctx)
	if err != nil {
		if s.token != "" && now.Before(s.expiresAt) {
			s.logger.Warn("cannot renew a service account token; using the current one until it expires",
				"serviceAccount", s.account, "expires", s.expiresAt, "err", err)
			s.renewAt = now.Add(tokenRetryInterval)
			if s.renewAt.After(s.expiresAt) {
				s.renewAt = s.expiresAt
			}
			return s.token, nil
		}
		return "", err
	}
	lifetime := tr.Status.ExpirationTimestamp.Sub(now)
	if lifetime < minTokenLifetime {
		lifetime = minTokenLifetime
	}
	s.token, s.obtained = tr.Status.Token, now
	s.renewAt = now.Add(lifetime - lifetime*tokenLeewayPercent/100)
	s.expiresAt = now.Add(lifetime)
	return s.token, nil
}

// reset forgets the token if it was obtained before t: the apiserver
// refused a request that started at t with it.
func (s *tokenSource) reset(t time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.token != "" && s.obtained.Before(t) {
		s.token = ""
	}
}

// bearerTransport sends its source's token with every request that has no
// Authorization header of its own.
type bearerTransport struct {
	base http.RoundTripper
	src  *tokenSource
}

// RoundTrip implements http.RoundTripper; it does not modify req.
func (t *bearerTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.Header.Get("Authorization") != "" {
		return t.base.RoundTrip(req)
	}
	start := t.src.clock.Now()
	token, err := t.src.get(req.Context())
	if err != nil {
		closeBody(req)
		return nil, err
	}
	authed := req.Clone(req.Context())
	authed.Header.Set("Authorization", "Bearer "+token)
	resp, err := t.base.RoundTrip(authed)
	if err == nil && resp.StatusCode == http.StatusUnauthorized {
		t.src.reset(start)
	}
	return resp, err
}

// WrappedRoundTripper lets client-go find the transport underneath (for
// its TLS settings and request cancellation).
func (t *bearerTransport) WrappedRoundTripper() http.RoundTripper { return t.base }

// closeBody closes req's body, as a RoundTripper must even when it
// returns an error.
func closeBody(req *http.Request) {
	if req.Body != nil {
		_ = req.Body.Close()
	}
}
