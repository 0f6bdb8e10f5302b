package server

import (
	"context"
	"crypto/tls"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	v1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/kinc-dev/kinc/pkg/pki"
)

const criLog = `2026-01-01T00:00:01.000000001Z stdout F line one
2026-01-01T00:00:02.000000002Z stderr F line two
2026-01-01T00:00:03.000000003Z stdout P part
2026-01-01T00:00:03.100000000Z stdout F ial three
garbage
2026-01-01T00:00:04.000000004Z stdout F line four
`

// fakeProvider serves one log file for default/p/c; pods and runtime are
// what PodLookup answers.
type fakeProvider struct {
	path    string
	pods    []*v1.Pod
	runtime map[types.UID]*RuntimePod
}

func (f *fakeProvider) Pods() []*v1.Pod {
	return []*v1.Pod{{ObjectMeta: metav1.ObjectMeta{Name: "p", Namespace: "default"}}}
}

func (f *fakeProvider) ContainerLog(_ context.Context, ns, pod, container string, previous bool) (string, func() bool, error) {
	if ns != "default" || pod != "p" || container != "c" || previous {
		return "", nil, ErrNotFound
	}
	return f.path, func() bool { return false }, nil
}

func TestWriteLogs(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "0.log")
	os.WriteFile(path, []byte(criLog), 0o644)
	i64 := func(n int64) *int64 { return &n }
	for _, tc := range []struct {
		name string
		opts LogOptions
		want string
	}{
		{"all", LogOptions{}, "line one\nline two\npartial three\nline four\n"},
		{"tail 2", LogOptions{TailLines: i64(2)}, "line four\n"},
		{"tail 4", LogOptions{TailLines: i64(4)}, "partial three\nline four\n"},
		{"tail 0", LogOptions{TailLines: i64(0)}, ""},
		{"limit", LogOptions{LimitBytes: i64(12)}, "line one\nlin"},
		{"timestamps", LogOptions{TailLines: i64(1), Timestamps: true}, "2026-01-01T00:00:04.000000004Z line four\n"},
		{"since", LogOptions{Since: time.Date(2026, 1, 1, 0, 0, 3, 50, time.UTC)}, "ial three\nline four\n"},
		{"follow ends with container", LogOptions{Follow: true}, "line one\nline two\npartial three\nline four\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var b strings.Builder
			if err := WriteLogs(context.Background(), path, tc.opts, &b, func() bool { return false }); err != nil {
				t.Fatal(err)
			}
			if b.String() != tc.want {
				t.Errorf("got %q, want %q", b.String(), tc.want)
			}
		})
	}
}

// TestServerRequiresClientCert: with the client CA, no anonymous access
// and AlwaysAllow, a certificate from the CA is served; none, or one from
// another CA, is upstream's 401 "Unauthorized".
func TestServerRequiresClientCert(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	ca, err := pki.NewCA("kubernetes", pki.Options{})
	if err != nil {
		t.Fatal(err)
	}
	serving, _ := ca.Issue(pki.ServerSpec("node", []string{"localhost"}, []net.IP{net.ParseIP("127.0.0.1")}))
	client, _ := ca.Issue(pki.ClientSpec("kube-apiserver-kubelet-client", "system:masters"))
	otherCA, _ := pki.NewCA("other", pki.Options{})
	stranger, _ := otherCA.Issue(pki.ClientSpec("stranger"))
	write := func(name string, data []byte) string {
		p := filepath.Join(dir, name)
		os.WriteFile(p, data, 0o600)
		return p
	}
	cfg, err := TLSConfig(write("s.crt", serving.CertPEM), write("s.key", serving.KeyPEM))
	if err != nil {
		t.Fatal(err)
	}
	filter, err := Auth{NodeName: "node", ClientCAFile: write("ca.crt", ca.CertPEM), Mode: "AlwaysAllow"}.Filter()
	if err != nil {
		t.Fatal(err)
	}
	logPath := write("0.log", []byte(criLog))
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	addr := ln.Addr().String()
	ln.Close()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	go Serve(ctx, addr, cfg, filter.Wrap(NewHandler(&fakeProvider{path: logPath}, nil, logger)), logger)
	get := func(kp *pki.KeyPair, path string) (int, string, error) {
		tc := &tls.Config{RootCAs: ca.Pool()}
		if kp != nil {
			tc.Certificates = []tls.Certificate{kp.TLSCertificate()}
		}
		c := &http.Client{Transport: &http.Transport{TLSClientConfig: tc}, Timeout: 5 * time.Second}
		resp, err := c.Get("https://" + addr + path)
		if err != nil {
			return 0, "", err
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b), nil
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		if _, _, err := get(client, "/healthz"); err == nil || time.Now().After(deadline) {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if code, body, err := get(client, "/healthz"); err != nil || code != 200 || body != "ok" {
		t.Errorf("/healthz = %d %q %v", code, body, err)
	}
	if code, body, _ := get(client, "/containerLogs/default/p/c?tailLines=1"); code != 200 || body != "line four\n" {
		t.Errorf("containerLogs = %d %q", code, body)
	}
	if code, _, _ := get(client, "/containerLogs/default/p/nope"); code != 404 {
		t.Errorf("unknown container = %d, want 404", code)
	}
	if code, body, _ := get(client, "/pods"); code != 200 || !strings.Contains(body, `"kind":"PodList"`) {
		t.Errorf("/pods = %d %q", code, body)
	}
	if code, body, err := get(nil, "/healthz"); err != nil || code != 401 || body != "Unauthorized" {
		t.Errorf("request without a client certificate: %d %q %v, want 401 Unauthorized", code, body, err)
	}
	if code, body, err := get(stranger, "/healthz"); err != nil || code != 401 || body != "Unauthorized" {
		t.Errorf("request with a certificate from another CA: %d %q %v, want 401 Unauthorized", code, body, err)
	}
}

func TestWriteLogsFollow(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "0.log")
	os.WriteFile(path, []byte("2026-01-01T00:00:01Z stdout F first\n"), 0o644)
	var running atomic.Bool
	running.Store(true)
	var out syncBuilder
	done := make(chan error)
	go func() {
		done <- WriteLogs(context.Background(), path, LogOptions{Follow: true}, &out, running.Load)
	}()
	f, _ := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	f.WriteString("2026-01-01T00:00:02Z stdout F second\n")
	f.WriteString("2026-01-01T00:00:03Z stderr F last")
	time.Sleep(250 * time.Millisecond)
	f.WriteString("\n")
	f.Close()
	running.Store(false)
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("follow did not end after the container stopped")
	}
	if got := out.String(); got != "first\nsecond\nlast\n" {
		t.Errorf("followed %q", got)
	}
}

type syncBuilder struct {
	mu sync.Mutex
	b  strings.Builder
}

func (s *syncBuilder) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuilder) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
