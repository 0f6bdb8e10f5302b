package filters_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/kinc-dev/kinc/pkg/apiserver/authn"
	"github.com/kinc-dev/kinc/pkg/apiserver/authz"
	"github.com/kinc-dev/kinc/pkg/apiserver/filters"
)

var discard = slog.New(slog.DiscardHandler)

// status decodes a Status answer and checks its code.
func status(t *testing.T, rec *httptest.ResponseRecorder, code int) metav1.Status {
	t.Helper()
	if rec.Code != code {
		t.Fatalf("status %d, want %d; body %s", rec.Code, code, rec.Body)
	}
	var st metav1.Status
	if err := json.Unmarshal(rec.Body.Bytes(), &st); err != nil || st.Kind != "Status" || int(st.Code) != code {
		t.Fatalf("body is not a %d Status (%v): %s", code, err, rec.Body)
	}
	return st
}

func serve(h http.Handler, r *http.Request) *httptest.ResponseRecorder {
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, r)
	return rec
}

func TestWithRequestInfo(t *testing.T) {
	var got struct {
		ok                                   bool
		verb, group, ns, resource, sub, name string
		isResource                           bool
	}
	h := filters.WithRequestInfo(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		info, ok := filters.RequestInfoFrom(r.Context())
		got.ok, got.verb, got.group, got.ns = ok, info.Verb, info.APIGroup, info.Namespace
		got.resource, got.sub, got.name, got.isResource = info.Resource, info.Subresource, info.Name, info.IsResourceRequest
	}))
	serve(h, httptest.NewRequest(http.MethodPut, "/apis/apps/v1/namespaces/ns1/deployments/web/status", nil))
	if !got.ok || got.verb != "update" || got.group != "apps" || got.ns != "ns1" || got.resource != "deployments" ||
		got.sub != "status" || got.name != "web" || !got.isResource {
		t.Errorf("request info %+v", got)
	}
	serve(h, httptest.NewRequest(http.MethodGet, "/api/v1/pods?watch=true", nil))
	if got.verb != "watch" || got.resource != "pods" || got.ns != "" {
		t.Errorf("watch request info %+v", got)
	}
	if _, ok := filters.RequestInfoFrom(context.Background()); ok {
		t.Error("request info in a bare context")
	}
}

type fakeAuthn struct {
	user *authn.User
	ok   bool
	err  error
}

func (f fakeAuthn) AuthenticateRequest(*http.Request) (*authn.User, bool, error) {
	return f.user, f.ok, f.err
}

func TestWithAuthentication(t *testing.T) {
	alice := &authn.User{Name: "alice", Groups: []string{authn.GroupAuthenticated}}
	tests := []struct {
		name      string
		a         fakeAuthn
		anonymous bool
		wantCode  int
		wantUser  string
	}{
		{name: "authenticated", a: fakeAuthn{user: alice, ok: true}, wantCode: http.StatusOK, wantUser: "alice"},
		{name: "authenticated with anonymous on", a: fakeAuthn{user: alice, ok: true}, anonymous: true, wantCode: http.StatusOK, wantUser: "alice"},
		{name: "no credentials, anonymous on", anonymous: true, wantCode: http.StatusOK, wantUser: authn.Anonymous},
		{name: "no credentials, anonymous off", wantCode: http.StatusUnauthorized},
		{name: "invalid credentials, anonymous on", a: fakeAuthn{err: errors.New("bad token")}, anonymous: true, wantCode: http.StatusUnauthorized},
		{name: "invalid credentials, anonymous off", a: fakeAuthn{err: errors.New("bad token")}, wantCode: http.StatusUnauthorized},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var user *authn.User
			var authz string
			h := filters.WithAuthentication(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				user, _ = filters.UserFrom(r.Context())
				authz = r.Header.Get("Authorization")
			}), tt.a, tt.anonymous, discard)
			r := httptest.NewRequest(http.MethodGet, "/api", nil)
			r.Header.Set("Authorization", "Bearer secret")
			rec := serve(h, r)
			if tt.wantCode != http.StatusOK {
				if st := status(t, rec, tt.wantCode); st.Reason != metav1.StatusReasonUnauthorized {
					t.Errorf("reason %s, want Unauthorized", st.Reason)
				}
				if user != nil {
					t.Error("the handler ran")
				}
				return
			}
			if rec.Code != http.StatusOK || user == nil || user.Name != tt.wantUser {
				t.Fatalf("status %d user %+v, want %s", rec.Code, user, tt.wantUser)
			}
			if user.Name == authn.Anonymous && (len(user.Groups) != 1 || user.Groups[0] != authn.GroupUnauthenticated) {
				t.Errorf("anonymous groups %v, want [%s]", user.Groups, authn.GroupUnauthenticated)
			}
			if authz != "" {
				t.Errorf("the handler saw the credentials %q", authz)
			}
		})
	}
}

type fixedAuthz struct {
	d      authz.Decision
	reason string
	err    error
	got    *authz.Attributes
}

func (f fixedAuthz) Authorize(_ context.Context, a authz.Attributes) (authz.Decision, string, error) {
	*f.got = a
	return f.d, f.reason, f.err
}

func TestWithAuthorization(t *testing.T) {
	bob := &authn.User{Name: "bob"}
	tests := []struct {
		name, method, path string
		z                  fixedAuthz
		wantCode           int
		wantMessage        string
	}{
		{name: "allowed", method: http.MethodGet, path: "/api/v1/namespaces/ns/pods/p", z: fixedAuthz{d: authz.Allow}, wantCode: http.StatusOK},
		{name: "denied namespaced resource", method: http.MethodDelete, path: "/api/v1/namespaces/ns/pods/p",
			z: fixedAuthz{d: authz.Deny, reason: "nope"}, wantCode: http.StatusForbidden,
			wantMessage: `pods "p" is forbidden: User "bob" cannot delete resource "pods" in API group "" in the namespace "ns": nope`},
		{name: "no opinion is a denial, subresource, cluster scope", method: http.MethodPut, path: "/apis/apps/v1/deployments/d/status",
			z: fixedAuthz{}, wantCode: http.StatusForbidden,
			wantMessage: `User "bob" cannot update resource "deployments/status" in API group "apps" at the cluster scope`},
		{name: "denied path", method: http.MethodGet, path: "/metrics", z: fixedAuthz{d: authz.Deny}, wantCode: http.StatusForbidden,
			wantMessage: `User "bob" cannot get path "/metrics"`},
		{name: "an error with an Allow is logged, the Allow stands", method: http.MethodGet, path: "/api",
			z: fixedAuthz{d: authz.Allow, err: errors.New("boom")}, wantCode: http.StatusOK},
		{name: "an error without an Allow is the server's: 500", method: http.MethodGet, path: "/api",
			z: fixedAuthz{d: authz.Deny, err: errors.New("boom")}, wantCode: http.StatusInternalServerError,
			wantMessage: "authorization failed: boom"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.z.got = &authz.Attributes{}
			ran := false
			inner := filters.WithAuthorization(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { ran = true }), tt.z, discard)
			h := filters.WithRequestInfo(filters.WithAuthentication(inner, fakeAuthn{user: bob, ok: true}, false, discard))
			rec := serve(h, httptest.NewRequest(tt.method, tt.path, nil))
			if tt.z.got.User != bob || tt.z.got.Path != tt.path {
				t.Errorf("authorizer got %+v", *tt.z.got)
			}
			if tt.wantCode == http.StatusOK {
				if !ran || rec.Code != http.StatusOK {
					t.Errorf("status %d ran %v, want the handler", rec.Code, ran)
				}
				return
			}
			st := status(t, rec, tt.wantCode)
			wantReason := metav1.StatusReasonForbidden
			if tt.wantCode == http.StatusInternalServerError {
				wantReason = metav1.StatusReasonInternalError
			}
			if ran || st.Reason != wantReason || !strings.Contains(st.Message, tt.wantMessage) {
				t.Errorf("ran %v, Status %s %q, want %s containing %q", ran, st.Reason, st.Message, wantReason, tt.wantMessage)
			}
		})
	}
}

// blocker is a handler that holds every request until released.
type blocker struct {
	entered chan string
	release chan struct{}
}

func newBlocker() *blocker {
	return &blocker{entered: make(chan string, 100), release: make(chan struct{})}
}

func (b *blocker) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	b.entered <- r.Method + " " + r.URL.String()
	<-b.release
}

func (b *blocker) waitEntered(t *testing.T) {
	t.Helper()
	select {
	case <-b.entered:
	case <-time.After(10 * time.Second):
		t.Fatal("request did not reach the handler")
	}
}

func TestWithMaxInFlight(t *testing.T) {
	b := newBlocker()
	h := filters.WithRequestInfo(filters.WithMaxInFlight(b, 1, 1))
	var wg sync.WaitGroup
	start := func(method, path string) {
		wg.Add(1)
		go func() { defer wg.Done(); serve(h, httptest.NewRequest(method, path, nil)) }()
		b.waitEntered(t)
	}
	start(http.MethodGet, "/api/v1/pods")                      // takes the read-only slot
	start(http.MethodPost, "/api/v1/namespaces/ns/pods")       // takes the mutating slot
	start(http.MethodGet, "/api/v1/pods?watch=true")           // long-running: not counted
	start(http.MethodGet, "/api/v1/namespaces/ns/pods/p/log")  // long-running: not counted
	start(http.MethodGet, "/api/v1/namespaces/ns/pods/p/exec") // long-running: not counted

	for _, r := range []*http.Request{
		httptest.NewRequest(http.MethodGet, "/api/v1/namespaces", nil),
		httptest.NewRequest(http.MethodDelete, "/api/v1/namespaces/ns/pods/p", nil),
		httptest.NewRequest(http.MethodPatch, "/api/v1/namespaces/ns/pods/p", nil),
	} {
		rec := serve(h, r)
		if st := status(t, rec, http.StatusTooManyRequests); st.Reason != metav1.StatusReasonTooManyRequests {
			t.Errorf("%s %s: reason %s", r.Method, r.URL, st.Reason)
		}
		if rec.Header().Get("Retry-After") != "1" {
			t.Errorf("%s %s: Retry-After %q, want 1", r.Method, r.URL, rec.Header().Get("Retry-After"))
		}
	}
	close(b.release)
	wg.Wait()
	// The slots are free again.
	rec := serve(h, httptest.NewRequest(http.MethodGet, "/api/v1/namespaces", nil))
	if rec.Code != http.StatusOK {
		t.Errorf("after the release: status %d", rec.Code)
	}
}

func TestWithMaxInFlightZeroDisables(t *testing.T) {
	b := newBlocker()
	h := filters.WithRequestInfo(filters.WithMaxInFlight(b, 0, 0))
	var wg sync.WaitGroup
	for range 5 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			serve(h, httptest.NewRequest(http.MethodPost, "/api/v1/namespaces/ns/pods", nil))
		}()
		b.waitEntered(t)
	}
	close(b.release)
	wg.Wait()
}

func TestWithRequestLog(t *testing.T) {
	var logs bytes.Buffer
	debug := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	next := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusTeapot)
		w.(http.Flusher).Flush()
	})
	h := filters.WithAuthentication(filters.WithRequestLog(next, debug),
		fakeAuthn{user: &authn.User{Name: "alice"}, ok: true}, false, discard)
	r := httptest.NewRequest(http.MethodGet, "/api/v1/pods?limit=1", nil)
	r.Header.Set("User-Agent", "kubectl/v1.32.0")
	rec := serve(h, r)
	if rec.Code != http.StatusTeapot || !rec.Flushed {
		t.Errorf("status %d flushed %v, want 418 flushed through the recorder", rec.Code, rec.Flushed)
	}
	line := logs.String()
	for _, want := range []string{"verb=GET", "URI=\"/api/v1/pods?limit=1\"", "user=alice", "status=418", "latency=", "kubectl/v1.32.0"} {
		if !strings.Contains(line, want) {
			t.Errorf("log %q lacks %s", line, want)
		}
	}

	// Below debug the filter is not even in the chain.
	info := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelInfo}))
	if got := filters.WithRequestLog(next, info); got == nil || func() bool {
		logs.Reset()
		serve(got, httptest.NewRequest(http.MethodGet, "/api", nil))
		return logs.Len() != 0
	}() {
		t.Errorf("request logged below debug: %s", logs.String())
	}
}

// verbAuthz allows the verbs in allow and records what it was asked.
type verbAuthz struct {
	allow map[string]bool
	asked *[]string
}

func (v verbAuthz) Authorize(_ context.Context, a authz.Attributes) (authz.Decision, string, error) {
	*v.asked = append(*v.asked, a.Verb+" "+a.Resource+"/"+a.Subresource)
	if v.allow[a.Verb] {
		return authz.Allow, "", nil
	}
	return authz.Deny, "", nil
}

// A GET of pods/exec, attach or portforward (a WebSocket session) needs
// create too, as upstream's AuthorizePodWebsocketUpgradeCreatePermission.
func TestWithAuthorizationStreamingGetNeedsCreate(t *testing.T) {
	for _, tc := range []struct {
		method, path string
		allow        []string
		code         int
		asked        string
	}{
		{"GET", "/api/v1/namespaces/ns/pods/p/exec?command=ls", []string{"get"}, http.StatusForbidden, "get pods/exec,create pods/exec"},
		{"GET", "/api/v1/namespaces/ns/pods/p/exec?command=ls", []string{"get", "create"}, http.StatusOK, "get pods/exec,create pods/exec"},
		{"GET", "/api/v1/namespaces/ns/pods/p/portforward", []string{"get"}, http.StatusForbidden, "get pods/portforward,create pods/portforward"},
		{"POST", "/api/v1/namespaces/ns/pods/p/attach", []string{"create"}, http.StatusOK, "create pods/attach"},
		{"GET", "/api/v1/namespaces/ns/pods/p/log", []string{"get"}, http.StatusOK, "get pods/log"},
		{"GET", "/api/v1/namespaces/ns/pods/p/proxy/x", []string{"get"}, http.StatusOK, "get pods/proxy"},
	} {
		var asked []string
		z := verbAuthz{allow: map[string]bool{}, asked: &asked}
		for _, v := range tc.allow {
			z.allow[v] = true
		}
		inner := filters.WithAuthorization(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}), z, discard)
		h := filters.WithRequestInfo(filters.WithAuthentication(inner, fakeAuthn{user: &authn.User{Name: "bob"}, ok: true}, false, discard))
		rec := serve(h, httptest.NewRequest(tc.method, tc.path, nil))
		if rec.Code != tc.code || strings.Join(asked, ",") != tc.asked {
			t.Errorf("%s %s allowed %v: %d, asked %q; want %d, %q", tc.method, tc.path, tc.allow, rec.Code, asked, tc.code, tc.asked)
		}
		if tc.code == http.StatusForbidden {
			if st := status(t, rec, tc.code); !strings.Contains(st.Message, `cannot create resource "pods/`) {
				t.Errorf("message %q", st.Message)
			}
		}
	}
}
