package manager

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/record"

	"github.com/kinc-dev/kinc/pkg/controller"
)

// fakeController is a controller whose Run returns err at once, or waits
// for ctx when err is nil.
type fakeController struct {
	name    string
	err     error
	workers chan int
}

func (f *fakeController) Name() string { return f.name }

func (f *fakeController) Run(ctx context.Context, workers int) error {
	f.workers <- workers
	if f.err != nil {
		return f.err
	}
	<-ctx.Done()
	return nil
}

func newTestManager(enabled ...Descriptor) (*manager, *bytes.Buffer) {
	var log bytes.Buffer
	return &manager{opts: NewOptions(), root: &rest.Config{Host: "https://127.0.0.1:1"}, enabled: enabled,
		events: record.NewBroadcaster(), logger: slog.New(slog.NewTextHandler(&log, nil)), health: newControllerHealth()}, &log
}

// TestRunConstructorError: a controller that cannot be built stops the
// term before anything runs, naming the controller.
func TestRunConstructorError(t *testing.T) {
	ran := make(chan int, 1)
	m, _ := newTestManager(
		Descriptor{Name: "ok-controller", New: func(context.Context, Context) (controller.Controller, error) {
			return &fakeController{name: "ok", workers: ran}, nil
		}},
		Descriptor{Name: "bad-controller", New: func(context.Context, Context) (controller.Controller, error) {
			return nil, errors.New("boom")
		}})
	err := m.run(context.Background())
	if err == nil || err.Error() != "controller bad-controller: boom" {
		t.Errorf("run: %v", err)
	}
	if len(ran) != 0 {
		t.Error("a controller ran although another could not be built")
	}
}

// TestRunControllers: built controllers run with their worker counts until
// ctx ends; skipped and unimplemented ones are logged; a controller whose
// Run fails fails its health check, the others' pass.
func TestRunControllers(t *testing.T) {
	ran := make(chan int, 2)
	cc := make(chan Context, 1)
	m, log := newTestManager(
		Descriptor{Name: "busy-controller", Workers: func(o *Options) int { return 5 },
			New: func(_ context.Context, c Context) (controller.Controller, error) {
				cc <- c
				return &fakeController{name: "busy", workers: ran}, nil
			}},
		Descriptor{Name: "broken-controller", New: func(context.Context, Context) (controller.Controller, error) {
			return &fakeController{name: "broken", err: errors.New("cannot work"), workers: ran}, nil
		}},
		Descriptor{Name: "idle-controller", New: func(context.Context, Context) (controller.Controller, error) { return nil, nil }},
		Descriptor{Name: "future-controller"})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- m.run(ctx) }()
	got := map[int]bool{<-ran: true, <-ran: true}
	if !got[5] || !got[1] {
		t.Errorf("workers %v, want 5 and 1", got)
	}
	c := <-cc
	if c.Options != m.opts || c.InformerFactory == nil || c.ClientBuilder == nil || c.Events != m.events || c.Clock == nil {
		t.Errorf("context %+v", c)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("run: %v", err)
	}
	want := `msg="starting controllers" controllers="[busy-controller broken-controller]" skipped=[idle-controller] notImplementedYet=[future-controller]`
	if !strings.Contains(log.String(), want) {
		t.Errorf("log:\n%s\nwant the line %s", log, want)
	}
	e := m.endpoints(nil)
	if len(e.Live) != 3 {
		t.Fatalf("checks %v, want one per implemented controller", e.Live)
	}
	req := httptest.NewRequest("GET", "/healthz", nil)
	for _, check := range e.Live {
		err := check.Check(req)
		if (check.Name == "broken-controller") != (err != nil) {
			t.Errorf("check %s: %v", check.Name, err)
		}
	}
}

// TestManagerClientBuilder: without --use-service-account-credentials the
// controllers get root's credentials; with it, no credentials of root's
// and their service account's user in the user agent (the account is
// looked up with root's).
func TestManagerClientBuilder(t *testing.T) {
	var lookups []string
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		lookups = append(lookups, r.Method+" "+r.URL.Path+" "+r.Header.Get("Authorization"))
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"kind":"ServiceAccount","apiVersion":"v1","metadata":{"namespace":"kube-system","name":"job-controller"}}`))
	}))
	defer api.Close()
	for _, useSA := range []bool{false, true} {
		m, _ := newTestManager()
		m.root = &rest.Config{Host: api.URL, BearerToken: "root"}
		m.opts.UseServiceAccountCredentials = useSA
		b, err := m.clientBuilder(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		cfg, err := b("job-controller")
		if err != nil {
			t.Fatal(err)
		}
		wantToken, wantAgent := "root", "/job-controller"
		if useSA {
			wantToken, wantAgent = "", "/system:serviceaccount:kube-system:job-controller"
		}
		if cfg.BearerToken != wantToken || !strings.HasSuffix(cfg.UserAgent, wantAgent) {
			t.Errorf("useSA=%v: token %q, user agent %q", useSA, cfg.BearerToken, cfg.UserAgent)
		}
	}
	if want := []string{"GET /api/v1/namespaces/kube-system/serviceaccounts/job-controller Bearer root"}; !slices.Equal(lookups, want) {
		t.Errorf("requests %q, want %q", lookups, want)
	}
}
