package serviceaccount

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"math/big"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"
	"time"

	jwtv5 "github.com/golang-jwt/jwt/v5"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	clocktesting "k8s.io/utils/clock/testing"

	"github.com/kinc-dev/kinc/pkg/apiserver/authn"
	"github.com/kinc-dev/kinc/pkg/apiserver/registry"
	"github.com/kinc-dev/kinc/pkg/pki"
)

const testIssuer = "https://kubernetes.default.svc.cluster.local"

var testNow = time.Date(2026, 12, 7, 3, 0, 0, 0, time.UTC)

// fakeGetter serves objects from maps keyed "ns/name" (nodes by name).
type fakeGetter struct {
	sas     map[string]*corev1.ServiceAccount
	pods    map[string]*corev1.Pod
	secrets map[string]*corev1.Secret
	nodes   map[string]*corev1.Node
}

func notFound(res, name string) error {
	return apierrors.NewNotFound(schema.GroupResource{Resource: res}, name)
}

func (f *fakeGetter) GetServiceAccount(_ context.Context, ns, name string) (*corev1.ServiceAccount, error) {
	if o, ok := f.sas[ns+"/"+name]; ok {
		return o, nil
	}
	return nil, notFound("serviceaccounts", name)
}

func (f *fakeGetter) GetPod(_ context.Context, ns, name string) (*corev1.Pod, error) {
	if o, ok := f.pods[ns+"/"+name]; ok {
		return o, nil
	}
	return nil, notFound("pods", name)
}

func (f *fakeGetter) GetSecret(_ context.Context, ns, name string) (*corev1.Secret, error) {
	if o, ok := f.secrets[ns+"/"+name]; ok {
		return o, nil
	}
	return nil, notFound("secrets", name)
}

func (f *fakeGetter) GetNode(_ context.Context, name string) (*corev1.Node, error) {
	if o, ok := f.nodes[name]; ok {
		return o, nil
	}
	return nil, notFound("nodes", name)
}

func newWorld() *fakeGetter {
	meta := func(ns, name, uid string) metav1.ObjectMeta {
		return metav1.ObjectMeta{Namespace: ns, Name: name, UID: types.UID(uid)}
	}
	return &fakeGetter{
		sas:     map[string]*corev1.ServiceAccount{"ns1/sa1": {ObjectMeta: meta("ns1", "sa1", "sa-uid")}},
		pods:    map[string]*corev1.Pod{"ns1/pod1": {ObjectMeta: meta("ns1", "pod1", "pod-uid")}},
		secrets: map[string]*corev1.Secret{"ns1/sec1": {ObjectMeta: meta("ns1", "sec1", "sec-uid")}},
		nodes:   map[string]*corev1.Node{"node1": {ObjectMeta: meta("", "node1", "node-uid")}},
	}
}

func mustKey(t testing.TB, alg pki.KeyAlgorithm) crypto.Signer {
	t.Helper()
	k, err := pki.GenerateKey(alg)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func mustPub(t testing.TB, key crypto.Signer) PublicKey {
	t.Helper()
	p, err := NewPublicKey(key.Public())
	if err != nil {
		t.Fatal(err)
	}
	return p
}

type fixture struct {
	key    crypto.Signer
	issuer *Issuer
	auth   *Authenticator
	world  *fakeGetter
	clock  *clocktesting.FakePassiveClock
}

func newFixture(t testing.TB, alg pki.KeyAlgorithm) *fixture {
	t.Helper()
	f := &fixture{key: mustKey(t, alg), world: newWorld(), clock: clocktesting.NewFakePassiveClock(testNow)}
	var err error
	if f.issuer, err = NewIssuer(testIssuer, f.key); err != nil {
		t.Fatal(err)
	}
	f.auth = NewAuthenticator(Config{Issuers: []string{testIssuer}, Keys: []PublicKey{mustPub(t, f.key)},
		APIAudiences: []string{testIssuer, "api"}, Getter: f.world, Lookup: true, Clock: f.clock})
	return f
}

func podClaims() registry.TokenClaims {
	return registry.TokenClaims{Namespace: "ns1", ServiceAccount: registry.ObjectRef{Name: "sa1", UID: "sa-uid"},
		Pod:       registry.ObjectRef{Name: "pod1", UID: "pod-uid"},
		Node:      registry.ObjectRef{Name: "node1", UID: "node-uid"},
		Audiences: []string{testIssuer}, IssuedAt: testNow, Expiration: time.Hour}
}

func (f *fixture) issue(t *testing.T, c registry.TokenClaims) string {
	t.Helper()
	tok, err := f.issuer.IssueToken(context.Background(), c)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func TestIssueAndAuthenticate(t *testing.T) {
	for _, alg := range []pki.KeyAlgorithm{pki.ECDSAP256, pki.RSA2048} {
		t.Run(string(alg), func(t *testing.T) {
			f := newFixture(t, alg)
			tok := f.issue(t, podClaims())
			u, ok, err := f.auth.AuthenticateToken(context.Background(), tok)
			if !ok || err != nil {
				t.Fatalf("AuthenticateToken: ok=%v err=%v", ok, err)
			}
			p, _ := parse(tok)
			var c claims
			if err := json.Unmarshal(p.payload, &c); err != nil {
				t.Fatal(err)
			}
			want := &authn.User{Name: "system:serviceaccount:ns1:sa1", UID: "sa-uid",
				Groups: []string{"system:serviceaccounts", "system:serviceaccounts:ns1", "system:authenticated"},
				Extra: map[string][]string{ExtraPodName: {"pod1"}, ExtraPodUID: {"pod-uid"}, ExtraNodeName: {"node1"},
					ExtraNodeUID: {"node-uid"}, ExtraCredentialID: {"JTI=" + c.ID}}}
			if !reflect.DeepEqual(u, want) {
				t.Errorf("user = %+v, want %+v", u, want)
			}
			if c.ID == "" || c.Subject != "system:serviceaccount:ns1:sa1" || c.Issuer != testIssuer ||
				int64(c.IssuedAt) != testNow.Unix() || int64(c.NotBefore) != testNow.Unix() ||
				int64(c.Expiry) != testNow.Add(time.Hour).Unix() {
				t.Errorf("claims = %+v", c)
			}
			if p.header.Kid != f.issuer.KeyID() || p.header.Alg != map[pki.KeyAlgorithm]string{pki.ECDSAP256: "ES256", pki.RSA2048: "RS256"}[alg] {
				t.Errorf("header = %+v", p.header)
			}
		})
	}
}

// TestIndependentVerifier checks the tokens with another JWT implementation
// (golang-jwt), so that ours are standard JWS, not just self-consistent.
func TestIndependentVerifier(t *testing.T) {
	for _, alg := range []pki.KeyAlgorithm{pki.ECDSAP256, pki.RSA2048} {
		f := newFixture(t, alg)
		tok := f.issue(t, podClaims())
		parsed, err := jwtv5.Parse(tok, func(*jwtv5.Token) (any, error) { return f.key.Public(), nil },
			jwtv5.WithTimeFunc(func() time.Time { return testNow }), jwtv5.WithAudience(testIssuer), jwtv5.WithIssuer(testIssuer))
		if err != nil || !parsed.Valid {
			t.Fatalf("%s: golang-jwt refuses our token: %v", alg, err)
		}
		k8s := parsed.Claims.(jwtv5.MapClaims)["kubernetes.io"].(map[string]any)
		if k8s["namespace"] != "ns1" || k8s["pod"].(map[string]any)["uid"] != "pod-uid" ||
			k8s["serviceaccount"].(map[string]any)["name"] != "sa1" {
			t.Errorf("kubernetes.io claims = %v", k8s)
		}
		// And a token golang-jwt signed verifies with ours.
		method := map[pki.KeyAlgorithm]jwtv5.SigningMethod{pki.ECDSAP256: jwtv5.SigningMethodES256, pki.RSA2048: jwtv5.SigningMethodRS256}[alg]
		other := jwtv5.NewWithClaims(method, jwtv5.MapClaims{"iss": testIssuer, "sub": "system:serviceaccount:ns1:sa1",
			"aud": "api", "exp": testNow.Add(time.Minute).Unix(),
			"kubernetes.io": map[string]any{"namespace": "ns1", "serviceaccount": map[string]any{"name": "sa1", "uid": "sa-uid"}}})
		other.Header["kid"] = f.issuer.KeyID()
		s, err := other.SignedString(f.key)
		if err != nil {
			t.Fatal(err)
		}
		if u, ok, err := f.auth.AuthenticateToken(context.Background(), s); !ok || err != nil || u.Name != "system:serviceaccount:ns1:sa1" {
			t.Errorf("%s: golang-jwt's token: %v %v %v", alg, u, ok, err)
		}
	}
}

func TestKeyID(t *testing.T) {
	// Upstream's recipe: unpadded base64url of the SHA-256 of the PKIX DER.
	key := mustKey(t, pki.ECDSAP256)
	der, _ := x509.MarshalPKIXPublicKey(key.Public())
	sum := sha256.Sum256(der)
	kid, err := KeyID(key.Public())
	if err != nil || kid != base64.RawURLEncoding.EncodeToString(sum[:]) || len(kid) != 43 {
		t.Fatalf("KeyID = %q, %v", kid, err)
	}
}

func TestRejections(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, pki.ECDSAP256)
	good := f.issue(t, podClaims())
	forger := newFixture(t, pki.ECDSAP256)
	rsaForger := newFixture(t, pki.RSA2048)
	with := func(mod func(c *registry.TokenClaims)) string {
		c := podClaims()
		mod(&c)
		return f.issue(t, c)
	}
	parts := strings.Split(good, ".")
	swapPayload := func(mod func(c *claims)) string {
		p, _ := parse(good)
		var c claims
		_ = json.Unmarshal(p.payload, &c)
		mod(&c)
		b, _ := json.Marshal(c)
		return parts[0] + "." + b64.EncodeToString(b) + "." + parts[2]
	}
	header := func(h string) string {
		return b64.EncodeToString([]byte(h)) + "." + parts[1] + "." + parts[2]
	}
	cases := []struct {
		name  string
		token string
		setup func()
		// notMine: ok=false without error (not a service-account token).
		notMine bool
	}{
		{name: "forged: another key, same kid", token: func() string {
			s, _ := newSigner(forger.key)
			s.pub.KeyID = f.issuer.KeyID()
			p, _ := parse(good)
			var c claims
			_ = json.Unmarshal(p.payload, &c)
			tok, _ := s.sign(&c)
			return tok
		}()},
		{name: "forged: another key's kid", token: forger.issue(t, podClaims())},
		{name: "forged: RSA key", token: rsaForger.issue(t, podClaims())},
		{name: "tampered payload", token: swapPayload(func(c *claims) { c.Kubernetes.ServiceAccount.Name = "admin" })},
		{name: "alg none", token: header(`{"alg":"none","kid":"` + f.issuer.KeyID() + `"}`)},
		{name: "alg HS256", token: header(`{"alg":"HS256"}`)},
		{name: "alg RS256 with an EC key", token: header(`{"alg":"RS256","kid":"` + f.issuer.KeyID() + `"}`)},
		{name: "truncated signature", token: good[:len(good)-4]},
		{name: "expired", token: with(func(c *registry.TokenClaims) { c.IssuedAt = testNow.Add(-2 * time.Hour) })},
		{name: "not yet valid", token: with(func(c *registry.TokenClaims) { c.IssuedAt = testNow.Add(5 * time.Minute) })},
		{name: "other audience", token: with(func(c *registry.TokenClaims) { c.Audiences = []string{"vault"} })},
		{name: "unknown issuer", token: func() string {
			i, _ := NewIssuer("https://other", f.key)
			tok, _ := i.IssueToken(ctx, podClaims())
			return tok
		}(), notMine: true},
		{name: "not a JWT", token: "abcdef.0123456789abcdef", notMine: true},
		{name: "service account deleted", token: good, setup: func() { delete(f.world.sas, "ns1/sa1") }},
		{name: "service account recreated", token: good, setup: func() { f.world.sas["ns1/sa1"].UID = "other" }},
		{name: "service account deleted long ago", token: good, setup: func() {
			f.world.sas["ns1/sa1"].DeletionTimestamp = &metav1.Time{Time: testNow.Add(-2 * time.Minute)}
		}},
		{name: "pod deleted", token: good, setup: func() { delete(f.world.pods, "ns1/pod1") }},
		{name: "pod recreated", token: good, setup: func() { f.world.pods["ns1/pod1"].UID = "other" }},
		{name: "pod past its grace period", token: good, setup: func() {
			f.world.pods["ns1/pod1"].DeletionTimestamp = &metav1.Time{Time: testNow.Add(-2 * time.Minute)}
		}},
		{name: "secret-bound, secret deleted", token: with(func(c *registry.TokenClaims) {
			c.Pod, c.Node, c.Secret = registry.ObjectRef{}, registry.ObjectRef{}, registry.ObjectRef{Name: "sec1", UID: "sec-uid"}
		}), setup: func() { delete(f.world.secrets, "ns1/sec1") }},
		{name: "node-bound, node recreated", token: with(func(c *registry.TokenClaims) { c.Pod = registry.ObjectRef{} }),
			setup: func() { f.world.nodes["node1"].UID = "other" }},
		{name: "no kubernetes.io claims", token: func() string {
			s, _ := newSigner(f.key)
			tok, _ := s.sign(&claims{Issuer: testIssuer, Audience: audience{testIssuer}, Expiry: dateOf(testNow.Add(time.Hour))})
			return tok
		}()},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f.world = newWorld()
			f.auth.getter = f.world
			if tc.setup != nil {
				tc.setup()
			}
			u, ok, err := f.auth.AuthenticateToken(ctx, tc.token)
			if ok || u != nil {
				t.Fatalf("authenticated as %+v", u)
			}
			if tc.notMine {
				if err != nil {
					t.Fatalf("err = %v, want none (not a service-account token)", err)
				}
				return
			}
			if err == nil {
				t.Fatal("no error")
			}
			for _, secret := range []string{tc.token, parts[2], "sa-uid", "pod-uid", "other"} {
				if strings.Contains(err.Error(), secret) {
					t.Errorf("error %q leaks %q", err, secret)
				}
			}
		})
	}
	// Within the leeway and during a graceful delete the token still works.
	f.world = newWorld()
	f.auth.getter = f.world
	f.world.pods["ns1/pod1"].DeletionTimestamp = &metav1.Time{Time: testNow.Add(time.Hour + time.Minute)}
	f.clock.SetTime(testNow.Add(time.Hour + 30*time.Second))
	if _, ok, err := f.auth.AuthenticateToken(ctx, good); !ok || err != nil {
		t.Errorf("token within leeway, pod terminating: ok=%v err=%v", ok, err)
	}
	f.clock.SetTime(testNow.Add(time.Hour + 2*time.Minute))
	if _, ok, _ := f.auth.AuthenticateToken(ctx, good); ok {
		t.Errorf("token 2m past exp accepted")
	}
}

func TestLegacyTokens(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, pki.RSA2048)
	tok, err := SignLegacyToken(f.key, "ns1", "sa1", "sa-uid", "sec1")
	if err != nil {
		t.Fatal(err)
	}
	reset := func() {
		f.world = newWorld()
		f.world.secrets["ns1/sec1"].Type = corev1.SecretTypeServiceAccountToken
		f.world.secrets["ns1/sec1"].Data = map[string][]byte{corev1.ServiceAccountTokenKey: []byte(tok)}
		f.auth.getter = f.world
		f.auth.lookup = true
	}
	reset()
	u, ok, err := f.auth.AuthenticateToken(ctx, tok)
	want := &authn.User{Name: "system:serviceaccount:ns1:sa1", UID: "sa-uid",
		Groups: []string{"system:serviceaccounts", "system:serviceaccounts:ns1", "system:authenticated"}}
	if !ok || err != nil || !reflect.DeepEqual(u, want) {
		t.Fatalf("legacy token: %+v %v %v", u, ok, err)
	}
	for name, setup := range map[string]func(){
		"secret deleted":     func() { delete(f.world.secrets, "ns1/sec1") },
		"secret terminating": func() { f.world.secrets["ns1/sec1"].DeletionTimestamp = &metav1.Time{Time: testNow} },
		"secret holds other": func() { f.world.secrets["ns1/sec1"].Data[corev1.ServiceAccountTokenKey] = []byte("x") },
		"marked invalid": func() {
			f.world.secrets["ns1/sec1"].Labels = map[string]string{InvalidSinceLabel: "2026-01-01"}
		},
		"sa deleted":          func() { delete(f.world.sas, "ns1/sa1") },
		"sa recreated":        func() { f.world.sas["ns1/sa1"].UID = "other" },
		"not the API's token": func() { f.auth.auds = []string{"x"}; t.Cleanup(func() { f.auth.auds = []string{testIssuer, "api"} }) },
	} {
		reset()
		setup()
		if name == "not the API's token" {
			// Legacy tokens have no audience: they are the API's whatever
			// --api-audiences says.
			if _, ok, err := f.auth.AuthenticateToken(ctx, tok); !ok || err != nil {
				t.Errorf("%s: ok=%v err=%v", name, ok, err)
			}
			continue
		}
		if _, ok, err := f.auth.AuthenticateToken(ctx, tok); ok || err == nil {
			t.Errorf("%s: ok=%v err=%v", name, ok, err)
		}
	}
	// Without --service-account-lookup the signature suffices.
	reset()
	delete(f.world.secrets, "ns1/sec1")
	f.auth.lookup = false
	if _, ok, err := f.auth.AuthenticateToken(ctx, tok); !ok || err != nil {
		t.Errorf("no lookup: ok=%v err=%v", ok, err)
	}
	// A legacy token whose subject disagrees with its claims.
	s, _ := newSigner(f.key)
	bad, _ := s.sign(&claims{Issuer: LegacyIssuer, Subject: Username("ns1", "admin"), LegacyNamespace: "ns1",
		LegacyServiceAccountName: "sa1", LegacyServiceAccountUID: "sa-uid", LegacySecretName: "sec1"})
	if _, ok, err := f.auth.AuthenticateToken(ctx, bad); ok || err == nil {
		t.Errorf("mismatched sub: ok=%v err=%v", ok, err)
	}
}

func TestIssueTokenRefusesBadClaims(t *testing.T) {
	f := newFixture(t, pki.ECDSAP256)
	for name, mod := range map[string]func(c *registry.TokenClaims){
		"no service account": func(c *registry.TokenClaims) { c.ServiceAccount = registry.ObjectRef{} },
		"pod and secret":     func(c *registry.TokenClaims) { c.Secret = registry.ObjectRef{Name: "s"} },
		"no audience":        func(c *registry.TokenClaims) { c.Audiences = nil },
		"no lifetime":        func(c *registry.TokenClaims) { c.Expiration = 0 },
	} {
		c := podClaims()
		mod(&c)
		if _, err := f.issuer.IssueToken(context.Background(), c); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

func TestParsePublicKeys(t *testing.T) {
	sa, err := pki.NewServiceAccountKey(pki.RSA2048)
	if err != nil {
		t.Fatal(err)
	}
	ec := mustKey(t, pki.ECDSAP256)
	ecPub, _ := pki.EncodePublicKeyPEM(ec.Public())
	keys, err := ParsePublicKeys(append(append([]byte{}, sa.PublicPEM...), ecPub...))
	if err != nil || len(keys) != 2 || keys[0].Algorithm() != "RS256" || keys[1].Algorithm() != "ES256" {
		t.Fatalf("ParsePublicKeys = %+v, %v", keys, err)
	}
	// A private key file gives its public key, as upstream.
	keys, err = ParsePublicKeys(sa.PrivatePEM)
	if err != nil || len(keys) != 1 || !keys[0].Key.(*rsa.PublicKey).Equal(sa.Key.Public()) {
		t.Fatalf("ParsePublicKeys(private) = %+v, %v", keys, err)
	}
	if _, err := ParsePublicKeys([]byte("garbage")); err == nil {
		t.Error("garbage parsed")
	}
	p224, _ := ecdsa.GenerateKey(elliptic.P224(), rand.Reader)
	p224PEM, _ := pki.EncodePublicKeyPEM(p224.Public())
	if _, err := ParsePublicKeys(p224PEM); err == nil {
		t.Error("P-224 key accepted")
	}
}

func TestOIDC(t *testing.T) {
	rsaKey, ecKey := mustKey(t, pki.RSA2048), mustKey(t, pki.ECDSAP256)
	keys := []PublicKey{mustPub(t, rsaKey), mustPub(t, ecKey)}
	jwksURI := DefaultJWKSURI("10.0.0.1:6443")
	o, err := NewOIDC(testIssuer, jwksURI, keys)
	if err != nil {
		t.Fatal(err)
	}
	get := func(path string) *httptest.ResponseRecorder {
		rec := httptest.NewRecorder()
		o.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
		return rec
	}
	rec := get(OpenIDConfigPath)
	var md map[string]any
	if err := json.Unmarshal(rec.Body.Bytes(), &md); err != nil || rec.Header().Get("Content-Type") != "application/json" ||
		rec.Header().Get("Cache-Control") != "public, max-age=3600" {
		t.Fatalf("config: %v %v %s", err, rec.Header(), rec.Body)
	}
	wantMD := map[string]any{"issuer": testIssuer, "jwks_uri": "https://10.0.0.1:6443/openid/v1/jwks",
		"response_types_supported": []any{"id_token"}, "subject_types_supported": []any{"public"},
		"id_token_signing_alg_values_supported": []any{"ES256", "RS256"}}
	if !reflect.DeepEqual(md, wantMD) {
		t.Errorf("config = %v, want %v", md, wantMD)
	}
	rec = get(JWKSPath)
	if rec.Header().Get("Content-Type") != "application/jwk-set+json" {
		t.Errorf("jwks content type %q", rec.Header().Get("Content-Type"))
	}
	var set struct{ Keys []jwk }
	if err := json.Unmarshal(rec.Body.Bytes(), &set); err != nil || len(set.Keys) != 2 {
		t.Fatalf("jwks: %v %s", err, rec.Body)
	}
	dec := func(s string) *big.Int { b, _ := b64.DecodeString(s); return new(big.Int).SetBytes(b) }
	r := set.Keys[0]
	if r.Kty != "RSA" || r.Alg != "RS256" || r.Use != "sig" || r.Kid != keys[0].KeyID ||
		!(&rsa.PublicKey{N: dec(r.N), E: int(dec(r.E).Int64())}).Equal(rsaKey.Public()) {
		t.Errorf("RSA JWK = %+v", r)
	}
	e := set.Keys[1]
	if e.Kty != "EC" || e.Crv != "P-256" || e.Alg != "ES256" || e.Kid != keys[1].KeyID ||
		!(&ecdsa.PublicKey{Curve: elliptic.P256(), X: dec(e.X), Y: dec(e.Y)}).Equal(ecKey.Public()) {
		t.Errorf("EC JWK = %+v", e)
	}
	if rec := get("/openid/v1/other"); rec.Code != http.StatusNotFound {
		t.Errorf("other path: %d", rec.Code)
	}
	for _, iss := range []string{"kubernetes/serviceaccount", "http://x", "https://x?q=1", "https://x#f"} {
		if _, err := NewOIDC(iss, jwksURI, keys); err == nil {
			t.Errorf("issuer %q accepted", iss)
		}
	}
}

func TestSplitUsername(t *testing.T) {
	for in, want := range map[string][2]string{
		"system:serviceaccount:ns:name": {"ns", "name"}, "system:serviceaccount:ns": {}, "system:serviceaccount::n": {},
		"system:serviceaccount:ns:a:b": {}, "alice": {},
	} {
		ns, name, ok := SplitUsername(in)
		if got := [2]string{ns, name}; got != want || ok != (want[0] != "") {
			t.Errorf("SplitUsername(%q) = %v %v", in, got, ok)
		}
	}
}

func TestAuthenticateTokenForAudiences(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, pki.ECDSAP256)
	c := podClaims()
	c.Audiences = []string{"vault", "api"}
	tok := f.issue(t, c)
	for _, tc := range []struct {
		requested, want []string
		ok              bool
	}{
		{[]string{"vault"}, []string{"vault"}, true},
		{[]string{"api", "vault", "x"}, []string{"vault", "api"}, true},
		{nil, []string{"api"}, true}, // the API audiences
		{[]string{"x"}, nil, false},
	} {
		u, auds, ok, err := f.auth.AuthenticateTokenForAudiences(ctx, tok, tc.requested)
		if ok != tc.ok || !reflect.DeepEqual(auds, tc.want) || (ok && (err != nil || u == nil)) || (!ok && err == nil) {
			t.Errorf("for %v: %v %v %v %v", tc.requested, u, auds, ok, err)
		}
	}
	legacy, _ := SignLegacyToken(f.key, "ns1", "sa1", "sa-uid", "sec1")
	f.auth.lookup = false
	if _, auds, ok, err := f.auth.AuthenticateTokenForAudiences(ctx, legacy, []string{"vault"}); ok || err == nil {
		t.Errorf("legacy token for vault: %v %v %v", auds, ok, err)
	}
	if _, auds, ok, err := f.auth.AuthenticateTokenForAudiences(ctx, legacy, []string{"api"}); !ok || err != nil || !reflect.DeepEqual(auds, []string{"api"}) {
		t.Errorf("legacy token for the API: %v %v %v", auds, ok, err)
	}
}

func TestVerifiedTokensAreCheckedAgain(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, pki.ECDSAP256)
	tok := f.issue(t, podClaims())
	if _, ok, err := f.auth.AuthenticateToken(ctx, tok); !ok || err != nil {
		t.Fatalf("first use: %v %v", ok, err)
	}
	if len(f.auth.verified.m) != 1 {
		t.Fatalf("%d verified tokens remembered", len(f.auth.verified.m))
	}
	delete(f.world.pods, "ns1/pod1")
	if _, ok, err := f.auth.AuthenticateToken(ctx, tok); ok || err == nil {
		t.Errorf("remembered token of a deleted pod: %v %v", ok, err)
	}
	f.world = newWorld()
	f.auth.getter = f.world
	f.clock.SetTime(testNow.Add(3 * time.Hour))
	if _, ok, err := f.auth.AuthenticateToken(ctx, tok); ok || err == nil {
		t.Errorf("remembered expired token: %v %v", ok, err)
	}
	// The cache stays bounded.
	c := &verifiedCache{m: map[[32]byte]*verifiedToken{}}
	for i := 0; i < 2*verifiedCacheSize; i++ {
		c.put([32]byte{byte(i), byte(i >> 8)}, &verifiedToken{})
	}
	if n := len(c.m); n > verifiedCacheSize {
		t.Errorf("cache holds %d tokens", n)
	}
}
