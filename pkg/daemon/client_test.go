package daemon

import (
	"context"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	clocktesting "k8s.io/utils/clock/testing"
)

const testKubeconfig = `apiVersion: v1
kind: Config
clusters:
- name: c
  cluster: {server: "https://10.0.0.1:6443", insecure-skip-tls-verify: true}
users:
- name: u
  user: {token: abc}
contexts:
- name: c
  context: {cluster: c, user: u}
current-context: c
`

// waitForWaiters returns once something waits on clk (the poll timer and
// the deadline).
func waitForWaiters(clk *clocktesting.FakeClock) {
	for !clk.HasWaiters() {
		time.Sleep(time.Millisecond)
	}
}

// TestRESTConfigWaitsForTheKubeconfig: the file appears after the daemon
// started; the client is built from it once it does.
func TestRESTConfigWaitsForTheKubeconfig(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "kubelet.conf")
	clk := clocktesting.NewFakeClock(time.Now())
	var log syncBuffer
	o := ClientOptions{Kubeconfig: path, WaitForKubeconfig: time.Minute, Clock: clk, UserAgent: "kinc-test", QPS: 50, Burst: 100,
		ContentType: "application/vnd.kubernetes.protobuf"}
	type result struct {
		host string
		err  error
	}
	done := make(chan result, 1)
	go func() {
		cfg, err := o.RESTConfig(context.Background(), NewLogger(&log, 0))
		if err != nil {
			done <- result{err: err}
			return
		}
		if cfg.UserAgent != "kinc-test" || cfg.QPS != 50 || cfg.Burst != 100 || cfg.ContentType != "application/vnd.kubernetes.protobuf" {
			done <- result{err: errors.New("options not applied")}
			return
		}
		done <- result{host: cfg.Host}
	}()
	waitForWaiters(clk)
	if !strings.Contains(log.String(), "waiting for the kubeconfig") || !strings.Contains(log.String(), path) {
		t.Errorf("no wait line: %q", log.String())
	}
	if err := os.WriteFile(path, []byte(testKubeconfig), 0o600); err != nil {
		t.Fatal(err)
	}
	clk.Step(FilePollInterval)
	select {
	case r := <-done:
		if r.err != nil || r.host != "https://10.0.0.1:6443" {
			t.Errorf("RESTConfig: %+v", r)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("RESTConfig did not notice the file")
	}
}

func TestWaitForFileTimesOut(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "absent.conf")
	clk := clocktesting.NewFakeClock(time.Now())
	done := make(chan error, 1)
	go func() {
		done <- WaitForFile(context.Background(), "the kubeconfig", path, 5*time.Second, clk, slog.New(slog.DiscardHandler))
	}()
	for range 5 {
		waitForWaiters(clk)
		clk.Step(FilePollInterval)
	}
	select {
	case err := <-done:
		if err == nil || !strings.Contains(err.Error(), "did not appear within 5s") {
			t.Errorf("err %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("WaitForFile did not time out")
	}
}

func TestWaitForFileStopsWithContext(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	err := WaitForFile(ctx, "the kubeconfig", filepath.Join(t.TempDir(), "absent"), time.Hour, nil, slog.New(slog.DiscardHandler))
	if !errors.Is(err, context.Canceled) {
		t.Errorf("err %v", err)
	}
	// An existing file returns at once, without a clock.
	if err := WaitForFile(context.Background(), "x", t.TempDir(), time.Hour, nil, slog.New(slog.DiscardHandler)); err != nil {
		t.Error(err)
	}
}

func TestRESTConfigWithoutWaiting(t *testing.T) {
	t.Parallel()
	o := ClientOptions{Kubeconfig: filepath.Join(t.TempDir(), "absent.conf")}
	if _, err := o.RESTConfig(context.Background(), slog.New(slog.DiscardHandler)); err == nil || !strings.Contains(err.Error(), "absent.conf") {
		t.Errorf("missing kubeconfig: %v", err)
	}
	master := ClientOptions{Master: "https://192.0.2.1:6443"}
	cfg, err := master.RESTConfig(context.Background(), slog.New(slog.DiscardHandler))
	if err != nil || cfg.Host != "https://192.0.2.1:6443" {
		t.Errorf("--master: %v %v", cfg, err)
	}
}
