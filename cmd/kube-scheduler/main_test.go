package main

import (
	"strings"
	"testing"

	"github.com/kinc-dev/kinc/pkg/daemon"
	"github.com/kinc-dev/kinc/pkg/daemon/daemontest"
)

// execute runs the command (see daemontest.Execute).
func execute(args ...string) (code int, stdout, stderr string) {
	return daemontest.Execute(command(), args...)
}

// TestCommandLine: --help and --version exit 0 on stdout; an unknown flag
// (upstream's removed --port included) or a stray argument exits 2 naming
// it, before anything runs.
func TestCommandLine(t *testing.T) {
	t.Parallel()
	daemontest.Check(t, command,
		daemontest.Case{Args: []string{"--help"}, Code: daemon.ExitOK, Stdout: "--leader-elect-lease-duration duration"},
		daemontest.Case{Args: []string{"-h"}, Code: daemon.ExitOK, Stdout: "--secure-port int"},
		daemontest.Case{Args: []string{"--version"}, Code: daemon.ExitOK, Stdout: "Kubernetes v1.37.2\n"},
		daemontest.Case{Args: []string{"--bogus"}, Code: daemon.ExitUsage, Stderr: "kube-scheduler: unknown flag: --bogus"},
		daemontest.Case{Args: []string{"--leader-elect=true", "--port=10251"}, Code: daemon.ExitUsage, Stderr: "unknown flag: --port"},
		daemontest.Case{Args: []string{"--v=2", "extra-arg"}, Code: daemon.ExitUsage, Stderr: `unexpected arguments ["extra-arg"]`},
	)
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
