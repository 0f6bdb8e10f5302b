package delegated

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"time"

	"github.com/spf13/pflag"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/kinc-dev/kinc/pkg/pki"
)

// Options are upstream's delegated authentication and authorization flags
// of kube-scheduler and kube-controller-manager
// (DelegatingAuthenticationOptions/DelegatingAuthorizationOptions).
type Options struct {
	// AuthenticationKubeconfig reaches the apiserver for TokenReviews;
	// empty: the in-cluster configuration, if any (without it bearer
	// tokens are not accepted).
	AuthenticationKubeconfig string
	// AuthorizationKubeconfig reaches the apiserver for
	// SubjectAccessReviews; empty: the in-cluster configuration, if any
	// (without it only AlwaysAllowPaths and AlwaysAllowGroups pass).
	AuthorizationKubeconfig string
	// ClientCAFile verifies client certificates; empty: the client-ca-file
	// of the ConfigMap kube-system/extension-apiserver-authentication, read
	// through AuthenticationKubeconfig (PublishedClientCA; as upstream,
	// without it client certificates are not accepted).
	ClientCAFile string
	// TokenCacheTTL is --authentication-token-webhook-cache-ttl (10s).
	TokenCacheTTL time.Duration
	// AllowCacheTTL and DenyCacheTTL are
	// --authorization-webhook-cache-authorized-ttl and
	// --authorization-webhook-cache-unauthorized-ttl (10s each).
	AllowCacheTTL, DenyCacheTTL time.Duration
	// AlwaysAllowPaths is --authorization-always-allow-paths
	// (/healthz, /readyz, /livez).
	AlwaysAllowPaths []string
	// AlwaysAllowGroups are allowed everything without asking
	// (system:masters, as upstream; not a flag).
	AlwaysAllowGroups []string
}

// NewOptions returns upstream's defaults.
func NewOptions() Options {
	return Options{TokenCacheTTL: 10 * time.Second, AllowCacheTTL: 10 * time.Second, DenyCacheTTL: 10 * time.Second,
		AlwaysAllowPaths: []string{"/healthz", "/readyz", "/livez"}, AlwaysAllowGroups: []string{GroupMasters}}
}

// AddFlags registers upstream's flags.
func (o *Options) AddFlags(fs *pflag.FlagSet) {
	fs.StringVar(&o.AuthenticationKubeconfig, "authentication-kubeconfig", o.AuthenticationKubeconfig, "kubeconfig file pointing at the 'core' kubernetes server with enough rights to create tokenreviews.authentication.k8s.io. This is optional. If empty, all token requests are considered to be anonymous and no client CA is looked up in the cluster.")
	fs.StringVar(&o.AuthorizationKubeconfig, "authorization-kubeconfig", o.AuthorizationKubeconfig, "kubeconfig file pointing at the 'core' kubernetes server with enough rights to create subjectaccessreviews.authorization.k8s.io. This is optional. If empty, all requests not skipped by authorization are forbidden.")
	fs.StringVar(&o.ClientCAFile, "client-ca-file", o.ClientCAFile, "If set, any request presenting a client certificate signed by one of the authorities in the client-ca-file is authenticated with an identity corresponding to the CommonName of the client certificate.")
	fs.DurationVar(&o.TokenCacheTTL, "authentication-token-webhook-cache-ttl", o.TokenCacheTTL, "The duration to cache responses from the webhook token authenticator.")
	fs.DurationVar(&o.AllowCacheTTL, "authorization-webhook-cache-authorized-ttl", o.AllowCacheTTL, "The duration to cache 'authorized' responses from the webhook authorizer.")
	fs.DurationVar(&o.DenyCacheTTL, "authorization-webhook-cache-unauthorized-ttl", o.DenyCacheTTL, "The duration to cache 'unauthorized' responses from the webhook authorizer.")
	fs.StringSliceVar(&o.AlwaysAllowPaths, "authorization-always-allow-paths", o.AlwaysAllowPaths, "A list of HTTP paths to skip during authorization, i.e. these are authorized without contacting the 'core' kubernetes server.")
}

// Validate checks the kubeconfigs load, the client CA file holds
// certificates and the TTLs are not negative; each error names its flag.
func (o *Options) Validate() error {
	var errs []error
	for _, f := range []struct{ flag, file string }{{"--authentication-kubeconfig", o.AuthenticationKubeconfig}, {"--authorization-kubeconfig", o.AuthorizationKubeconfig}} {
		if f.file != "" {
			if _, err := clientcmd.LoadFromFile(f.file); err != nil {
				errs = append(errs, fmt.Errorf("%s: %w", f.flag, err))
			}
		}
	}
	if o.ClientCAFile != "" {
		data, err := os.ReadFile(o.ClientCAFile)
		if err == nil {
			_, err = pki.ParseCertsPEM(data)
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("--client-ca-file: %w", err))
		}
	}
	for _, d := range []struct {
		flag string
		d    time.Duration
	}{{"--authentication-token-webhook-cache-ttl", o.TokenCacheTTL}, {"--authorization-webhook-cache-authorized-ttl", o.AllowCacheTTL}, {"--authorization-webhook-cache-unauthorized-ttl", o.DenyCacheTTL}} {
		if d.d < 0 {
			errs = append(errs, fmt.Errorf("%s %s must not be negative", d.flag, d.d))
		}
	}
	return errors.Join(errs...)
}

// Filter builds the filter the options describe (reading the published
// client CA until ctx ends when there is no --client-ca-file): anonymous requests
// allowed (as upstream's delegated authentication), client certificates,
// bearer tokens through TokenReview, then the always-allowed groups and
// paths and SubjectAccessReview. userAgent names the component's clients.
func (o *Options) Filter(ctx context.Context, userAgent string, logger *slog.Logger) (*Filter, error) {
	authnClient, err := o.client(o.AuthenticationKubeconfig, userAgent)
	if err != nil {
		return nil, fmt.Errorf("--authentication-kubeconfig: %w", err)
	}
	authzClient, err := o.client(o.AuthorizationKubeconfig, userAgent)
	if err != nil {
		return nil, fmt.Errorf("--authorization-kubeconfig: %w", err)
	}
	authn := Authentication{Anonymous: true}
	var caPEM []byte
	switch {
	case o.ClientCAFile != "":
		if caPEM, err = os.ReadFile(o.ClientCAFile); err != nil {
			return nil, fmt.Errorf("--client-ca-file: %w", err)
		}
	case authnClient != nil:
		published := &PublishedClientCA{Client: authnClient, Logger: logger}
		go published.Run(ctx)
		authn.Authenticators = append(authn.Authenticators, published)
	default:
		logger.Warn("no --authentication-kubeconfig to look up the client CA: client certificate authentication won't work")
	}
	if caPEM != nil {
		pool, err := pki.CertPoolFromPEM(caPEM)
		if err != nil {
			return nil, fmt.Errorf("client CA: %w", err)
		}
		authn.Authenticators = append(authn.Authenticators, X509{Roots: pool})
	}
	if authnClient != nil {
		tokens := NewTokenReview(authnClient.AuthenticationV1().TokenReviews(), TokenReviewOptions{SuccessTTL: o.TokenCacheTTL, FailureTTL: o.TokenCacheTTL})
		authn.Authenticators = append(authn.Authenticators, BearerToken{Tokens: tokens})
	} else {
		logger.Warn("no --authentication-kubeconfig: bearer tokens won't be accepted")
	}
	authz := Union{Groups(o.AlwaysAllowGroups), Paths(o.AlwaysAllowPaths)}
	if authzClient != nil {
		authz = append(authz, NewSubjectAccessReview(authzClient.AuthorizationV1().SubjectAccessReviews(),
			SubjectAccessReviewOptions{AllowTTL: o.AllowCacheTTL, DenyTTL: o.DenyCacheTTL}))
	} else {
		logger.Warn("no --authorization-kubeconfig: only the always-allowed paths are served")
	}
	return &Filter{Authentication: authn, Authorizer: authz, Logger: logger}, nil
}

// client is a clientset from kubeconfig, or the in-cluster one when it is
// empty, or nil when it is empty and there is no usable in-cluster
// configuration.
func (o *Options) client(kubeconfig, userAgent string) (kubernetes.Interface, error) {
	var cfg *rest.Config
	var err error
	if kubeconfig == "" {
		if cfg, err = rest.InClusterConfig(); err != nil {
			return nil, nil //nolint:nilerr // optional, as upstream's scheduler and controller-manager
		}
	} else {
		cfg, err = clientcmd.BuildConfigFromFlags("", kubeconfig)
	}
	if err != nil {
		return nil, err
	}
	cfg = rest.CopyConfig(cfg)
	cfg.UserAgent = userAgent
	return kubernetes.NewForConfig(cfg)
}
