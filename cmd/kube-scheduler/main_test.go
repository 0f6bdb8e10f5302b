package main

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"testing"

	"github.com/kinc-dev/kinc/pkg/daemon"
)

// execute runs the command with klog left alone (it is process-global and
// the tests run in parallel).
func execute(args ...string) (code int, stdout, stderr string) {
	c := command()
	c.Klog = func(*slog.Logger, int) {}
	var out, errOut bytes.Buffer
	code = c.Execute(context.Background(), args, &out, &errOut)
	return code, out.String(), errOut.String()
}

// TestCommandLine: --help and --version exit 0 on stdout; an unknown flag
// (upstream's removed --port included) or a stray argument exits 2 naming
// it, before anything runs.
func TestCommandLine(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		args           []string
		code           int
		stdout, stderr string
	}{
		{[]string{"--help"}, daemon.ExitOK, "--leader-elect-lease-duration duration", ""},
		{[]string{"-h"}, daemon.ExitOK, "--secure-port int", ""},
		{[]string{"--version"}, daemon.ExitOK, "Kubernetes v1.37.2\n", ""},
		{[]string{"--bogus"}, daemon.ExitUsage, "", "kube-scheduler: unknown flag: --bogus"},
		{[]string{"--leader-elect=true", "--port=10251"}, daemon.ExitUsage, "", "unknown flag: --port"},
		{[]string{"--v=2", "extra-arg"}, daemon.ExitUsage, "", `unexpected arguments ["extra-arg"]`},
	} {
		code, stdout, stderr := execute(tc.args...)
		if code != tc.code || !strings.Contains(stdout, tc.stdout) || !strings.Contains(stderr, tc.stderr) {
			t.Errorf("%q: code %d, stdout %q, stderr %q; want %d, %q, %q", tc.args, code, stdout, stderr, tc.code, tc.stdout, tc.stderr)
		}
	}
}

// TestBadConfigIsAnError: a configuration that cannot work fails (exit 1)
// before the scheduler connects, saying why.
func TestBadConfigIsAnError(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--config=/nonexistent/config.yaml"}, "reading scheduler configuration"},
		{[]string{"--leader-elect-resource-lock=endpoints", "--kubeconfig=/nonexistent"}, "leases"},
	} {
		if code, _, stderr := execute(tc.args...); code != daemon.ExitError || !strings.Contains(stderr, tc.want) {
			t.Errorf("%q: code %d, stderr %q; want %d and %q", tc.args, code, stderr, daemon.ExitError, tc.want)
		}
	}
}
