package server

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/uuid"
	"k8s.io/utils/clock"

	"github.com/kinc-dev/kinc/pkg/apiserver/authn"
	"github.com/kinc-dev/kinc/pkg/apiserver/registry"
	"github.com/kinc-dev/kinc/pkg/apiserver/serviceaccount"
	"github.com/kinc-dev/kinc/pkg/pki"
)

// authentication is the apiserver's authentication as its flags configure
// it, as upstream assembles it: the front proxy's request headers, client
// certificates, then bearer tokens (the token file, service-account tokens,
// bootstrap tokens) in the Authorization header or a WebSocket subprotocol.
type authentication struct {
	// request authenticates requests (the authentication filter).
	request authn.Union
	// tokens authenticates bearer tokens (TokenReview).
	tokens *tokenChain
	// issuer signs service-account tokens; nil without
	// --service-account-signing-key-file.
	issuer *serviceaccount.Issuer
	// audiences are the API audiences (--api-audiences, defaulting to the
	// service-account issuers).
	audiences []string
	// oidc serves the issuer's discovery documents; nil when not served
	// (no issuer, or an issuer that is not an https URL, as upstream).
	oidc http.Handler
}

// fill sets what the resources see of the authentication.
func (a *authentication) fill(auth *registry.Auth, opts *Options) {
	auth.Tokens = a.tokens
	auth.APIAudiences = a.audiences
	auth.MaxTokenExpiration = opts.ServiceAccountMaxTokenExpiration
	if a.issuer != nil {
		auth.TokenIssuer = a.issuer
	}
}

// newAuthentication builds the authenticators of opts. clientCAs is
// --client-ca-file (nil when unset); with --requestheader-client-ca-file,
// tlsConfig's ClientCAs also gets the front-proxy CA so that the proxy's
// certificate passes the handshake (the client-certificate authenticator
// still accepts only the client CA's). stores reads the objects tokens
// name; it is called only while serving.
func newAuthentication(opts *Options, tlsConfig *tls.Config, clientCAs *x509.CertPool,
	stores func(schema.GroupVersionResource) registry.Store, clk clock.PassiveClock, log *slog.Logger) (*authentication, error) {
	if err := opts.validateAuthentication(); err != nil {
		return nil, err
	}
	a := &authentication{audiences: opts.APIAudiences}
	if len(a.audiences) == 0 {
		a.audiences = slices.Clone(opts.ServiceAccountIssuers)
	}
	a.tokens = &tokenChain{apiAudiences: a.audiences}

	if opts.RequestheaderClientCAFile != "" {
		rh, err := requestHeader(opts, tlsConfig, clientCAs)
		if err != nil {
			return nil, err
		}
		a.request = append(a.request, rh)
		if clientCAs != nil {
			cas, err := readCerts(opts.ClientCAFile, "--client-ca-file")
			if err != nil {
				return nil, err
			}
			a.request = append(a.request, clientCertAuth{x509: authn.X509{Roots: clientCAs, Verified: authn.NewChainCache(clk)}, cas: cas})
		}
	} else if clientCAs != nil {
		a.request = append(a.request, authn.X509{Roots: clientCAs, Verified: authn.NewChainCache(clk)})
	}

	if opts.TokenAuthFile != "" {
		tf, err := authn.LoadTokenFile(opts.TokenAuthFile)
		if err != nil {
			return nil, err
		}
		a.tokens.add(tf)
	}
	getter := storeGetter{stores: stores}
	if len(opts.ServiceAccountIssuers) > 0 {
		keyFiles := opts.ServiceAccountKeyFiles
		if len(keyFiles) == 0 {
			// As upstream: the signing key verifies when no key file is
			// given.
			keyFiles = []string{opts.ServiceAccountSigningKeyFile}
		}
		keys, err := serviceaccount.LoadPublicKeys(keyFiles)
		if err != nil {
			return nil, fmt.Errorf("--service-account-key-file: %w", err)
		}
		a.tokens.add(serviceaccount.NewAuthenticator(serviceaccount.Config{
			Issuers: opts.ServiceAccountIssuers, Keys: keys, APIAudiences: a.audiences,
			Getter: getter, Lookup: opts.ServiceAccountLookup, Clock: clk}))
		if opts.ServiceAccountSigningKeyFile != "" {
			key, err := serviceaccount.LoadSigningKey(opts.ServiceAccountSigningKeyFile)
			if err != nil {
				return nil, fmt.Errorf("--service-account-signing-key-file: %w", err)
			}
			if a.issuer, err = serviceaccount.NewIssuer(opts.ServiceAccountIssuers[0], key); err != nil {
				return nil, err
			}
			if !slices.ContainsFunc(keys, func(k serviceaccount.PublicKey) bool { return k.KeyID == a.issuer.KeyID() }) {
				log.Warn("the service-account signing key is not among the --service-account-key-file keys: the tokens it signs will not authenticate")
			}
		}
		jwksURI := serviceaccount.DefaultJWKSURI(net.JoinHostPort(advertiseAddress(opts), strconv.Itoa(opts.SecurePort)))
		if oidc, err := serviceaccount.NewOIDC(opts.ServiceAccountIssuers[0], jwksURI, keys); err != nil {
			log.Info("not serving the service-account issuer discovery documents", "reason", err)
		} else {
			a.oidc = oidc
		}
	}
	if opts.EnableBootstrapTokenAuth {
		a.tokens.add(authn.BootstrapTokens{Secrets: getter.GetSecret, Clock: clk})
	}
	if len(a.tokens.all) > 0 {
		a.request = append(a.request, authn.BearerToken{Tokens: a.tokens}, authn.WebSocketProtocol{Tokens: a.tokens})
	}
	return a, nil
}

// audienceTokens is a token authenticator whose tokens name their
// audiences (service-account tokens).
type audienceTokens interface {
	authn.TokenAuthenticator
	AuthenticateTokenForAudiences(ctx context.Context, token string, audiences []string) (*authn.User, []string, bool, error)
}

// tokenChain is the server's bearer-token authenticators in order (as
// authn.UnionTokens). It also authenticates for a TokenReview's audiences
// (tokenreview.AudienceTokenAuthenticator) as upstream: service-account
// tokens for the audiences they name, the others (token file, bootstrap
// tokens) only for the API audiences.
type tokenChain struct {
	all          authn.UnionTokens
	apiAudiences []string
}

var _ audienceTokens = (*tokenChain)(nil)

func (c *tokenChain) add(a authn.TokenAuthenticator) { c.all = append(c.all, a) }

func (c *tokenChain) AuthenticateToken(ctx context.Context, token string) (*authn.User, bool, error) {
	return c.all.AuthenticateToken(ctx, token)
}

func (c *tokenChain) AuthenticateTokenForAudiences(ctx context.Context, token string, audiences []string) (*authn.User, []string, bool, error) {
	if len(audiences) == 0 {
		audiences = c.apiAudiences
	}
	var agnostic []string
	for _, s := range c.apiAudiences {
		if slices.Contains(audiences, s) {
			agnostic = append(agnostic, s)
		}
	}
	var firstErr error
	for _, a := range c.all {
		var (
			u    *authn.User
			auds []string
			ok   bool
			err  error
		)
		if at, isAud := a.(audienceTokens); isAud {
			u, auds, ok, err = at.AuthenticateTokenForAudiences(ctx, token, audiences)
		} else if len(agnostic) > 0 {
			u, ok, err = a.AuthenticateToken(ctx, token)
			auds = agnostic
		}
		if ok {
			return u, auds, true, nil
		}
		if err != nil && firstErr == nil {
			firstErr = err
		}
	}
	return nil, nil, false, firstErr
}

func advertiseAddress(opts *Options) string {
	if opts.AdvertiseAddress != "" {
		return opts.AdvertiseAddress
	}
	return opts.BindAddress
}

// validateAuthentication checks the authentication flags as upstream:
// a signing key needs an issuer, issuers are distinct and URLs when they
// look like one, service-account tokens need a key, the maximum token
// expiration is between 1 hour and 2^32 s, and the request-header flags
// need their CA.
func (o *Options) validateAuthentication() error {
	var errs []error
	if o.ServiceAccountSigningKeyFile != "" && len(o.ServiceAccountIssuers) == 0 {
		errs = append(errs, errors.New("--service-account-signing-key-file requires --service-account-issuer"))
	}
	seen := map[string]bool{}
	for _, iss := range o.ServiceAccountIssuers {
		switch {
		case iss == "":
			errs = append(errs, errors.New("--service-account-issuer may not be empty"))
		case seen[iss]:
			errs = append(errs, fmt.Errorf("--service-account-issuer %q is given more than once", iss))
		case strings.Contains(iss, ":"):
			if _, err := url.Parse(iss); err != nil {
				errs = append(errs, fmt.Errorf("--service-account-issuer contained a ':' but was not a valid URL: %w", err))
			}
		}
		seen[iss] = true
	}
	if len(o.ServiceAccountIssuers) > 0 && len(o.ServiceAccountKeyFiles) == 0 && o.ServiceAccountSigningKeyFile == "" {
		errs = append(errs, errors.New("--service-account-issuer requires --service-account-key-file or --service-account-signing-key-file"))
	}
	if len(o.ServiceAccountIssuers) == 0 && len(o.ServiceAccountKeyFiles) > 0 {
		errs = append(errs, errors.New("--service-account-key-file requires --service-account-issuer"))
	}
	if m := o.ServiceAccountMaxTokenExpiration; m != 0 && (m < time.Hour || m > (1<<32)*time.Second) {
		errs = append(errs, errors.New("the --service-account-max-token-expiration must be between 1 hour and 2^32 seconds"))
	}
	if o.RequestheaderClientCAFile == "" && (len(o.RequestheaderAllowedNames) > 0 || len(o.RequestheaderUsernameHeaders) > 0) {
		errs = append(errs, errors.New("--requestheader-allowed-names and --requestheader-username-headers require --requestheader-client-ca-file"))
	}
	return errors.Join(errs...)
}

// requestHeader builds the front-proxy authenticator and lets the proxy's
// certificates through the TLS handshake.
func requestHeader(opts *Options, tlsConfig *tls.Config, clientCAs *x509.CertPool) (authn.Authenticator, error) {
	cas, err := readCerts(opts.RequestheaderClientCAFile, "--requestheader-client-ca-file")
	if err != nil {
		return nil, err
	}
	pool := x509.NewCertPool()
	if clientCAs != nil {
		pool = clientCAs.Clone()
	}
	for _, c := range cas {
		pool.AddCert(c)
	}
	tlsConfig.ClientCAs = pool
	tlsConfig.ClientAuth = tls.RequestClientCert
	return authn.NewRequestHeader(authn.RequestHeaderConfig{CAs: cas, AllowedNames: opts.RequestheaderAllowedNames,
		UsernameHeaders: opts.RequestheaderUsernameHeaders, UIDHeaders: opts.RequestheaderUIDHeaders,
		GroupHeaders: opts.RequestheaderGroupHeaders, ExtraHeaderPrefixes: opts.RequestheaderExtraHeadersPrefix}), nil
}

func readCerts(file, flag string) ([]*x509.Certificate, error) {
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", flag, err)
	}
	certs, err := pki.ParseCertsPEM(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", flag, err)
	}
	return certs, nil
}

// clientCertAuth is authn.X509 when the handshake's ClientCAs hold more
// than the client CA (the front-proxy CA): it trusts the handshake's
// verification only for chains ending at a client CA and has any other
// certificate verified against the client CA alone.
type clientCertAuth struct {
	x509 authn.X509
	cas  []*x509.Certificate
}

func (c clientCertAuth) AuthenticateRequest(r *http.Request) (*authn.User, bool, error) {
	if r.TLS == nil || len(r.TLS.VerifiedChains) == 0 {
		return c.x509.AuthenticateRequest(r)
	}
	for _, chain := range r.TLS.VerifiedChains {
		root := chain[len(chain)-1]
		if slices.ContainsFunc(c.cas, func(ca *x509.Certificate) bool { return bytes.Equal(ca.Raw, root.Raw) }) {
			return c.x509.AuthenticateRequest(r)
		}
	}
	state := *r.TLS
	state.VerifiedChains = nil
	r2 := r.WithContext(r.Context())
	r2.TLS = &state
	return c.x509.AuthenticateRequest(r2)
}

// storeGetter reads the objects of service-account and bootstrap tokens
// from the apiserver's stores: the watch cache first (as upstream's
// informer-backed getter), then storage when the cache does not have the
// object yet.
type storeGetter struct {
	stores func(schema.GroupVersionResource) registry.Store
}

var (
	gvrServiceAccounts = corev1.SchemeGroupVersion.WithResource("serviceaccounts")
	gvrPods            = corev1.SchemeGroupVersion.WithResource("pods")
	gvrSecrets         = corev1.SchemeGroupVersion.WithResource("secrets")
	gvrNodes           = corev1.SchemeGroupVersion.WithResource("nodes")
)

func (g storeGetter) get(ctx context.Context, gvr schema.GroupVersionResource, ns, name string) (runtime.Object, error) {
	st := g.stores(gvr)
	if st == nil {
		return nil, fmt.Errorf("%s are not served", gvr.Resource)
	}
	obj, err := st.Get(ctx, ns, name, &metav1.GetOptions{ResourceVersion: "0"})
	if apierrors.IsNotFound(err) {
		obj, err = st.Get(ctx, ns, name, &metav1.GetOptions{})
	}
	return obj, err
}

func getAs[T runtime.Object](g storeGetter, ctx context.Context, gvr schema.GroupVersionResource, ns, name string) (T, error) {
	var zero T
	obj, err := g.get(ctx, gvr, ns, name)
	if err != nil {
		return zero, err
	}
	t, ok := obj.(T)
	if !ok {
		return zero, fmt.Errorf("%s store returned %T", gvr.Resource, obj)
	}
	return t, nil
}

func (g storeGetter) GetServiceAccount(ctx context.Context, ns, name string) (*corev1.ServiceAccount, error) {
	return getAs[*corev1.ServiceAccount](g, ctx, gvrServiceAccounts, ns, name)
}

func (g storeGetter) GetPod(ctx context.Context, ns, name string) (*corev1.Pod, error) {
	return getAs[*corev1.Pod](g, ctx, gvrPods, ns, name)
}

func (g storeGetter) GetSecret(ctx context.Context, ns, name string) (*corev1.Secret, error) {
	return getAs[*corev1.Secret](g, ctx, gvrSecrets, ns, name)
}

func (g storeGetter) GetNode(ctx context.Context, name string) (*corev1.Node, error) {
	return getAs[*corev1.Node](g, ctx, gvrNodes, "", name)
}

// The ConfigMap in which the apiserver publishes how it authenticates, for
// delegated authentication (the scheduler's and controller-manager's secure
// ports, aggregated apiservers), as upstream's cluster authentication trust
// controller.
const (
	authenticationInfoNamespace = "kube-system"
	authenticationInfoName      = "extension-apiserver-authentication"
)

// publishAuthenticationInfo keeps kube-system/extension-apiserver-
// authentication up to date as upstream does: client-ca-file, and with
// --requestheader-client-ca-file the requestheader-* keys (header lists as
// JSON arrays). What other apiservers published is kept: CA bundles and
// lists are merged (without duplicates, expired certificates dropped).
func (s *Server) publishAuthenticationInfo(ctx context.Context) error {
	st := s.stores.store(corev1.SchemeGroupVersion.WithResource("configmaps"))
	if st == nil {
		return nil
	}
	mine, err := authenticationInfoOf(s.opts)
	if err != nil {
		return err
	}
	out := &corev1.ConfigMap{}
	return st.Storage.GuaranteedUpdate(ctx, st.Key(authenticationInfoNamespace, authenticationInfoName), out, true, nil,
		func(existing runtime.Object) (runtime.Object, error) {
			cm := existing.(*corev1.ConfigMap)
			data, err := mergeAuthenticationInfo(cm.Data, mine, s.clock.Now())
			if err != nil {
				return nil, err
			}
			if cm.ResourceVersion != "" && reflect.DeepEqual(cm.Data, data) {
				return cm, nil
			}
			if cm.ResourceVersion == "" { // not stored yet
				cm.ObjectMeta = metav1.ObjectMeta{Namespace: authenticationInfoNamespace, Name: authenticationInfoName,
					UID: types.UID(uuid.NewUUID()), CreationTimestamp: metav1.NewTime(s.clock.Now())}
			}
			cm.Data = data
			return cm, nil
		})
}

// authenticationInfoOf returns the ConfigMap data this apiserver's flags
// call for.
func authenticationInfoOf(opts *Options) (map[string]string, error) {
	data := map[string]string{}
	if opts.ClientCAFile != "" {
		b, err := os.ReadFile(opts.ClientCAFile)
		if err != nil {
			return nil, fmt.Errorf("--client-ca-file: %w", err)
		}
		data["client-ca-file"] = string(b)
	}
	if opts.RequestheaderClientCAFile == "" {
		return data, nil
	}
	b, err := os.ReadFile(opts.RequestheaderClientCAFile)
	if err != nil {
		return nil, fmt.Errorf("--requestheader-client-ca-file: %w", err)
	}
	data["requestheader-client-ca-file"] = string(b)
	for key, v := range map[string][]string{
		"requestheader-username-headers":     opts.RequestheaderUsernameHeaders,
		"requestheader-group-headers":        opts.RequestheaderGroupHeaders,
		"requestheader-extra-headers-prefix": opts.RequestheaderExtraHeadersPrefix,
		"requestheader-allowed-names":        opts.RequestheaderAllowedNames,
		"requestheader-uid-headers":          opts.RequestheaderUIDHeaders,
	} {
		if key == "requestheader-uid-headers" && len(v) == 0 {
			continue // upstream writes it only when set
		}
		data[key] = jsonList(v)
	}
	return data, nil
}

func jsonList(v []string) string {
	if v == nil {
		v = []string{}
	}
	b, _ := json.Marshal(v)
	return string(b)
}

// mergeAuthenticationInfo merges what is published (old) with what this
// apiserver requires (mine), as upstream's combinedClusterAuthenticationInfo:
// CA bundles are the union of unexpired certificates (old ones first), lists
// the union of values.
func mergeAuthenticationInfo(old, mine map[string]string, now time.Time) (map[string]string, error) {
	out := map[string]string{}
	for _, key := range []string{"client-ca-file", "requestheader-client-ca-file"} {
		var certs []*x509.Certificate
		for _, src := range []string{old[key], mine[key]} {
			if src == "" {
				continue
			}
			cs, err := pki.ParseCertsPEM([]byte(src))
			if err != nil {
				return nil, fmt.Errorf("%s/%s %s: %w", authenticationInfoNamespace, authenticationInfoName, key, err)
			}
			for _, c := range cs {
				if c.NotAfter.After(now.Add(-5*time.Minute)) &&
					!slices.ContainsFunc(certs, func(o *x509.Certificate) bool { return bytes.Equal(o.Raw, c.Raw) }) {
					certs = append(certs, c)
				}
			}
		}
		if len(certs) > 0 {
			var buf bytes.Buffer
			for _, c := range certs {
				buf.Write(pki.EncodeCertPEM(c))
			}
			out[key] = buf.String()
		}
	}
	if out["requestheader-client-ca-file"] == "" {
		return out, nil
	}
	for _, key := range []string{"requestheader-username-headers", "requestheader-group-headers",
		"requestheader-extra-headers-prefix", "requestheader-allowed-names", "requestheader-uid-headers"} {
		var union []string
		for _, src := range []string{old[key], mine[key]} {
			var vs []string
			if src != "" {
				if err := json.Unmarshal([]byte(src), &vs); err != nil {
					return nil, fmt.Errorf("%s/%s %s: %w", authenticationInfoNamespace, authenticationInfoName, key, err)
				}
			}
			for _, v := range vs {
				if !slices.Contains(union, v) {
					union = append(union, v)
				}
			}
		}
		if key == "requestheader-uid-headers" && len(union) == 0 {
			continue
		}
		out[key] = jsonList(union)
	}
	return out, nil
}
