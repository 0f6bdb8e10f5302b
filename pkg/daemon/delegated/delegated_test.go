package delegated

import (
	"context"
	"crypto/tls"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	authenticationv1 "k8s.io/api/authentication/v1"
	authorizationv1 "k8s.io/api/authorization/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"
	"k8s.io/utils/clock"
	clocktesting "k8s.io/utils/clock/testing"

	"github.com/kinc-dev/kinc/pkg/pki"
)

var noRetry = Retry{Steps: 1}

// reviewer is a fake apiserver answering TokenReviews from tokens and
// SubjectAccessReviews with allow; it counts the reviews.
type reviewer struct {
	client               *fake.Clientset
	tokens               map[string]authenticationv1.TokenReviewStatus
	allow                func(authorizationv1.SubjectAccessReviewSpec) (bool, error)
	tokenCalls, sarCalls atomic.Int32
	specs                []authorizationv1.SubjectAccessReviewSpec
}

func newReviewer() *reviewer {
	r := &reviewer{client: fake.NewClientset(), tokens: map[string]authenticationv1.TokenReviewStatus{}}
	r.client.PrependReactor("create", "tokenreviews", func(a k8stesting.Action) (bool, runtime.Object, error) {
		r.tokenCalls.Add(1)
		tr := a.(k8stesting.CreateAction).GetObject().(*authenticationv1.TokenReview).DeepCopy()
		if tr.Spec.Token == "boom" {
			return true, nil, apierrors.NewInternalError(errors.New("etcd is down"))
		}
		tr.Status = r.tokens[tr.Spec.Token]
		return true, tr, nil
	})
	r.client.PrependReactor("create", "subjectaccessreviews", func(a k8stesting.Action) (bool, runtime.Object, error) {
		r.sarCalls.Add(1)
		sar := a.(k8stesting.CreateAction).GetObject().(*authorizationv1.SubjectAccessReview).DeepCopy()
		r.specs = append(r.specs, sar.Spec)
		ok, err := r.allow(sar.Spec)
		if err != nil {
			return true, nil, err
		}
		sar.Status.Allowed = ok
		if !ok {
			sar.Status.Reason = "no RBAC policy matched"
		}
		return true, sar, nil
	})
	return r
}

func TestTokenReviewCache(t *testing.T) {
	t.Parallel()
	r := newReviewer()
	r.tokens["good"] = authenticationv1.TokenReviewStatus{Authenticated: true, Audiences: []string{"api"},
		User: authenticationv1.UserInfo{Username: "system:serviceaccount:ns:sa", UID: "u1", Groups: []string{"system:serviceaccounts"},
			Extra: map[string]authenticationv1.ExtraValue{"authentication.kubernetes.io/pod-name": {"p"}}}}
	clk := clocktesting.NewFakeClock(time.Now())
	tr := NewTokenReview(r.client.AuthenticationV1().TokenReviews(), TokenReviewOptions{SuccessTTL: 2 * time.Minute, FailureTTL: 10 * time.Second, Clock: clk, Retry: noRetry})
	ctx := context.Background()

	u, ok, err := tr.Authenticate(ctx, "good")
	if err != nil || !ok || u.Name != "system:serviceaccount:ns:sa" || u.UID != "u1" || u.Extra["authentication.kubernetes.io/pod-name"][0] != "p" {
		t.Fatalf("good token: %+v %v %v", u, ok, err)
	}
	_, _, _ = tr.Authenticate(ctx, "good")
	if n := r.tokenCalls.Load(); n != 1 {
		t.Errorf("reviews after a cached success = %d, want 1", n)
	}
	clk.Step(2 * time.Minute)
	_, _, _ = tr.Authenticate(ctx, "good")
	if n := r.tokenCalls.Load(); n != 2 {
		t.Errorf("reviews after the success TTL = %d, want 2", n)
	}

	if _, ok, err := tr.Authenticate(ctx, "forged"); ok || err != nil {
		t.Fatalf("forged token: ok=%v err=%v", ok, err)
	}
	_, _, _ = tr.Authenticate(ctx, "forged")
	if n := r.tokenCalls.Load(); n != 3 {
		t.Errorf("reviews after a cached failure = %d, want 3", n)
	}
	clk.Step(10 * time.Second)
	_, _, _ = tr.Authenticate(ctx, "forged")
	if n := r.tokenCalls.Load(); n != 4 {
		t.Errorf("reviews after the failure TTL = %d, want 4", n)
	}

	if _, _, err := tr.Authenticate(ctx, "boom"); err == nil || !strings.Contains(err.Error(), "etcd is down") {
		t.Errorf("apiserver error = %v", err)
	}
	_, _, _ = tr.Authenticate(ctx, "boom")
	if n := r.tokenCalls.Load(); n != 6 {
		t.Errorf("errors must not be cached: reviews = %d, want 6", n)
	}

	other := NewTokenReview(r.client.AuthenticationV1().TokenReviews(), TokenReviewOptions{Audiences: []string{"kubelet"}, Retry: noRetry})
	if _, ok, err := other.Authenticate(ctx, "good"); ok || err != nil {
		t.Errorf("token for another audience: ok=%v err=%v", ok, err)
	}
}

func TestRetry(t *testing.T) {
	t.Parallel()
	calls := 0
	err := Retry{Duration: time.Millisecond, Factor: 2, Steps: 3}.do(context.Background(), clocktesting.NewFakeClock(time.Now()), func() error {
		calls++
		return apierrors.NewNotFound(schema.GroupResource{Resource: "tokenreviews"}, "")
	})
	if calls != 1 || !apierrors.IsNotFound(err) {
		t.Errorf("404: %d calls, %v; want 1 call", calls, err)
	}
	calls = 0
	err = Retry{Duration: time.Millisecond, Factor: 2, Steps: 3}.do(context.Background(), clock.RealClock{}, func() error {
		calls++
		if calls < 3 {
			return apierrors.NewServiceUnavailable("starting")
		}
		return nil
	})
	if calls != 3 || err != nil {
		t.Errorf("503 twice: %d calls, %v; want 3 calls and success", calls, err)
	}
}

func TestSubjectAccessReviewCache(t *testing.T) {
	t.Parallel()
	r := newReviewer()
	r.allow = func(s authorizationv1.SubjectAccessReviewSpec) (bool, error) {
		return s.User == "alice", nil
	}
	clk := clocktesting.NewFakeClock(time.Now())
	sar := NewSubjectAccessReview(r.client.AuthorizationV1().SubjectAccessReviews(), SubjectAccessReviewOptions{AllowTTL: 5 * time.Minute, DenyTTL: 30 * time.Second, Clock: clk, Retry: noRetry})
	ctx := context.Background()
	alice := Attributes{User: &User{Name: "alice", Groups: []string{"g"}, Extra: map[string][]string{"k": {"v"}}}, Verb: "get", ResourceRequest: true,
		APIVersion: "v1", Resource: "nodes", Subresource: "proxy", Name: "n1", Path: "/exec/x"}
	if ok, _, err := sar.Authorize(ctx, alice); !ok || err != nil {
		t.Fatalf("alice: %v %v", ok, err)
	}
	want := authorizationv1.SubjectAccessReviewSpec{User: "alice", Groups: []string{"g"}, Extra: map[string]authorizationv1.ExtraValue{"k": {"v"}},
		ResourceAttributes: &authorizationv1.ResourceAttributes{Verb: "get", Version: "v1", Resource: "nodes", Subresource: "proxy", Name: "n1"}}
	if got := r.specs[0]; got.User != want.User || !slices.Equal(got.Groups, want.Groups) || *got.ResourceAttributes != *want.ResourceAttributes || got.Extra["k"][0] != "v" {
		t.Errorf("spec = %+v, want %+v", got, want)
	}
	bob := NonResource(&User{Name: "bob"}, "GET", "/metrics")
	if ok, reason, err := sar.Authorize(ctx, bob); ok || err != nil || reason != "no RBAC policy matched" {
		t.Fatalf("bob: %v %q %v", ok, reason, err)
	}
	if got := r.specs[1].NonResourceAttributes; got == nil || got.Path != "/metrics" || got.Verb != "get" {
		t.Errorf("non-resource spec = %+v", r.specs[1])
	}
	clk.Step(29 * time.Second)
	_, _, _ = sar.Authorize(ctx, alice)
	_, _, _ = sar.Authorize(ctx, bob)
	if n := r.sarCalls.Load(); n != 2 {
		t.Errorf("reviews within both TTLs = %d, want 2", n)
	}
	clk.Step(time.Second)
	_, _, _ = sar.Authorize(ctx, bob)
	_, _, _ = sar.Authorize(ctx, alice)
	if n := r.sarCalls.Load(); n != 3 {
		t.Errorf("reviews after the deny TTL = %d, want 3 (bob asked again, alice cached)", n)
	}
	clk.Step(5 * time.Minute)
	_, _, _ = sar.Authorize(ctx, alice)
	if n := r.sarCalls.Load(); n != 4 {
		t.Errorf("reviews after the allow TTL = %d, want 4", n)
	}
}

func TestPaths(t *testing.T) {
	t.Parallel()
	p := Paths{"/healthz", "/debug/*"}
	for path, want := range map[string]bool{"/healthz": true, "/healthz/ping": false, "/debug/pprof/": true, "/metrics": false} {
		if ok, _, _ := p.Authorize(context.Background(), NonResource(nil, "GET", path)); ok != want {
			t.Errorf("%s: allowed=%v, want %v", path, ok, want)
		}
	}
}

// testServer serves "hello <user>" behind f on TLS asking for client
// certificates, as daemon.Serve does.
func testServer(t *testing.T, f Filter) *httptest.Server {
	t.Helper()
	srv := httptest.NewUnstartedServer(f.Wrap(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u, _ := UserFrom(r.Context())
		_, _ = io.WriteString(w, "hello "+u.Name+" "+strings.Join(u.Groups, ","))
	})))
	srv.TLS = &tls.Config{ClientAuth: tls.RequestClientCert}
	srv.StartTLS()
	t.Cleanup(srv.Close)
	return srv
}

func get(t *testing.T, srv *httptest.Server, path, token string, cert *pki.KeyPair) (int, string) {
	t.Helper()
	tr := srv.Client().Transport.(*http.Transport).Clone()
	if cert != nil {
		tr.TLSClientConfig.Certificates = []tls.Certificate{cert.TLSCertificate()}
	}
	req, _ := http.NewRequest("GET", srv.URL+path, nil)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := (&http.Client{Transport: tr}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, strings.TrimSpace(string(body))
}

func TestFilter(t *testing.T) {
	t.Parallel()
	ca, err := pki.NewCA("client-ca", pki.Options{})
	if err != nil {
		t.Fatal(err)
	}
	other, err := pki.NewCA("other-ca", pki.Options{})
	if err != nil {
		t.Fatal(err)
	}
	admin, _ := ca.Issue(pki.ClientSpec("kubernetes-admin", "kubeadm:cluster-admins"))
	master, _ := ca.Issue(pki.ClientSpec("root", GroupMasters))
	forged, _ := other.Issue(pki.ClientSpec("kubernetes-admin", "kubeadm:cluster-admins"))
	pool, err := pki.CertPoolFromPEM(ca.CertPEM)
	if err != nil {
		t.Fatal(err)
	}
	r := newReviewer()
	r.tokens["monitoring"] = authenticationv1.TokenReviewStatus{Authenticated: true, User: authenticationv1.UserInfo{Username: "prometheus"}}
	r.tokens["broken"] = authenticationv1.TokenReviewStatus{Authenticated: true, User: authenticationv1.UserInfo{Username: "sar-fails"}}
	r.allow = func(s authorizationv1.SubjectAccessReviewSpec) (bool, error) {
		if s.User == "sar-fails" {
			return false, apierrors.NewNotFound(schema.GroupResource{Group: "authorization.k8s.io", Resource: "subjectaccessreviews"}, "")
		}
		return s.User == "prometheus" || slices.Contains(s.Groups, "kubeadm:cluster-admins"), nil
	}
	authn := Authentication{Anonymous: true, Authenticators: []Authenticator{X509{Roots: pool},
		BearerToken{Tokens: NewTokenReview(r.client.AuthenticationV1().TokenReviews(), TokenReviewOptions{Retry: noRetry})}}}
	authz := Union{Groups{GroupMasters}, Paths{"/healthz", "/readyz", "/livez"},
		NewSubjectAccessReview(r.client.AuthorizationV1().SubjectAccessReviews(), SubjectAccessReviewOptions{Retry: noRetry})}
	srv := testServer(t, Filter{Authentication: authn, Authorizer: authz})

	for _, tc := range []struct {
		name, path, token string
		cert              *pki.KeyPair
		code              int
		body              string
	}{
		{"anonymous healthz", "/healthz", "", nil, 200, "hello system:anonymous system:unauthenticated"},
		{"anonymous metrics", "/metrics", "", nil, 403, `"message":"forbidden: User \"system:anonymous\" cannot get path \"/metrics\": no RBAC policy matched"`},
		{"certificate", "/metrics", "", admin, 200, "hello kubernetes-admin kubeadm:cluster-admins,system:authenticated"},
		{"system:masters skips the review", "/metrics", "", master, 200, "hello root system:masters,system:authenticated"},
		{"certificate from another CA", "/healthz", "", forged, 401, `"reason":"Unauthorized"`},
		{"token", "/metrics", "monitoring", nil, 200, "hello prometheus system:authenticated"},
		{"forged token on an always-allowed path", "/healthz", "forged", nil, 401, `"message":"Unauthorized"`},
		{"review fails", "/metrics", "broken", nil, 500, `Internal Server Error: "/metrics": SubjectAccessReview:`},
	} {
		code, body := get(t, srv, tc.path, tc.token, tc.cert)
		if code != tc.code || !strings.Contains(body, tc.body) {
			t.Errorf("%s: %d %s, want %d containing %s", tc.name, code, body, tc.code, tc.body)
		}
	}

	closed := testServer(t, Filter{Authentication: Authentication{Authenticators: authn.Authenticators}, Authorizer: AlwaysAllow{}})
	if code, _ := get(t, closed, "/healthz", "", nil); code != 401 {
		t.Errorf("no credentials without anonymous: %d, want 401", code)
	}
	if code, body := get(t, closed, "/healthz", "monitoring", nil); code != 200 || body != "hello prometheus system:authenticated" {
		t.Errorf("token without anonymous: %d %s", code, body)
	}
}

func TestWebSocketProtocolToken(t *testing.T) {
	t.Parallel()
	r := newReviewer()
	r.tokens["tok"] = authenticationv1.TokenReviewStatus{Authenticated: true, User: authenticationv1.UserInfo{Username: "ws"}}
	b := BearerToken{Tokens: NewTokenReview(r.client.AuthenticationV1().TokenReviews(), TokenReviewOptions{Retry: noRetry})}
	req := httptest.NewRequest("GET", "/exec", nil)
	req.Header.Set("Upgrade", "websocket")
	req.Header.Set("Sec-WebSocket-Protocol", "v5.channel.k8s.io, base64url.bearer.authorization.k8s.io.dG9r")
	u, ok, err := b.AuthenticateRequest(req)
	if err != nil || !ok || u.Name != "ws" {
		t.Fatalf("%+v %v %v", u, ok, err)
	}
	if got := req.Header.Get("Sec-WebSocket-Protocol"); got != "v5.channel.k8s.io" {
		t.Errorf("protocols left = %q", got)
	}
}

// TestPublishedClientCA: client certificates are ignored until the
// apiserver publishes its client CA, then verified against it.
func TestPublishedClientCA(t *testing.T) {
	t.Parallel()
	ca, err := pki.NewCA("client-ca", pki.Options{})
	if err != nil {
		t.Fatal(err)
	}
	admin, _ := ca.Issue(pki.ClientSpec("kubernetes-admin", "kubeadm:cluster-admins"))
	client := fake.NewClientset()
	published := &PublishedClientCA{Client: client, Logger: slog.New(slog.DiscardHandler)}
	srv := testServer(t, Filter{Authentication: Authentication{Anonymous: true, Authenticators: []Authenticator{published}}, Authorizer: AlwaysAllow{}})
	published.refresh(context.Background())
	if code, body := get(t, srv, "/healthz", "", admin); code != 200 || !strings.HasPrefix(body, "hello system:anonymous") {
		t.Errorf("before the CA is published: %d %q, want anonymous", code, body)
	}
	if _, err := client.CoreV1().ConfigMaps(ClientCAConfigMapNamespace).Create(context.Background(), &corev1.ConfigMap{
		ObjectMeta: metav1.ObjectMeta{Name: ClientCAConfigMapName}, Data: map[string]string{"client-ca-file": string(ca.CertPEM)}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	published.refresh(context.Background())
	if code, body := get(t, srv, "/healthz", "", admin); code != 200 || !strings.HasPrefix(body, "hello kubernetes-admin") {
		t.Errorf("once published: %d %q", code, body)
	}
}
