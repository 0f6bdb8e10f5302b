package filters_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime/schema"
	clocktesting "k8s.io/utils/clock/testing"

	"github.com/kinc-dev/kinc/pkg/apiserver/audit"
	"github.com/kinc-dev/kinc/pkg/apiserver/authn"
	"github.com/kinc-dev/kinc/pkg/apiserver/authz"
	"github.com/kinc-dev/kinc/pkg/apiserver/filters"
	"github.com/kinc-dev/kinc/pkg/apiserver/handlers"
)

// memorySink keeps copies of the events written.
type memorySink struct {
	mu     sync.Mutex
	events []audit.Event
}

func (s *memorySink) Write(ev *audit.Event) error {
	data, err := json.Marshal(ev)
	if err != nil {
		return err
	}
	var c audit.Event
	if err := json.Unmarshal(data, &c); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.events = append(s.events, c)
	return nil
}

func (s *memorySink) stages() []audit.Stage {
	var st []audit.Stage
	for _, e := range s.events {
		st = append(st, e.Stage)
	}
	return st
}

// allowAll allows everyone but mallory, saying why.
type allowAll struct{}

func (allowAll) Authorize(_ context.Context, a authz.Attributes) (authz.Decision, string, error) {
	if a.User.Name == "mallory" {
		return authz.NoOpinion, "", nil
	}
	return authz.Allow, "allowed by test", nil
}

const filterPolicy = `apiVersion: audit.k8s.io/v1
kind: Policy
omitManagedFields: true
rules:
- level: None
  resources: [{resources: [events]}]
- level: Metadata
  resources: [{resources: [secrets]}]
- level: RequestResponse
`

// auditChain is the server's order: audit ID, request info,
// authentication (as user), audit, impersonation, authorization, h.
func auditChain(t *testing.T, user *authn.User, h http.Handler) (http.Handler, *memorySink) {
	t.Helper()
	p, _, err := audit.ParsePolicy([]byte(filterPolicy))
	if err != nil {
		t.Fatal(err)
	}
	sink := &memorySink{}
	log := slog.New(slog.DiscardHandler)
	clock := clocktesting.NewFakePassiveClock(time.Date(2026, 12, 7, 4, 0, 0, 0, time.UTC))
	h = filters.WithAuthorization(h, allowAll{}, log)
	h = filters.WithImpersonation(h, allowAll{}, log)
	h = filters.WithAudit(h, p, sink, clock, log)
	authenticated := h
	h = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		authenticated.ServeHTTP(w, r.WithContext(authn.WithUser(r.Context(), user)))
	})
	return filters.WithAuditID(filters.WithRequestInfo(h)), sink
}

var alice = &authn.User{Name: "alice", UID: "u1", Groups: []string{"devs", authn.GroupAuthenticated}}

func TestAuditCreateAtRequestResponse(t *testing.T) {
	var seen string
	h, sink := auditChain(t, alice, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		seen = string(b)
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusCreated)
		io.WriteString(w, `{"kind":"Pod","apiVersion":"v1","metadata":{"name":"web","namespace":"default","uid":"x","managedFields":[{"manager":"kubectl"}]}}`)
	}))
	body := `{"kind":"Pod","apiVersion":"v1","metadata":{"name":"web","managedFields":[{"manager":"kubectl"}]}}`
	r := httptest.NewRequest("POST", "/api/v1/namespaces/default/pods?fieldManager=kubectl", strings.NewReader(body))
	r.Header.Set("Content-Type", "application/json")
	r.Header.Set("User-Agent", "kubectl/v1.37.2")
	r.Header.Set("X-Forwarded-For", "10.0.0.9")
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	if seen != body {
		t.Fatalf("handler read %q, want the whole body", seen)
	}
	if got := sink.stages(); !slices.Equal(got, []audit.Stage{audit.StageRequestReceived, audit.StageResponseComplete}) {
		t.Fatalf("stages %v", got)
	}
	ev := sink.events[1]
	id := w.Header().Get("Audit-ID")
	if id == "" || string(ev.AuditID) != id || sink.events[0].AuditID != ev.AuditID {
		t.Errorf("Audit-ID header %q, events %q and %q", id, sink.events[0].AuditID, ev.AuditID)
	}
	if ev.Kind != "Event" || ev.APIVersion != "audit.k8s.io/v1" || ev.Level != audit.LevelRequestResponse || ev.Verb != "create" ||
		ev.RequestURI != "/api/v1/namespaces/default/pods?fieldManager=kubectl" || ev.UserAgent != "kubectl/v1.37.2" {
		t.Errorf("event %+v", ev)
	}
	if ev.User.Username != "alice" || ev.User.UID != "u1" || !slices.Equal(ev.User.Groups, alice.Groups) || ev.ImpersonatedUser != nil {
		t.Errorf("user %+v, impersonated %+v", ev.User, ev.ImpersonatedUser)
	}
	if !slices.Equal(ev.SourceIPs, []string{"10.0.0.9", "192.0.2.1"}) {
		t.Errorf("sourceIPs %v", ev.SourceIPs)
	}
	if *ev.ObjectRef != (audit.ObjectReference{Resource: "pods", Namespace: "default", Name: "web", APIVersion: "v1"}) {
		t.Errorf("objectRef %+v", *ev.ObjectRef)
	}
	if ev.ResponseStatus == nil || ev.ResponseStatus.Code != 201 {
		t.Errorf("responseStatus %+v", ev.ResponseStatus)
	}
	if want := `{"apiVersion":"v1","kind":"Pod","metadata":{"name":"web"}}`; string(ev.RequestObject) != want {
		t.Errorf("requestObject %s, want %s (managedFields omitted)", ev.RequestObject, want)
	}
	if want := `{"apiVersion":"v1","kind":"Pod","metadata":{"name":"web","namespace":"default","uid":"x"}}`; string(ev.ResponseObject) != want {
		t.Errorf("responseObject %s, want %s", ev.ResponseObject, want)
	}
	if first := sink.events[0]; first.ResponseStatus != nil || first.ResponseObject != nil || first.RequestObject != nil || first.ObjectRef.Name != "" {
		t.Errorf("RequestReceived %+v: want no bodies and no name yet, as upstream (the body is decoded later)", first)
	}
	if ev.Annotations["authorization.k8s.io/decision"] != "allow" || ev.Annotations["authorization.k8s.io/reason"] != "allowed by test" {
		t.Errorf("annotations %v", ev.Annotations)
	}
	if ev.RequestReceivedTimestamp.IsZero() || ev.StageTimestamp.IsZero() {
		t.Errorf("timestamps %v %v", ev.RequestReceivedTimestamp, ev.StageTimestamp)
	}
}

func TestAuditMetadataFailureHasStatusNoBody(t *testing.T) {
	h, sink := auditChain(t, alice, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		handlers.WriteError(w, r, apierrors.NewNotFound(schema.GroupResource{Resource: "secrets"}, "s"))
	}))
	r := httptest.NewRequest("GET", "/api/v1/namespaces/default/secrets/s", nil)
	r.Header.Set("Audit-ID", "client-chosen")
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	if w.Header().Get("Audit-ID") != "client-chosen" {
		t.Errorf("Audit-ID %q, want the client's", w.Header().Get("Audit-ID"))
	}
	ev := sink.events[len(sink.events)-1]
	if ev.AuditID != "client-chosen" || ev.Level != audit.LevelMetadata || ev.RequestObject != nil || ev.ResponseObject != nil {
		t.Errorf("event %+v", ev)
	}
	st := ev.ResponseStatus
	if st == nil || st.Code != 404 || st.Status != "Failure" || st.Reason != "NotFound" || st.Message != `secrets "s" not found` {
		t.Errorf("responseStatus %+v", st)
	}
}

func TestAuditNoneAndForbidden(t *testing.T) {
	h, sink := auditChain(t, alice, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest("GET", "/api/v1/namespaces/default/events", nil))
	if len(sink.events) != 0 || w.Header().Get("Audit-ID") == "" {
		t.Errorf("events %v, Audit-ID %q: want none and a header", sink.events, w.Header().Get("Audit-ID"))
	}

	h, sink = auditChain(t, &authn.User{Name: "mallory"}, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		t.Error("a forbidden request was served")
	}))
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("POST", "/api/v1/namespaces/default/pods", strings.NewReader(`{"metadata":{"name":"x"}}`)))
	ev := sink.events[len(sink.events)-1]
	if ev.Annotations["authorization.k8s.io/decision"] != "forbid" || ev.ResponseStatus.Code != 403 || ev.ResponseStatus.Reason != "Forbidden" ||
		ev.RequestObject != nil {
		t.Errorf("event %+v", ev)
	}
}

func TestAuditImpersonation(t *testing.T) {
	h, sink := auditChain(t, alice, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	r := httptest.NewRequest("GET", "/api/v1/namespaces/default/pods", nil)
	r.Header.Set("Impersonate-User", "bob")
	h.ServeHTTP(httptest.NewRecorder(), r)
	ev := sink.events[len(sink.events)-1]
	if ev.User.Username != "alice" || ev.ImpersonatedUser == nil || ev.ImpersonatedUser.Username != "bob" {
		t.Errorf("user %+v, impersonated %+v", ev.User, ev.ImpersonatedUser)
	}
	if ev.ResponseStatus.Code != 200 || ev.ResponseStatus.Message != "Connection closed early" {
		t.Errorf("responseStatus %+v: want upstream's faked success for an empty response", ev.ResponseStatus)
	}
}

func TestAuditWatchLogsResponseStarted(t *testing.T) {
	h, sink := auditChain(t, alice, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusOK)
		w.(http.Flusher).Flush()
		io.WriteString(w, `{"type":"ADDED","object":{"kind":"Pod"}}`+"\n")
	}))
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/api/v1/namespaces/default/pods?watch=true", nil))
	want := []audit.Stage{audit.StageRequestReceived, audit.StageResponseStarted, audit.StageResponseComplete}
	if got := sink.stages(); !slices.Equal(got, want) {
		t.Fatalf("stages %v, want %v", got, want)
	}
	for _, ev := range sink.events[1:] {
		if ev.Verb != "watch" || ev.ResponseStatus.Code != 200 || ev.ResponseObject != nil {
			t.Errorf("%s event %+v: want code 200 and no body", ev.Stage, ev)
		}
	}
}

func TestAuditPanic(t *testing.T) {
	h, sink := auditChain(t, alice, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { panic("boom") }))
	func() {
		defer func() {
			if p := recover(); p != "boom" {
				t.Errorf("recovered %v, want the panic to go on", p)
			}
		}()
		h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/api/v1/namespaces/default/pods", nil))
	}()
	if got := sink.stages(); !slices.Equal(got, []audit.Stage{audit.StageRequestReceived, audit.StagePanic}) {
		t.Fatalf("stages %v", got)
	}
	if st := sink.events[1].ResponseStatus; st.Code != 500 || st.Message != "APIServer panic'd: boom" {
		t.Errorf("responseStatus %+v", st)
	}
}

// nobody authenticates no one.
type nobody struct{}

func (nobody) AuthenticateRequest(*http.Request) (*authn.User, bool, error) { return nil, false, nil }

func TestAuditFailedAuthentication(t *testing.T) {
	p, _, err := audit.ParsePolicy([]byte(filterPolicy))
	if err != nil {
		t.Fatal(err)
	}
	sink := &memorySink{}
	log := slog.New(slog.DiscardHandler)
	clock := clocktesting.NewFakePassiveClock(time.Now())
	var h http.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { t.Error("an unauthenticated request was served") })
	h = filters.WithAudit(h, p, sink, clock, log)
	h = filters.WithAuthentication(h, nobody{}, false, log)
	h = filters.WithFailedAuthenticationAudit(h, p, sink, clock, log)
	h = filters.WithAuditID(filters.WithRequestInfo(h))
	r := httptest.NewRequest("GET", "/api/v1/namespaces/default/pods", nil)
	r.Header.Set("Authorization", "Bearer forged")
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	if w.Code != 401 || len(sink.events) != 1 {
		t.Fatalf("code %d, events %+v", w.Code, sink.events)
	}
	ev := sink.events[0]
	if ev.Stage != audit.StageResponseStarted || ev.User.Username != "" || string(ev.AuditID) != w.Header().Get("Audit-ID") ||
		ev.ResponseStatus.Code != 401 || ev.ResponseStatus.Message != "Authentication failed, attempted: bearer" {
		t.Errorf("event %+v", ev)
	}
	if !strings.Contains(w.Body.String(), "Unauthorized") || strings.Contains(fmt.Sprint(ev), "forged") {
		t.Errorf("body %s, event %+v", w.Body.String(), ev)
	}
}

func TestAuditYAMLResponse(t *testing.T) {
	h, sink := auditChain(t, alice, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/yaml")
		io.WriteString(w, "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\n")
	}))
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/api/v1/namespaces/default/configmaps/c", nil))
	ev := sink.events[len(sink.events)-1]
	if want := `{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"c"}}`; string(ev.ResponseObject) != want {
		t.Errorf("responseObject %s, want %s", ev.ResponseObject, want)
	}
}
