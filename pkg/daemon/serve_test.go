package daemon

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kinc-dev/kinc/pkg/pki"
)

func get(t *testing.T, h http.Handler, url string) (int, string) {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, url, nil))
	return rec.Code, rec.Body.String()
}

func TestEndpoints(t *testing.T) {
	t.Parallel()
	var synced atomic.Bool
	e := Endpoints{
		Live: []HealthCheck{{Name: "leaderElection", Check: func(*http.Request) error { return nil }}},
		Ready: []HealthCheck{{Name: "informer-sync", Check: func(*http.Request) error {
			if !synced.Load() {
				return errors.New("not yet")
			}
			return nil
		}}},
	}
	h := e.Handler()
	for _, tc := range []struct {
		url  string
		code int
		body string
	}{
		{"/healthz", 200, "ok"},
		{"/livez", 200, "ok"},
		{"/livez?verbose", 200, "[+]ping ok\n[+]leaderElection ok\nlivez check passed\n"},
		{"/livez/leaderElection", 200, "ok"},
		{"/readyz", 500, "[+]ping ok\n[+]leaderElection ok\n[-]informer-sync failed: reason withheld\nreadyz check failed\n"},
		{"/readyz/informer-sync", 500, "[-]informer-sync failed: reason withheld\nreadyz/informer-sync check failed\n"},
		{"/readyz?exclude=informer-sync", 200, "ok"},
		{"/readyz?exclude=informer-sync&verbose", 200, "[+]informer-sync excluded: ok\n"},
	} {
		code, body := get(t, h, tc.url)
		if code != tc.code || !strings.Contains(body, tc.body) {
			t.Errorf("%s: %d %q, want %d %q", tc.url, code, body, tc.code, tc.body)
		}
	}
	synced.Store(true)
	if code, body := get(t, h, "/readyz"); code != 200 || body != "ok" {
		t.Errorf("/readyz once synced: %d %q", code, body)
	}
	if code, body := get(t, h, "/metrics"); code != 200 || !strings.Contains(body, "go_goroutines") {
		t.Errorf("/metrics: %d %.200q", code, body)
	}
	own := Endpoints{Metrics: http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { fmt.Fprint(w, "mine 1\n") })}
	if _, body := get(t, own.Handler(), "/metrics"); body != "mine 1\n" {
		t.Errorf("component metrics not served: %q", body)
	}
}

func TestSecureServingValidate(t *testing.T) {
	t.Parallel()
	for _, bad := range []SecureServingOptions{
		{BindAddress: "0.0.0.0", SecurePort: 70000},
		{BindAddress: "not-an-ip", SecurePort: 1},
		{BindAddress: "0.0.0.0", SecurePort: 1, TLSCertFile: "a"},
	} {
		if bad.Validate() == nil {
			t.Errorf("%+v accepted", bad)
		}
	}
	good := NewSecureServingOptions(10259, "kube-scheduler")
	if err := good.Validate(); err != nil || good.Address() != "0.0.0.0:10259" {
		t.Errorf("defaults: %v %s", err, good.Address())
	}
}

// TestServe serves over real HTTPS with a self-signed certificate kept in
// --cert-dir, and stops when the context ends.
func TestServe(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	o := NewSecureServingOptions(0, "kube-thing")
	o.BindAddress, o.CertDir = "127.0.0.1", dir
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	logger := slog.New(slog.DiscardHandler)
	if addr, err := o.Serve(ctx, Endpoints{}, logger); addr != nil || err != nil {
		t.Fatalf("--secure-port 0 served: %v %v", addr, err)
	}
	o.SecurePort = freePort(t)
	addr, err := o.Serve(ctx, Endpoints{Live: []HealthCheck{{Name: "broken", Check: func(*http.Request) error { return errors.New("x") }}}}, logger)
	if err != nil {
		t.Fatal(err)
	}
	crtPEM, err := os.ReadFile(filepath.Join(dir, "kube-thing.crt"))
	if err != nil {
		t.Fatal(err)
	}
	pool, err := pki.CertPoolFromPEM(crtPEM)
	if err != nil {
		t.Fatal(err)
	}
	client := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, ServerName: "localhost"}}}
	for path, want := range map[string]string{"/livez": "[-]broken failed", "/healthz": "healthz check failed", "/metrics": "process_"} {
		resp, err := client.Get("https://" + addr.String() + path)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if wantCode := map[bool]int{true: 200, false: 500}[path == "/metrics"]; resp.StatusCode != wantCode || !strings.Contains(string(body), want) {
			t.Errorf("%s: %d %.300q", path, resp.StatusCode, body)
		}
	}
	// The pair in --cert-dir is reused.
	first, err := pki.ParseCertPEM(crtPEM)
	if err != nil {
		t.Fatal(err)
	}
	again, err := o.Certificate()
	if err != nil {
		t.Fatal(err)
	}
	if !again.Leaf.Equal(first) {
		t.Error("self-signed pair not kept in --cert-dir")
	}
	o2 := o
	if _, err := o2.Serve(ctx, Endpoints{}, logger); err == nil || !strings.Contains(err.Error(), "listening on") {
		t.Errorf("second listener on the same port: %v", err)
	}
}

// TestServeTLSStops: once the context ends the server shuts down and
// reports nil.
func TestServeTLSStops(t *testing.T) {
	t.Parallel()
	kp, err := pki.SelfSignedServing(pki.Options{}, "localhost")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	addr, done, err := ServeTLS(ctx, "127.0.0.1:0", &tls.Config{Certificates: []tls.Certificate{kp.TLSCertificate()}},
		http.NotFoundHandler(), slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("shutdown: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("server did not stop")
	}
	if c, err := net.Dial("tcp", addr.String()); err == nil {
		c.Close()
		t.Error("still listening after shutdown")
	}
}

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

func TestCertificateFromFiles(t *testing.T) {
	t.Parallel()
	kp, err := pki.SelfSignedServing(pki.Options{}, "example")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	o := SecureServingOptions{TLSCertFile: filepath.Join(dir, "c.crt"), TLSPrivateKeyFile: filepath.Join(dir, "c.key")}
	if _, err := o.Certificate(); err == nil || !strings.Contains(err.Error(), "--tls-cert-file") {
		t.Errorf("missing files: %v", err)
	}
	if err := pki.WriteFiles(dir, []pki.File{{Path: "c.crt", Data: kp.CertPEM, Mode: 0o644}, {Path: "c.key", Data: kp.KeyPEM, Mode: 0o600}}); err != nil {
		t.Fatal(err)
	}
	c, err := o.Certificate()
	if err != nil {
		t.Fatal(err)
	}
	leaf, err := x509.ParseCertificate(c.Certificate[0])
	if err != nil || leaf.DNSNames[0] != "example" {
		t.Errorf("loaded %v %v", leaf, err)
	}
}
