package daemon

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/spf13/pflag"
	"k8s.io/klog/v2"
	clocktesting "k8s.io/utils/clock/testing"
)

// testCommand has one flag of its own and a Run that reports what it got.
func testCommand(run func(ctx context.Context, env Env) error) (*Command, *string) {
	name := new(string)
	return &Command{
		Name: "kube-thing", Short: "kube-thing does things.", Version: "Kubernetes v1.37.2",
		AddFlags: func(fs *pflag.FlagSet) { fs.StringVar(name, "name", "default", "a name") },
		Run:      run,
		Klog:     func(*slog.Logger, int) {}, // klog is global: see TestExecuteRoutesKlog
	}, name
}

func TestExecuteExitCodes(t *testing.T) {
	t.Parallel()
	ok := func(context.Context, Env) error { return nil }
	for _, tc := range []struct {
		args           []string
		run            func(context.Context, Env) error
		code           int
		stdout, stderr string
	}{
		{[]string{"--help"}, ok, ExitOK, "Usage:\n  kube-thing [flags]", ""},
		{[]string{"-h"}, ok, ExitOK, "--name string", ""},
		{[]string{"--version"}, ok, ExitOK, "Kubernetes v1.37.2\n", ""},
		{[]string{"--bogus"}, ok, ExitUsage, "", "kube-thing: unknown flag: --bogus\nRun 'kube-thing --help' for usage."},
		{[]string{"-x"}, ok, ExitUsage, "", "unknown shorthand flag: 'x' in -x"},
		{[]string{"--v=notanumber"}, ok, ExitUsage, "", `invalid argument "notanumber" for "-v, --v"`},
		{[]string{"--name=a", "stray"}, ok, ExitUsage, "", `kube-thing: unexpected arguments ["stray"]`},
		{nil, ok, ExitOK, "", ""},
		{[]string{"--v=4"}, func(_ context.Context, env Env) error {
			if env.Verbosity != 4 || !env.Logger.Enabled(context.Background(), -4) {
				return fmt.Errorf("verbosity %d", env.Verbosity)
			}
			return nil
		}, ExitOK, "", ""},
		{nil, func(context.Context, Env) error { return errors.New("boom") }, ExitError, "", "kube-thing: boom\n"},
	} {
		c, _ := testCommand(tc.run)
		var stdout, stderr bytes.Buffer
		code := c.Execute(context.Background(), tc.args, &stdout, &stderr)
		if code != tc.code || !strings.Contains(stdout.String(), tc.stdout) || !strings.Contains(stderr.String(), tc.stderr) {
			t.Errorf("%q: code %d, stdout %q, stderr %q; want %d, %q, %q", tc.args, code, stdout.String(), stderr.String(),
				tc.code, tc.stdout, tc.stderr)
		}
	}
}

func TestExecutePassesFlags(t *testing.T) {
	t.Parallel()
	var got string
	var given bool
	c, name := testCommand(nil)
	c.Run = func(_ context.Context, env Env) error {
		got, given = *name, env.Flags.Changed("name")
		return nil
	}
	if code := c.Execute(context.Background(), []string{"--name", "x"}, &bytes.Buffer{}, &bytes.Buffer{}); code != ExitOK || got != "x" || !given {
		t.Errorf("code %d, name %q, changed %v", code, got, given)
	}
}

func TestExecuteWithoutVersion(t *testing.T) {
	t.Parallel()
	c, _ := testCommand(func(context.Context, Env) error { return nil })
	c.Version = ""
	var stderr bytes.Buffer
	if code := c.Execute(context.Background(), []string{"--version"}, &bytes.Buffer{}, &stderr); code != ExitUsage {
		t.Errorf("--version without a version: code %d (%s)", code, stderr.String())
	}
}

// TestExecuteStopsOnCancel: a run that returns after its context ended
// (with or without context.Canceled) is a clean stop.
func TestExecuteStopsOnCancel(t *testing.T) {
	t.Parallel()
	for _, ret := range []func(ctx context.Context) error{
		func(context.Context) error { return nil },
		func(ctx context.Context) error { return fmt.Errorf("watching: %w", ctx.Err()) },
	} {
		ctx, cancel := context.WithCancel(context.Background())
		c, _ := testCommand(func(ctx context.Context, _ Env) error { <-ctx.Done(); return ret(ctx) })
		started := make(chan int)
		var stderr bytes.Buffer
		go func() { started <- c.Execute(ctx, nil, &bytes.Buffer{}, &stderr) }()
		cancel()
		if code := <-started; code != ExitOK {
			t.Errorf("code %d, stderr %q", code, stderr.String())
		}
	}
}

// TestExecuteBoundsShutdown: a run that does not return within the
// shutdown timeout makes Execute give up with ExitError.
func TestExecuteBoundsShutdown(t *testing.T) {
	t.Parallel()
	clk := clocktesting.NewFakeClock(time.Now())
	hang := make(chan struct{})
	defer close(hang)
	c, _ := testCommand(func(context.Context, Env) error { <-hang; return nil })
	c.Clock, c.ShutdownTimeout = clk, 10*time.Second
	ctx, cancel := context.WithCancel(context.Background())
	var stderr syncBuffer
	done := make(chan int, 1)
	go func() { done <- c.Execute(ctx, nil, &bytes.Buffer{}, &stderr) }()
	cancel()
	for !clk.HasWaiters() {
		time.Sleep(time.Millisecond)
	}
	clk.Step(9 * time.Second)
	select {
	case code := <-done:
		t.Fatalf("gave up before the timeout: %d", code)
	case <-time.After(20 * time.Millisecond):
	}
	clk.Step(time.Second)
	if code := <-done; code != ExitError || !strings.Contains(stderr.String(), "graceful shutdown did not finish within 10s") {
		t.Errorf("code %d, stderr %q", code, stderr.String())
	}
}

// TestExecuteRoutesKlog: by default what a daemon's libraries log through
// klog lands in the daemon's log. Not parallel: klog is global.
func TestExecuteRoutesKlog(t *testing.T) {
	c, _ := testCommand(func(context.Context, Env) error {
		klog.V(2).InfoS("from client-go", "resource", "pods")
		klog.V(3).InfoS("too verbose")
		return nil
	})
	c.Klog = nil
	defer klog.ClearLogger()
	var stderr syncBuffer
	if code := c.Execute(context.Background(), []string{"-v", "2"}, &bytes.Buffer{}, &stderr); code != ExitOK {
		t.Fatalf("code %d", code)
	}
	if out := stderr.String(); !strings.Contains(out, `msg="from client-go" resource=pods`) || strings.Contains(out, "too verbose") {
		t.Errorf("log %q", out)
	}
}
