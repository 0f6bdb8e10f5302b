package server

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/utils/clock"

	"github.com/kinc-dev/kinc/pkg/apiserver/authn"
	"github.com/kinc-dev/kinc/pkg/apiserver/registry"
	"github.com/kinc-dev/kinc/pkg/apiserver/serviceaccount"
	"github.com/kinc-dev/kinc/pkg/pki"
)

func TestValidateAuthentication(t *testing.T) {
	for _, tc := range []struct {
		name string
		mod  func(o *Options)
		want string // "" means valid
	}{
		{"nothing", func(*Options) {}, ""},
		{"kubeadm's", func(o *Options) {
			o.ServiceAccountIssuers = []string{"https://kubernetes.default.svc.cluster.local"}
			o.ServiceAccountKeyFiles = []string{"sa.pub"}
			o.ServiceAccountSigningKeyFile = "sa.key"
			o.RequestheaderClientCAFile = "front-proxy-ca.crt"
			o.RequestheaderAllowedNames = []string{"front-proxy-client"}
			o.RequestheaderUsernameHeaders = []string{"X-Remote-User"}
		}, ""},
		{"signing key alone", func(o *Options) { o.ServiceAccountSigningKeyFile = "sa.key" }, "requires --service-account-issuer"},
		{"key file alone", func(o *Options) { o.ServiceAccountKeyFiles = []string{"sa.pub"} }, "requires --service-account-issuer"},
		{"issuer alone", func(o *Options) { o.ServiceAccountIssuers = []string{"api"} }, "requires --service-account-key-file"},
		{"issuer twice", func(o *Options) {
			o.ServiceAccountIssuers, o.ServiceAccountKeyFiles = []string{"a", "a"}, []string{"k"}
		}, "more than once"},
		{"bad issuer URL", func(o *Options) {
			o.ServiceAccountIssuers, o.ServiceAccountKeyFiles = []string{"https://a b:x"}, []string{"k"}
		}, "not a valid URL"},
		{"short max expiration", func(o *Options) { o.ServiceAccountMaxTokenExpiration = time.Minute }, "between 1 hour"},
		{"allowed names without CA", func(o *Options) { o.RequestheaderAllowedNames = []string{"x"} }, "require --requestheader-client-ca-file"},
	} {
		o := NewOptions()
		tc.mod(o)
		err := o.validateAuthentication()
		if tc.want == "" && err != nil || tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)) {
			t.Errorf("%s: err = %v, want %q", tc.name, err, tc.want)
		}
	}
}

func writeFile(t *testing.T, dir, name string, data []byte) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func noStores(schema.GroupVersionResource) registry.Store { return nil }

func TestNewAuthentication(t *testing.T) {
	dir := t.TempDir()
	sa, err := pki.NewServiceAccountKey(pki.ECDSAP256)
	if err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.DiscardHandler)
	o := NewOptions()
	o.ServiceAccountIssuers = []string{"https://issuer.example", "kubernetes"}
	o.ServiceAccountSigningKeyFile = writeFile(t, dir, "sa.key", sa.PrivatePEM)
	o.ServiceAccountMaxTokenExpiration = 2 * time.Hour
	o.EnableBootstrapTokenAuth = true
	a, err := newAuthentication(o, &tls.Config{}, nil, noStores, clock.RealClock{}, log)
	if err != nil {
		t.Fatal(err)
	}
	// No key file: the signing key verifies; audiences are the issuers.
	if a.issuer == nil || a.oidc == nil || !reflect.DeepEqual(a.audiences, o.ServiceAccountIssuers) || len(a.tokens.all) != 2 {
		t.Fatalf("authentication = %+v", a)
	}
	var auth registry.Auth
	a.fill(&auth, o)
	if auth.TokenIssuer == nil || auth.Tokens == nil || auth.MaxTokenExpiration != 2*time.Hour ||
		!reflect.DeepEqual(auth.APIAudiences, o.ServiceAccountIssuers) {
		t.Errorf("registry.Auth = %+v", auth)
	}
	// A token the server signs verifies, up to the lookup of its service
	// account (no stores here): an error, not "not mine".
	tok, err := a.issuer.IssueToken(context.Background(), registry.TokenClaims{Namespace: "ns",
		ServiceAccount: registry.ObjectRef{Name: "sa", UID: "u"}, Audiences: []string{"kubernetes"}, IssuedAt: time.Now(), Expiration: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	if _, ok, err := a.tokens.AuthenticateToken(context.Background(), tok); ok || err == nil || !strings.Contains(err.Error(), "service account") {
		t.Errorf("token: ok=%v err=%v", ok, err)
	}

	// A non-https issuer serves no discovery documents.
	o.ServiceAccountIssuers = []string{"kubernetes/serviceaccount-ish"}
	if a, err := newAuthentication(o, &tls.Config{}, nil, noStores, clock.RealClock{}, log); err != nil || a.oidc != nil {
		t.Errorf("non-URL issuer: %v, oidc %v", err, a.oidc)
	}
	// Key files that do not parse, a missing CA.
	o.ServiceAccountKeyFiles = []string{writeFile(t, dir, "bad.pub", []byte("nope"))}
	if _, err := newAuthentication(o, &tls.Config{}, nil, noStores, clock.RealClock{}, log); err == nil || !strings.Contains(err.Error(), "--service-account-key-file") {
		t.Errorf("bad key file: %v", err)
	}
	o = NewOptions()
	o.RequestheaderClientCAFile = filepath.Join(dir, "missing.crt")
	if _, err := newAuthentication(o, &tls.Config{}, nil, noStores, clock.RealClock{}, log); err == nil {
		t.Error("missing request-header CA accepted")
	}
}

// staticTokens is an audience-agnostic authenticator of one token.
type staticTokens struct{ token, user string }

func (s staticTokens) AuthenticateToken(_ context.Context, token string) (*authn.User, bool, error) {
	if token != s.token {
		return nil, false, nil
	}
	return &authn.User{Name: s.user}, true, nil
}

func TestTokenChainAudiences(t *testing.T) {
	key, _ := pki.GenerateKey(pki.ECDSAP256)
	pub, _ := serviceaccount.NewPublicKey(key.Public())
	iss, _ := serviceaccount.NewIssuer("https://issuer", key)
	legacy, _ := serviceaccount.SignLegacyToken(key, "ns", "sa", "uid", "secret")
	c := &tokenChain{apiAudiences: []string{"api"}}
	c.add(staticTokens{token: "static", user: "static-user"})
	c.add(serviceaccount.NewAuthenticator(serviceaccount.Config{Issuers: []string{"https://issuer"}, Keys: []serviceaccount.PublicKey{pub},
		APIAudiences: []string{"api"}}))
	vault, _ := iss.IssueToken(context.Background(), registry.TokenClaims{Namespace: "ns", ServiceAccount: registry.ObjectRef{Name: "sa"},
		Audiences: []string{"vault"}, IssuedAt: time.Now(), Expiration: time.Hour})
	for _, tc := range []struct {
		token string
		auds  []string
		want  []string // nil: not authenticated
	}{
		{"static", []string{"api", "vault"}, []string{"api"}},
		{"static", []string{"vault"}, nil},
		{"static", nil, []string{"api"}},
		{legacy, []string{"vault"}, nil},
		// A service-account token for vault: its service account cannot be
		// looked up here, so it is an error either way; the audience check
		// comes first.
		{vault, []string{"api"}, nil},
	} {
		u, auds, ok, _ := c.AuthenticateTokenForAudiences(context.Background(), tc.token, tc.auds)
		if ok != (tc.want != nil) || ok && (!reflect.DeepEqual(auds, tc.want) || u == nil) {
			t.Errorf("%.10s for %v: %v %v %v", tc.token, tc.auds, u, auds, ok)
		}
	}
}

func TestClientCertAuthTrustsOnlyTheClientCA(t *testing.T) {
	clientCA, _ := pki.NewCA("kubernetes", pki.Options{})
	proxyCA, _ := pki.NewCA("front-proxy-ca", pki.Options{})
	admin, _ := clientCA.Issue(pki.ClientSpec("admin", "system:masters"))
	proxy, _ := proxyCA.Issue(pki.ClientSpec("front-proxy-client"))
	caCert, _ := pki.ParseCertPEM(clientCA.CertPEM)
	proxyCACert, _ := pki.ParseCertPEM(proxyCA.CertPEM)
	a := clientCertAuth{x509: authn.X509{Roots: clientCA.Pool()}, cas: []*x509.Certificate{caCert}}
	req := func(certPEM []byte, root *x509.Certificate) *http.Request {
		leaf, _ := pki.ParseCertPEM(certPEM)
		r := httptest.NewRequest("GET", "/", nil)
		// As a handshake against client CA + front-proxy CA leaves it.
		r.TLS = &tls.ConnectionState{PeerCertificates: []*x509.Certificate{leaf}, VerifiedChains: [][]*x509.Certificate{{leaf, root}}}
		return r
	}
	if u, ok, err := a.AuthenticateRequest(req(admin.CertPEM, caCert)); !ok || err != nil || u.Name != "admin" {
		t.Errorf("admin: %v %v %v", u, ok, err)
	}
	if u, ok, err := a.AuthenticateRequest(req(proxy.CertPEM, proxyCACert)); ok || err == nil {
		t.Errorf("front-proxy certificate as a user: %v %v %v", u, ok, err)
	}
}

func TestAuthenticationInfo(t *testing.T) {
	dir := t.TempDir()
	clientCA, _ := pki.NewCA("kubernetes", pki.Options{})
	proxyCA, _ := pki.NewCA("front-proxy-ca", pki.Options{})
	otherCA, _ := pki.NewCA("other", pki.Options{})
	o := NewOptions()
	o.ClientCAFile = writeFile(t, dir, "ca.crt", clientCA.CertPEM)
	o.RequestheaderClientCAFile = writeFile(t, dir, "front-proxy-ca.crt", proxyCA.CertPEM)
	o.RequestheaderAllowedNames = []string{"front-proxy-client"}
	o.RequestheaderUsernameHeaders = []string{"X-Remote-User"}
	o.RequestheaderGroupHeaders = []string{"X-Remote-Group"}
	o.RequestheaderExtraHeadersPrefix = []string{"X-Remote-Extra-"}
	mine, err := authenticationInfoOf(o)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"client-ca-file": string(clientCA.CertPEM), "requestheader-client-ca-file": string(proxyCA.CertPEM),
		"requestheader-allowed-names": `["front-proxy-client"]`, "requestheader-username-headers": `["X-Remote-User"]`,
		"requestheader-group-headers": `["X-Remote-Group"]`, "requestheader-extra-headers-prefix": `["X-Remote-Extra-"]`}
	got, err := mergeAuthenticationInfo(nil, mine, time.Now())
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Fatalf("published = %v, %v\nwant %v", got, err, want)
	}
	// Another apiserver's values are kept, without duplicates.
	old := map[string]string{"client-ca-file": string(otherCA.CertPEM) + string(clientCA.CertPEM),
		"requestheader-client-ca-file": string(proxyCA.CertPEM), "requestheader-allowed-names": `["aggregator"]`,
		"requestheader-username-headers": `["X-Remote-User"]`}
	got, err = mergeAuthenticationInfo(old, mine, time.Now())
	if err != nil || got["client-ca-file"] != string(otherCA.CertPEM)+string(clientCA.CertPEM) ||
		got["requestheader-client-ca-file"] != string(proxyCA.CertPEM) ||
		got["requestheader-allowed-names"] != `["aggregator","front-proxy-client"]` ||
		got["requestheader-username-headers"] != `["X-Remote-User"]` {
		t.Errorf("merged = %v, %v", got, err)
	}
	// Expired certificates go.
	if got, _ := mergeAuthenticationInfo(nil, mine, time.Now().Add(20*365*24*time.Hour)); got["client-ca-file"] != "" {
		t.Errorf("expired CA still published: %v", got)
	}
	// Without the request-header flags, only the client CA.
	o.RequestheaderClientCAFile = ""
	mine, _ = authenticationInfoOf(o)
	if got, _ := mergeAuthenticationInfo(nil, mine, time.Now()); len(got) != 1 || got["client-ca-file"] == "" {
		t.Errorf("client CA only: %v", got)
	}
}
