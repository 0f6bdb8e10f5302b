package manager

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/kubernetes/fake"
	"k8s.io/client-go/rest"
	k8stesting "k8s.io/client-go/testing"
	clocktesting "k8s.io/utils/clock/testing"

	"github.com/kinc-dev/kinc/pkg/controller/controllertest"
)

// tokenAPI is a fake apiserver for the credentials: a fake clientset whose
// TokenRequests answer "<account>-<n>" tokens valid for the requested
// lifetime on clock (or fail with failWith), and an HTTP server recording
// the Authorization header of every request, answering 401 to the
// tokens in refuse.
type tokenAPI struct {
	client *fake.Clientset
	clock  *clocktesting.FakeClock
	server *httptest.Server

	mu       sync.Mutex
	issued   int
	failWith error
	refuse   map[string]bool
	seen     []string
}

func newTokenAPI(t *testing.T, objects ...runtime.Object) *tokenAPI {
	a := &tokenAPI{client: fake.NewClientset(objects...), clock: clocktesting.NewFakeClock(controllertest.Epoch()), refuse: map[string]bool{}}
	a.client.PrependReactor("create", "serviceaccounts", func(act k8stesting.Action) (bool, runtime.Object, error) {
		if act.GetSubresource() != "token" {
			return false, nil, nil
		}
		a.mu.Lock()
		defer a.mu.Unlock()
		if a.failWith != nil {
			return true, nil, a.failWith
		}
		name := act.(k8stesting.CreateActionImpl).Name
		if _, err := a.client.Tracker().Get(schema.GroupVersionResource{Version: "v1", Resource: "serviceaccounts"}, act.GetNamespace(), name); err != nil {
			return true, nil, err
		}
		req := act.(k8stesting.CreateAction).GetObject().(*authenticationv1.TokenRequest).DeepCopy()
		a.issued++
		req.Status = authenticationv1.TokenRequestStatus{Token: fmt.Sprintf("%s-%d", name, a.issued),
			ExpirationTimestamp: metav1.NewTime(a.clock.Now().Add(time.Duration(*req.Spec.ExpirationSeconds) * time.Second))}
		return true, req, nil
	})
	a.server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		a.mu.Lock()
		defer a.mu.Unlock()
		h := r.Header.Get("Authorization")
		a.seen = append(a.seen, h)
		if a.refuse[strings.TrimPrefix(h, "Bearer ")] {
			w.WriteHeader(http.StatusUnauthorized)
		}
	}))
	t.Cleanup(a.server.Close)
	return a
}

// builder returns the ClientBuilder of credentials on a.
func (a *tokenAPI) builder(t *testing.T) ClientBuilder {
	root := &rest.Config{Host: a.server.URL, BearerToken: "root-token", UserAgent: "kcm",
		TLSClientConfig: rest.TLSClientConfig{CertData: []byte("cert"), KeyData: []byte("key")}}
	return ServiceAccountCredentials{Root: root, Client: a.client.CoreV1(), Clock: a.clock,
		Logger: slog.New(slog.NewTextHandler(t.Output(), nil))}.ClientBuilder(t.Context())
}

// get sends one request with cfg and returns its status code.
func (a *tokenAPI) get(t *testing.T, cfg *rest.Config) int {
	t.Helper()
	hc, err := rest.HTTPClientFor(cfg)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := hc.Get(a.server.URL + "/api")
	if err != nil {
		t.Fatal(err)
	}
	_ = resp.Body.Close()
	return resp.StatusCode
}

// last returns the Authorization header of the last request served.
func (a *tokenAPI) last() string {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.seen[len(a.seen)-1]
}

// tokenRequests counts the TokenRequests made.
func (a *tokenAPI) tokenRequests() int {
	n := 0
	for _, act := range a.client.Actions() {
		if act.GetSubresource() == "token" {
			n++
		}
	}
	return n
}

// TestServiceAccountCredentials: a controller's configuration creates its
// missing account in kube-system, carries none of root's credentials,
// names the account's user in its user agent, and sends the account's
// token, obtained once, with every request.
func TestServiceAccountCredentials(t *testing.T) {
	a := newTokenAPI(t, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "kube-system"}})
	b := a.builder(t)
	cfg, err := b("deployment-controller")
	if err != nil {
		t.Fatal(err)
	}
	controllertest.ExpectActions(t, a.client.Actions(),
		controllertest.Action{Verb: "get", Resource: "serviceaccounts", Namespace: "kube-system", Name: "deployment-controller"},
		controllertest.Action{Verb: "get", Resource: "namespaces", Name: "kube-system"},
		controllertest.Action{Verb: "create", Resource: "serviceaccounts", Namespace: "kube-system", Name: "deployment-controller"})
	if cfg.BearerToken != "" || cfg.CertData != nil || cfg.KeyData != nil || cfg.Host != a.server.URL ||
		cfg.UserAgent != rest.DefaultKubernetesUserAgent()+"/system:serviceaccount:kube-system:deployment-controller" {
		t.Errorf("config %+v", cfg)
	}
	a.client.ClearActions()
	if code := a.get(t, cfg); code != http.StatusOK {
		t.Fatalf("status %d", code)
	}
	if got := a.last(); got != "Bearer deployment-controller-1" {
		t.Errorf("Authorization %q", got)
	}
	a.get(t, cfg)
	// A second configuration of the same account shares its token; the
	// account exists now.
	again, err := b("deployment-controller")
	if err != nil {
		t.Fatal(err)
	}
	a.get(t, again)
	if got := a.last(); got != "Bearer deployment-controller-1" || a.tokenRequests() != 1 {
		t.Errorf("Authorization %q after %d token requests, want the first token once", got, a.tokenRequests())
	}
	for _, act := range a.client.Actions() {
		if act.GetVerb() == "create" && act.GetSubresource() == "" {
			t.Errorf("created %s again", act.GetResource().Resource)
		}
	}
	// Another account gets its own token.
	other, err := b("replicaset-controller")
	if err != nil {
		t.Fatal(err)
	}
	a.get(t, other)
	if got := a.last(); got != "Bearer replicaset-controller-2" {
		t.Errorf("Authorization %q", got)
	}
	tr := controllertest.ObjectOf[*authenticationv1.TokenRequest](t, a.client.Actions()[len(a.client.Actions())-1])
	if *tr.Spec.ExpirationSeconds != 3600 || len(tr.Spec.Audiences) != 0 || tr.Spec.BoundObjectRef != nil {
		t.Errorf("token request %+v, want upstream's: one hour, the apiserver's audiences, unbound", tr.Spec)
	}
}

// TestServiceAccountCredentialsNamespaceMissing: a missing kube-system is
// created before the account, as upstream.
func TestServiceAccountCredentialsNamespaceMissing(t *testing.T) {
	a := newTokenAPI(t)
	if _, err := a.builder(t)("namespace-controller"); err != nil {
		t.Fatal(err)
	}
	if _, err := a.client.CoreV1().Namespaces().Get(context.Background(), "kube-system", metav1.GetOptions{}); err != nil {
		t.Errorf("kube-system: %v", err)
	}
	if _, err := a.client.CoreV1().ServiceAccounts("kube-system").Get(context.Background(), "namespace-controller", metav1.GetOptions{}); err != nil {
		t.Errorf("service account: %v", err)
	}
}

// TestServiceAccountCredentialsAccountRefused: an account that can be
// neither read nor created fails the controller's construction.
func TestServiceAccountCredentialsAccountRefused(t *testing.T) {
	a := newTokenAPI(t)
	a.client.PrependReactor("create", "serviceaccounts", func(k8stesting.Action) (bool, runtime.Object, error) {
		return true, nil, apierrors.NewForbidden(schema.GroupResource{Resource: "serviceaccounts"}, "job-controller", fmt.Errorf("no"))
	})
	_, err := a.builder(t)("job-controller")
	if !apierrors.IsForbidden(err) || !strings.HasPrefix(err.Error(), "creating service account kube-system/job-controller: ") {
		t.Errorf("error %v", err)
	}
}

// TestServiceAccountTokenRenewal: the token is kept until 80% of its hour
// has passed, then renewed by the next request; a token that cannot be
// renewed is still sent until it expires, after which requests fail with
// the TokenRequest's error until one succeeds.
func TestServiceAccountTokenRenewal(t *testing.T) {
	a := newTokenAPI(t)
	cfg, err := a.builder(t)("job-controller")
	if err != nil {
		t.Fatal(err)
	}
	a.get(t, cfg)
	a.clock.Step(47 * time.Minute)
	a.get(t, cfg)
	if got := a.last(); got != "Bearer job-controller-1" {
		t.Errorf("at 47 min: %q, want the first token", got)
	}
	a.clock.Step(time.Minute) // 48 min: 80%
	a.get(t, cfg)
	if got := a.last(); got != "Bearer job-controller-2" {
		t.Errorf("at 48 min: %q, want a new token", got)
	}

	a.mu.Lock()
	a.failWith = apierrors.NewServiceUnavailable("etcd is down")
	a.mu.Unlock()
	a.clock.Step(50 * time.Minute) // past the renewal point, before the expiry
	a.get(t, cfg)
	a.clock.Step(5 * time.Second) // within the retry interval: no new attempt
	a.get(t, cfg)
	if got, n := a.last(), a.tokenRequests(); got != "Bearer job-controller-2" || n != 3 {
		t.Errorf("renewal failing: %q after %d token requests, want the current token after 3", got, n)
	}
	a.clock.Step(10*time.Minute - 6*time.Second) // 4 s before the expiry: one more attempt
	a.get(t, cfg)
	a.clock.Step(4 * time.Second) // expired: the retry interval does not extend it
	hc, err := rest.HTTPClientFor(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := hc.Get(a.server.URL + "/api"); err == nil || !strings.Contains(err.Error(), "requesting a token for service account kube-system/job-controller: etcd is down") {
		t.Errorf("request with an expired token and none to be had: %v", err)
	}
	a.mu.Lock()
	a.failWith = nil
	a.mu.Unlock()
	a.get(t, cfg)
	if got := a.last(); got != "Bearer job-controller-3" {
		t.Errorf("after recovery: %q", got)
	}
}

// TestServiceAccountTokenShortLifetime: a token whose expiry is under ten
// minutes away (clock skew) is counted as lasting ten minutes.
func TestServiceAccountTokenShortLifetime(t *testing.T) {
	a := newTokenAPI(t)
	a.client.PrependReactor("create", "serviceaccounts", func(act k8stesting.Action) (bool, runtime.Object, error) {
		if act.GetSubresource() != "token" {
			return false, nil, nil
		}
		return true, &authenticationv1.TokenRequest{Spec: authenticationv1.TokenRequestSpec{ExpirationSeconds: ptrInt64(3600)},
			Status: authenticationv1.TokenRequestStatus{Token: "skewed", ExpirationTimestamp: metav1.NewTime(a.clock.Now().Add(time.Minute))}}, nil
	})
	cfg, err := a.builder(t)("job-controller")
	if err != nil {
		t.Fatal(err)
	}
	a.get(t, cfg)
	a.clock.Step(7 * time.Minute) // under 80% of 10 min
	a.get(t, cfg)
	if n := a.tokenRequests(); n != 1 {
		t.Errorf("%d token requests, want 1", n)
	}
	a.clock.Step(time.Minute) // 8 min
	a.get(t, cfg)
	if n := a.tokenRequests(); n != 2 {
		t.Errorf("%d token requests, want 2", n)
	}
}

// TestServiceAccountToken401: a 401 to a request made with a token drops
// it; the next request gets a new one.
func TestServiceAccountToken401(t *testing.T) {
	a := newTokenAPI(t)
	cfg, err := a.builder(t)("job-controller")
	if err != nil {
		t.Fatal(err)
	}
	a.get(t, cfg)
	a.refuse["job-controller-1"] = true
	a.clock.Step(time.Second) // the request starts after the token was obtained
	if code := a.get(t, cfg); code != http.StatusUnauthorized {
		t.Fatalf("status %d", code)
	}
	if code := a.get(t, cfg); code != http.StatusOK || a.last() != "Bearer job-controller-2" {
		t.Errorf("after a 401: status %d with %q", code, a.last())
	}
}

// TestServiceAccountTokenAccountDeleted: an account deleted after the
// configuration was made is created again when its token is requested.
func TestServiceAccountTokenAccountDeleted(t *testing.T) {
	a := newTokenAPI(t)
	cfg, err := a.builder(t)("job-controller")
	if err != nil {
		t.Fatal(err)
	}
	if err := a.client.CoreV1().ServiceAccounts("kube-system").Delete(context.Background(), "job-controller", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	if code := a.get(t, cfg); code != http.StatusOK || a.last() != "Bearer job-controller-1" {
		t.Errorf("status %d with %q", code, a.last())
	}
}

// TestServiceAccountTokenOwnAuthorization: a request that brings its own
// Authorization header keeps it and obtains no token.
func TestServiceAccountTokenOwnAuthorization(t *testing.T) {
	a := newTokenAPI(t)
	cfg, err := a.builder(t)("job-controller")
	if err != nil {
		t.Fatal(err)
	}
	hc, err := rest.HTTPClientFor(cfg)
	if err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest("GET", a.server.URL+"/api", nil)
	req.Header.Set("Authorization", "Bearer mine")
	resp, err := hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	_ = resp.Body.Close()
	if a.last() != "Bearer mine" || a.tokenRequests() != 0 {
		t.Errorf("sent %q after %d token requests", a.last(), a.tokenRequests())
	}
}

func ptrInt64(v int64) *int64 { return &v }
